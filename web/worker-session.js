// WorkerSession: Session.create(source, { worker: true }). The model is fetched, verified,
// compiled and run inside a dedicated module Worker (web/worker.js), so the page's main
// thread never blocks on WASM; the API is the Session API. Outputs come back as
// transferred buffers (no copy); inputs are copied by structured clone, or transferred
// (detached from the caller) with run(feeds, { transfer: true }).
import { KilnError, kilnError } from './errors.js';
import { Session } from './session.js';
import { Tensor } from './tensor.js';

// Options that cross into the worker (functions and signals stay here).
const CLONED_OPTIONS = ['verifyHashes', 'cache', 'sha256', 'retries', 'build', 'wasmPaths', 'threads', 'numThreads'];

function absoluteUrl(source) {
  if (source instanceof URL) return source.href;
  try {
    return new URL(source, globalThis.location?.href).href;
  } catch (e) {
    throw kilnError('invalid_argument', `model URL '${source}' is not valid: ${e.message}`);
  }
}

function bufferOf(view) {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view.buffer : null;
}

// The model source as a message part, plus what to transfer.
function sourceMessage(source, transferBytes) {
  if (typeof Response === 'function' && source instanceof Response) {
    if (!source.ok || !source.body) throw kilnError('io', `the model response has HTTP status ${source.status} or no body`);
    return { message: { kind: 'response', body: source.body, headers: [...source.headers] }, transfer: [source.body] };
  }
  if (typeof source === 'string' || source instanceof URL) return { message: { kind: 'value', value: absoluteUrl(source) }, transfer: [] };
  if (source instanceof ArrayBuffer) return { message: { kind: 'value', value: source }, transfer: transferBytes ? [source] : [] };
  if (ArrayBuffer.isView(source)) {
    const whole = transferBytes ? bufferOf(source) : null;
    return { message: { kind: 'value', value: source }, transfer: whole ? [whole] : [] };
  }
  const got = source === null ? 'null' : typeof source;
  throw kilnError('invalid_argument', `model source must be a Uint8Array, ArrayBuffer, URL or Response, got ${got}`);
}

export class WorkerSession extends Session {
  #worker;
  #pending = new Map(); // id -> { resolve, reject, onProgress }
  #nextId = 1;
  #state = null; // { inputs, outputs, backendInfo, loadInfo }
  #dead = null; // KilnError once the worker is gone

  constructor(worker, key) {
    super(null, key);
    this.#worker = worker;
    worker.onmessage = (e) => this.#receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault?.();
      this.#fail(kilnError('io', `the kiln worker failed: ${e.message ?? 'cannot load web/worker.js'}`));
    };
    worker.onmessageerror = () => this.#fail(kilnError('internal', 'a message from the kiln worker could not be read'));
  }

  static async create(source, options, key) {
    if (typeof Worker !== 'function')
      throw kilnError('unsupported', 'options.worker needs Web Workers (a browser); in Node create the session in a worker_threads Worker');
    // A literal `new Worker(new URL(..., import.meta.url))` so bundlers emit the worker too.
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'kiln' });
    const session = new WorkerSession(worker, key);
    const { message, transfer } = sourceMessage(source, options.transfer === true);
    const cloned = {};
    for (const k of CLONED_OPTIONS) if (options[k] !== undefined) cloned[k] = options[k] instanceof URL ? options[k].href : options[k];
    const onAbort = () => session.#fail(new DOMException('Session.create was aborted', 'AbortError'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      session.#state = await session.#call(
        { type: 'create', source: message, options: cloned, progress: typeof options.onProgress === 'function' },
        transfer,
        options.onProgress,
      );
      return session;
    } catch (e) {
      session.release();
      throw e;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  #call(message, transfer = [], onProgress) {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      try {
        this.#worker.postMessage({ id, ...message }, transfer);
      } catch (e) {
        this.#pending.delete(id);
        reject(kilnError('invalid_argument', `cannot send to the kiln worker: ${e.message}`, { cause: e }));
      }
    });
  }

  #receive({ id, type, value, event, error }) {
    const call = this.#pending.get(id);
    if (!call) return;
    if (type === 'progress') {
      try {
        call.onProgress?.(Object.freeze(event));
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
      return;
    }
    this.#pending.delete(id);
    if (type === 'result') call.resolve(value);
    else call.reject(new KilnError(error.code, error.message));
  }

  // Ends the worker and rejects everything still waiting with `error`.
  #fail(error) {
    if (!this.#dead) this.#dead = error;
    this.#worker?.terminate();
    this.#worker = null;
    for (const call of this.#pending.values()) call.reject(error);
    this.#pending.clear();
  }

  #alive() {
    if (this.#dead) throw this.#dead instanceof KilnError ? this.#dead : kilnError('invalid_argument', 'the session has been released');
    return this.#state;
  }

  get inputs() {
    return this.#alive().inputs;
  }
  get outputs() {
    return this.#alive().outputs;
  }
  get inputNames() {
    return this.inputs.map((d) => d.name);
  }
  get outputNames() {
    return this.outputs.map((d) => d.name);
  }
  get backendInfo() {
    return this.#alive().backendInfo;
  }
  get loadInfo() {
    return this.#alive().loadInfo;
  }

  // feeds as in Session.run; runOptions.transfer moves the input buffers to the worker
  // instead of copying them (the caller's arrays are detached afterwards).
  async run(feeds, runOptions = {}) {
    this.#alive();
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds))
      throw kilnError('invalid_argument', 'run() takes an object mapping input names to tensors');
    const message = {}, transfer = new Set();
    for (const [name, t] of Object.entries(feeds)) {
      if (t === null || typeof t !== 'object')
        throw kilnError('invalid_argument', `input '${name}': expected a Tensor, got ${t === null ? 'null' : typeof t}`);
      const tensor = t instanceof Tensor ? t : new Tensor(t.type, t.data, t.dims);
      message[name] = { type: tensor.type, data: tensor.data, dims: tensor.dims };
      const whole = runOptions.transfer ? bufferOf(tensor.data) : null;
      if (whole) transfer.add(whole);
    }
    const out = await this.#call({ type: 'run', feeds: message }, [...transfer]);
    const results = {};
    for (const [name, t] of Object.entries(out)) results[name] = new Tensor(t.type, t.data, t.dims);
    return results;
  }

  // Ends the worker, which frees the model's WASM memory with it.
  release() {
    if (this.#dead) return;
    this.#fail(kilnError('invalid_argument', 'the session has been released'));
  }
}
