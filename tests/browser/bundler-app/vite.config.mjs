// Vite's defaults; only the log level is set, so that any line Vite prints is a warning
// the bundler test fails on.
export default { logLevel: 'warn' };
