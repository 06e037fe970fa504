// ModelHandle: one loaded model inside the WASM module, shared plumbing for Session
// and Interpreter. Data crosses once each way: JS typed array -> WASM heap (inputs),
// WASM heap -> fresh JS typed array (outputs).
import { KilnError, check, kilnError } from './errors.js';
import { fetchModel, hasSubtleCrypto } from './fetch-model.js';
import { callWasm, isNode, loadBackend, readSource } from './loader.js';
import { ARRAY_TYPES, Tensor } from './tensor.js';

// Frees WASM memory of handles that were garbage-collected without release().
const finalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((ws) => {
        try {
          ws.delete();
        } catch {
          // module already gone
        }
      })
    : null;

function freeze(descs) {
  return Object.freeze(descs.map((d) => Object.freeze({ name: d.name, type: d.type, dims: Object.freeze(d.dims) })));
}

// Re-labels a validation error with the input it is about.
function withInput(name, fn) {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof KilnError) || e.code !== 'invalid_argument') throw e;
    throw kilnError('invalid_argument', `input '${name}': ${e.message.replace(/^invalid argument: /, '')}`);
  }
}

const HTTP_URL = /^https?:/i;

// Whether `source` is fetched over HTTP(S): URLs, Responses, and relative URLs in a page.
function isFetched(source) {
  if (typeof Response === 'function' && source instanceof Response) return true;
  if (source instanceof URL) return HTTP_URL.test(source.protocol);
  if (typeof source !== 'string') return false;
  if (HTTP_URL.test(source)) return true;
  return !isNode && !/^(file|data|blob):/i.test(source) && typeof globalThis.location?.href === 'string' &&
    HTTP_URL.test(new URL(source, globalThis.location.href).protocol);
}

// Model bytes from any source; fetched ones stream through fetchModel (progress, segment
// hashes, resume, Cache API), the rest are read whole (and hashed in WASM).
async function loadBytes(source, options) {
  if (isFetched(source) && hasSubtleCrypto()) {
    const url = typeof source === 'string' && !HTTP_URL.test(source) ? new URL(source, globalThis.location.href) : source;
    const r = await fetchModel(url, options);
    return { bytes: r.bytes, verified: true, fromCache: r.fromCache, contentHash: r.contentHash };
  }
  if (typeof Response === 'function' && source instanceof Response) source = new Uint8Array(await source.arrayBuffer());
  const bytes = await readSource(source);
  return { bytes, verified: false, fromCache: false, contentHash: null };
}

export class ModelHandle {
  #ws;
  constructor(ws) {
    this.#ws = ws;
    this.inputs = freeze(callWasm(() => ws.inputs()));
    this.outputs = freeze(callWasm(() => ws.outputs()));
    finalizer?.register(this, ws, this);
  }

  static async create(source, options = {}) {
    if (options === null || typeof options !== 'object')
      throw kilnError('invalid_argument', 'options must be an object');
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
      throw kilnError('invalid_argument', 'options.onProgress must be a function');
    const report = options.onProgress ?? (() => {});
    const [backend, loaded] = await Promise.all([loadBackend(options), loadBytes(source, options)]);
    const { module } = backend;
    report({ phase: 'compile', loaded: 0, total: 1, fromCache: loaded.fromCache });
    const ws = callWasm(() => new module.WasmSession());
    try {
      const buffer = check(callWasm(() => ws.allocModel(loaded.bytes.byteLength)));
      buffer.view.set(loaded.bytes); // the one copy of the model into WASM memory
      // Segments already checked while downloading are not hashed a second time.
      const verify = options.verifyHashes !== false && !loaded.verified;
      const threaded = backend.info.threads;
      check(callWasm(() => (threaded ? ws.load(verify, backend.numThreads) : ws.load(verify))));
      const handle = new ModelHandle(ws);
      // numThreads: what the session got (fewer than asked when the worker pool is used up).
      handle.backendInfo = Object.freeze({ ...backend.info, numThreads: threaded ? callWasm(() => ws.numThreads()) : 1 });
      handle.loadInfo = Object.freeze({
        bytes: loaded.bytes.byteLength,
        fromCache: loaded.fromCache,
        contentHash: loaded.contentHash,
        verifiedWhileLoading: loaded.verified,
      });
      report({ phase: 'compile', loaded: 1, total: 1, fromCache: loaded.fromCache });
      return handle;
    } catch (e) {
      try {
        ws.delete();
      } catch {
        // module aborted; nothing to free
      }
      throw e;
    }
  }

  get ws() {
    if (!this.#ws) throw kilnError('invalid_argument', 'the session has been released');
    return this.#ws;
  }

  checkAlive() {
    return this.ws;
  }

  // Copies `tensor` (a Tensor or any {type, data, dims}) into WASM as input `name`.
  stage(name, tensor) {
    const ws = this.ws;
    if (tensor === null || typeof tensor !== 'object')
      throw kilnError('invalid_argument', `input '${name}': expected a Tensor, got ${tensor === null ? 'null' : typeof tensor}`);
    const t = tensor instanceof Tensor ? tensor : withInput(name, () => new Tensor(tensor.type, tensor.data, tensor.dims));
    // Re-check: a Tensor's fields are public and may have been changed since construction.
    withInput(name, () => new Tensor(t.type, t.data, t.dims));
    const { view } = check(callWasm(() => ws.setInput(name, t.type, t.dims)));
    view.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }

  clearInputs() {
    callWasm(() => this.ws.clearInputs());
  }

  run() {
    check(callWasm(() => this.ws.run()));
  }

  // Output `name` of the last run, copied into a JS-owned Tensor.
  output(name) {
    const o = check(callWasm(() => this.ws.getOutput(name)));
    const Ctor = ARRAY_TYPES[o.type];
    const bytes = o.view.slice(); // the one copy out of WASM memory (fresh, aligned buffer)
    return new Tensor(o.type, new Ctor(bytes.buffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT), o.dims);
  }

  clearOutputs() {
    callWasm(() => this.ws.clearOutputs());
  }

  release() {
    if (!this.#ws) return;
    finalizer?.unregister(this);
    try {
      this.#ws.delete();
    } catch {
      // module aborted; its memory is gone anyway
    }
    this.#ws = null;
  }
}
