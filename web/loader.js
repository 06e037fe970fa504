// Loads the WASM module once per realm and build, and reads model sources into bytes.
// kiln.wasm is found relative to this file (or at options.wasmPaths): read with fs in Node
// (Emscripten 3.1.6's own Node path is broken for ES modules), fetched by the Emscripten
// runtime elsewhere.
import { buildUrls, detectEnvironment, requestedThreads, selectBuild } from './backend.js';
import { KilnError, kilnError } from './errors.js';

export const isNode =
  typeof process === 'object' && process !== null && typeof process.versions?.node === 'string' &&
  typeof window === 'undefined';

// Modules by build files (one per realm and build, shared by all sessions).
const modules = new Map();

// Node only. The specifiers are variables so bundlers leave them alone (Vite would otherwise
// replace the module with an empty browser shim and warn at build time); a browser never
// reaches these imports.
const NODE_FS = 'node:fs/promises';
const NODE_OS = 'node:os';
const NODE_URL = 'node:url';
async function nodeFs() {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_FS);
}

// How the package's own glue (web/dist/kiln.js) is imported, set by the entry module:
// index.js registers a literal dynamic import (bundlers see it; loaded at the first
// Session.create), web/worker.js a static one. So the worker's module graph has no dynamic
// import that bundlers split, and fits every worker format (Vite <= 7 defaults to 'iife').
let importOwnGlue = null;
export function setOwnGlue(load) {
  importOwnGlue = load;
}

async function importGlue(js) {
  if (js === null) {
    if (!importOwnGlue) throw new Error('web/dist/kiln.js is not registered (import the package through web/index.js)');
    return importOwnGlue();
  }
  return import(/* webpackIgnore: true */ /* @vite-ignore */ js.href);
}

