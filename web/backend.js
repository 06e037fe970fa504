// Which WebAssembly build of kiln runs, where its files are, and why it was picked.
//
// Every build needs WebAssembly SIMD128. Builds are listed in preference order; the
// threaded one (kiln-simd-threads.*, compiled with -pthread) is only picked where
// SharedArrayBuffer exists and the page is cross-origin isolated (COOP same-origin +
// COEP require-corp; always in Node), and not when options turn threads off
// (`threads: false` or `numThreads: 1`); otherwise the next one, and the reason is
// reported in session.backendInfo.
import { kilnError } from './errors.js';

export const BUILDS = Object.freeze([
  Object.freeze({
    name: 'simd-threads', js: 'kiln-simd-threads.js', wasm: 'kiln-simd-threads.wasm',
    worker: 'kiln-simd-threads.worker.js', threads: true, shipped: true,
  }),
  Object.freeze({ name: 'simd', js: 'kiln.js', wasm: 'kiln.wasm', threads: false, shipped: true }),
]);

// Largest numThreads accepted (the C++ Session's limit).
export const MAX_THREADS = 256;

// (module (func (result v128) (i32x4.splat (i32.const 0)))), from wat2wasm.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0,
  65, 0, 253, 17, 11]);

const isNodeRealm = () =>
  typeof process === 'object' && process !== null && typeof process.versions?.node === 'string' &&
  typeof window === 'undefined' && typeof WorkerGlobalScope === 'undefined';

/** What the current realm offers: {simd, sharedArrayBuffer, crossOriginIsolated, node}. */
export function detectEnvironment() {
  const node = isNodeRealm();
  let simd = false;
  try {
    simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    simd = false;
  }
  return {
    simd,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    // Node has no COOP/COEP: shared memory is always allowed there.
    crossOriginIsolated: node || globalThis.crossOriginIsolated === true,
    node,
  };
}

/**
 * Checks options.threads / options.numThreads; returns the thread count asked for
 * (0 = automatic). numThreads counts the calling thread: 1 means single-threaded.
 */
export function requestedThreads(options = {}) {
  const { threads, numThreads } = options;
  if (threads !== undefined && typeof threads !== 'boolean')
    throw kilnError('invalid_argument', `options.threads must be true or false, got ${typeof threads}`);
  if (numThreads !== undefined && !(Number.isInteger(numThreads) && numThreads >= 0 && numThreads <= MAX_THREADS))
    throw kilnError('invalid_argument', `options.numThreads must be an integer from 0 (automatic) to ${MAX_THREADS}, got ${numThreads}`);
  if (threads === false) return 1;
  return numThreads ?? 0;
}

// Why the options rule threads out, or null.
function threadsTurnedOff(options) {
  if (options.threads === false) return 'threads are turned off by options.threads = false';
  if (options.numThreads === 1) return 'options.numThreads is 1';
  return null;
}

// Why a threaded build cannot run here, or null when it can.
function whyNoThreads(build, env) {
  if (!env.crossOriginIsolated)
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
  if (!env.sharedArrayBuffer) return 'SharedArrayBuffer is not available';
  if (!build.shipped) return `this package does not ship the ${build.name} build yet`;
  return null;
}

/**
 * Picks a build. options.build: 'auto' (default) or a build name to insist on.
 * Returns { build, reason } where reason says why it was picked (and why better ones were not).
 */
