// Emscripten 3.1.6 calls global fetch() with a file path when instantiating the .wasm;
// Node >= 18 has a fetch that rejects paths. Hide it so the runtime reads the file instead.
var fetch = (typeof process == 'object' && process.versions && process.versions.node) ? undefined : globalThis.fetch;