async function readWasm(url) {
  if (url.protocol === 'file:') return (await nodeFs()).readFile(url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

// Logical cores of this machine (navigator.hardwareConcurrency; os in Node 20, which has no navigator).
async function hardwareThreads() {
  const n = globalThis.navigator?.hardwareConcurrency;
  if (Number.isInteger(n) && n > 0) return n;
  if (isNode) {
    const os = await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_OS);
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return 1;
}

// Threads a session uses when numThreads is 0 (automatic): the cores, at most 4.
export async function autoThreads() {
  return Math.max(1, Math.min(4, await hardwareThreads()));
}

// Web Workers the threaded module preallocates (one per pthread; a thread needs its worker
// ready before a run blocks the caller): room for two sessions at the automatic count,
// or one at the count asked for, whichever is larger, at most 16.
async function poolWorkers(numThreads) {
  const auto = await autoThreads();
  return Math.min(16, Math.max(1, numThreads - 1, 2 * (auto - 1)));
}

async function instantiate(urls, key, build, numThreads) {
  let createKiln;
  try {
    ({ default: createKiln } = await importGlue(urls.js));
  } catch (e) {
    const what = urls.js ? urls.js.href : 'web/dist/kiln.js';
    throw kilnError('io', `cannot load ${what} (run \`npm run build:wasm\`): ${e.message}`, { cause: e });
  }
  const args = {
    // An abort means a bug in kiln (bad input is an error value, never an abort):
    // drop the dead module so the next Session.create starts a fresh one.
    onAbort: () => {
      modules.delete(key);
    },
  };
  if (isNode) {
    try {
      args.wasmBinary = await readWasm(urls.wasm);
    } catch (e) {
      throw kilnError('io', `cannot read ${urls.wasm.href} (run \`npm run build:wasm\`): ${e.message}`, { cause: e });
    }
  } else {
    args.locateFile = (file) => (file.endsWith('.wasm') ? urls.wasm.href : new URL(file, urls.wasm).href);
  }
  if (build.threads) {
    // Pthread workers import the glue themselves and load the worker script.
    args.mainScriptUrlOrBlob = urls.js.href;
    args.kilnWorkers = await poolWorkers(numThreads);
    // Node loads it through worker_threads as CommonJS: the .cjs copy, by path.
    const worker = isNode ? (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_URL)).fileURLToPath(new URL(urls.worker.href.replace(/\.js$/, '.cjs'))) : urls.worker.href;
    args.locateFile = (file) => (file.endsWith('.worker.js') ? worker : file.endsWith('.wasm') ? urls.wasm.href : new URL(file, urls.wasm).href);
  }
  // In Node, Emscripten's threaded glue sets globalThis.Worker to worker_threads' Worker to
  // start its pthread workers, all preallocated while it loads: put the global back after.
  const savedWorker = isNode && build.threads ? Object.getOwnPropertyDescriptor(globalThis, 'Worker') : null;
  try {
    return await createKiln(args);
  } catch (e) {
    throw kilnError('internal', `cannot instantiate ${urls.wasm.href}: ${e.message ?? e}`, { cause: e });
  } finally {
    if (isNode && build.threads) {
      if (savedWorker) Object.defineProperty(globalThis, 'Worker', savedWorker);
      else delete globalThis.Worker;
    }
  }
}

/**
 * The Emscripten module of the build that options select (options.build, options.wasmPaths).
 * loadBackend resolves to { module, info } where info is the session's backendInfo.
 */
export async function loadBackend(options = {}) {
  const { build, reason } = selectBuild(options);
  const urls = buildUrls(build, options.wasmPaths);
  // The thread count each session asks for (numThreads 0 = automatic is resolved here, so
  // the count does not depend on what the WASM runtime reports about the machine).
  const numThreads = build.threads ? requestedThreads(options) || (await autoThreads()) : 1;
  const key = `${urls.js?.href ?? ''} ${urls.wasm.href}`;
  let entry = modules.get(key);
  if (!entry) {
    const promise = instantiate(urls, key, build, numThreads);
    entry = { promise };
    modules.set(key, entry);
    promise.catch(() => {
      if (modules.get(key) === entry) modules.delete(key);
    });
  }
  const module = await entry.promise;
  const env = detectEnvironment();
  const info = Object.freeze({
    build: build.name,
    threads: build.threads,
    simd: true,
    reason,
    wasmUrl: urls.wasm.href,
    crossOriginIsolated: env.crossOriginIsolated,
    worker: typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope,
  });
  return { module, info, numThreads };
}

// The module of the default build (kept for callers that need only the module).
export async function loadModule(options = {}) {
  return (await loadBackend(options)).module;
}

// Calls into WASM; a trap (a kiln bug, never bad input) becomes an 'internal' KilnError.
export function callWasm(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw kilnError('internal', `kiln.wasm failed: ${e?.message ?? e}`, { cause: e });
  }
}

const URL_SCHEMES = /^(https?|file|data|blob):/i;

async function fetchBytes(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw kilnError('io', `cannot fetch model ${url}: ${e.message}`, { cause: e });
  }
  if (!response.ok) throw kilnError('io', `cannot fetch model ${url}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function readPath(path) {
  try {
    const data = await (await nodeFs()).readFile(path);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    const shown = path instanceof URL ? path.href : path;
    throw kilnError('io', `cannot read model file '${shown}': ${e.message}`, { cause: e });
  }
}

// Uint8Array | ArrayBuffer | other ArrayBufferView | path string (Node) | URL -> Uint8Array.
export async function readSource(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (source instanceof URL || typeof source === 'string') {
    const isUrl = source instanceof URL || URL_SCHEMES.test(source);
    if (isNode) {
      if (!isUrl) return readPath(source);
      const url = source instanceof URL ? source : new URL(source);
      if (url.protocol === 'file:') return readPath(url);
      return fetchBytes(url);
    }
    return fetchBytes(source instanceof URL ? source : new URL(source, globalThis.location?.href));
  }
  const got = source === null ? 'null' : typeof source === 'object' ? (source.constructor?.name ?? 'object') : typeof source;
  throw kilnError('invalid_argument', `model source must be a Uint8Array, ArrayBuffer, path or URL, got ${got}`);
}
