// Loads the WASM module once per realm and reads model sources into bytes.
// kiln.wasm is found relative to this file: read with fs in Node (Emscripten 3.1.6's
// own Node path is broken for ES modules), fetched by the Emscripten runtime elsewhere.
import { KilnError, kilnError } from './errors.js';

export const isNode =
  typeof process === 'object' && process !== null && typeof process.versions?.node === 'string' &&
  typeof window === 'undefined';

const WASM_URL = new URL('./dist/kiln.wasm', import.meta.url);

let modulePromise = null;

async function nodeFs() {
  return import(/* webpackIgnore: true */ 'node:fs/promises');
}

async function instantiate() {
  let createKiln;
  try {
    ({ default: createKiln } = await import('./dist/kiln.js'));
  } catch (e) {
    throw kilnError('io', `cannot load web/dist/kiln.js (run \`npm run build:wasm\`): ${e.message}`, { cause: e });
  }
  const args = {
    // An abort means a bug in kiln (bad input is an error value, never an abort):
    // drop the dead module so the next Session.create starts a fresh one.
    onAbort: () => {
      modulePromise = null;
    },
  };
  if (isNode) {
    try {
      args.wasmBinary = await (await nodeFs()).readFile(WASM_URL);
    } catch (e) {
      throw kilnError('io', `cannot read ${WASM_URL.href} (run \`npm run build:wasm\`): ${e.message}`, { cause: e });
    }
  } else {
    args.locateFile = (file) => new URL(`./dist/${file}`, import.meta.url).href;
  }
  try {
    return await createKiln(args);
  } catch (e) {
    throw kilnError('internal', `cannot instantiate kiln.wasm: ${e.message ?? e}`, { cause: e });
  }
}

// The Emscripten module (shared by all sessions).
export function loadModule() {
  if (!modulePromise) {
    modulePromise = instantiate();
    modulePromise.catch(() => {
      modulePromise = null;
    });
  }
  return modulePromise;
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