export function selectBuild(options = {}, env = detectEnvironment()) {
  const requested = options.build ?? 'auto';
  requestedThreads(options);
  if (!env.simd)
    throw kilnError('unsupported', 'this JavaScript engine lacks WebAssembly SIMD (128-bit), which every kiln build needs');
  if (requested !== 'auto') {
    const build = BUILDS.find((b) => b.name === requested);
    if (!build)
      throw kilnError('invalid_argument', `unknown build '${requested}'; expected 'auto' or one of ${BUILDS.map((b) => b.name).join(', ')}`);
    if (!build.shipped) throw kilnError('unsupported', `this package does not ship the ${build.name} build`);
    // (numThreads: 1 with build 'simd-threads' is allowed: the threaded build on one thread.)
    const why = build.threads ? (whyNoThreads(build, env) ?? (options.threads === false ? threadsTurnedOff(options) : null)) : null;
    if (why) throw kilnError('unsupported', `the ${build.name} build cannot run here: ${why}`);
    return { build, reason: `${build.name} requested by options.build` };
  }
  const skipped = [];
  for (const build of BUILDS) {
    const why = build.threads ? (threadsTurnedOff(options) ?? whyNoThreads(build, env)) : build.shipped ? null : 'not shipped';
    if (!why) {
      const because = !build.threads ? 'WebAssembly SIMD is available'
        : env.node ? 'Node.js always allows shared memory and threads'
        : 'SharedArrayBuffer and cross-origin isolation are available';
      return { build, reason: [`${build.name}: ${because}`, ...skipped].join('; ') };
    }
    skipped.push(`not ${build.name}: ${why}`);
  }
  throw kilnError('unsupported', `no kiln build can run here (${skipped.join('; ')})`);
}

// The shipped .wasm as a literal `new URL(..., import.meta.url)`: Vite and webpack see it,
// emit the file and rewrite the URL; other builds' files sit beside it in web/dist.
const shippedWasm = () => new URL('./dist/kiln.wasm', import.meta.url);

function baseHref() {
  return globalThis.location?.href;
}

/**
 * The URLs of a build's files. wasmPaths overrides where they are: a directory URL
 * (string or URL) for the .wasm file, or an object mapping file names ('kiln.wasm',
 * 'kiln.js', 'kiln-simd-threads.worker.js', ...) to URLs. Default: web/dist/ beside this
 * module; the threaded build's pthread worker script sits beside its glue unless mapped.
 * Returns { js: URL | null (null = the package's own glue), wasm: URL, worker?: URL }.
 */
export function buildUrls(build, wasmPaths) {
  const urls = baseUrls(build, wasmPaths);
  if (build.worker) {
    const mapped = wasmPaths !== null && typeof wasmPaths === 'object' && !(wasmPaths instanceof URL) ? wasmPaths[build.worker] : undefined;
    urls.worker = mapped !== undefined ? toUrl(mapped, `wasmPaths['${build.worker}']`) : new URL(build.worker, urls.js);
  }
  return urls;
}

function toUrl(v, what) {
  try {
    return new URL(v instanceof URL ? v.href : String(v), baseHref());
  } catch (e) {
    throw kilnError('invalid_argument', `${what} is not a valid URL: ${e.message}`);
  }
}

function baseUrls(build, wasmPaths) {
  const own = (file) => (file === 'kiln.wasm' ? shippedWasm() : new URL(file, shippedWasm()));
  if (wasmPaths === undefined || wasmPaths === null) return { js: build.name === 'simd' ? null : own(build.js), wasm: own(build.wasm) };
  if (typeof wasmPaths === 'string' || wasmPaths instanceof URL) {
    let dir = String(wasmPaths instanceof URL ? wasmPaths.href : wasmPaths);
    if (!dir.endsWith('/')) dir += '/';
    let wasm;
    try {
      wasm = new URL(build.wasm, new URL(dir, baseHref()));
    } catch (e) {
      throw kilnError('invalid_argument', `wasmPaths '${dir}' is not a valid URL: ${e.message}`);
    }
    return { js: build.name === 'simd' ? null : own(build.js), wasm };
  }
  if (typeof wasmPaths === 'object') {
    const pick = (file) => (wasmPaths[file] === undefined ? null : toUrl(wasmPaths[file], `wasmPaths['${file}']`));
    return { js: pick(build.js) ?? (build.name === 'simd' ? null : own(build.js)), wasm: pick(build.wasm) ?? own(build.wasm) };
  }
  throw kilnError('invalid_argument', `wasmPaths must be a URL string, a URL or an object, got ${typeof wasmPaths}`);
}
