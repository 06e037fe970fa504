// Session: the onnxruntime-web-shaped API. create(source) -> inputs/outputs -> run(feeds).
import { kilnError } from './errors.js';
import { ModelHandle } from './handle.js';
import { SessionStream } from './stream.js';

const token = Symbol('kiln.Session');

// Loads web/worker-session.js for options.worker. index.js sets it: web/worker.js imports
// this file but not index.js, so the worker's own module graph never contains the code
// that starts the worker (bundlers report such a cycle between the page and worker chunks).
let loadWorkerSession = null;
export function setWorkerSessionLoader(load) {
  loadWorkerSession = load;
}

export class Session {
  #handle;

  constructor(handle, key) {
    if (key !== token) throw kilnError('invalid_argument', 'use `await Session.create(source)` to make a Session');
    this.#handle = handle;
  }

  // source: Uint8Array | ArrayBuffer | file path (Node) | URL | Response. options: { verifyHashes = true,
  // onProgress, cache, sha256, retries, signal, build, wasmPaths, worker } (see index.d.ts).
  static async create(source, options = {}) {
    if (options?.worker) {
      if (!loadWorkerSession)
        throw kilnError('unsupported', 'options.worker: import Session from the package entry (\'kiln\'), not web/session.js');
      // Loaded on demand: worker-session.js extends Session, so it cannot be a static import here.
      const { WorkerSession } = await loadWorkerSession();
      return WorkerSession.create(source, options, token);
    }
    return new Session(await ModelHandle.create(source, options), token);
  }

  // Which WASM build runs and why: { build, threads, simd, reason, wasmUrl, crossOriginIsolated, worker }.
  get backendInfo() {
    return this.#handle.backendInfo;
  }

  // How the model was loaded: { bytes, fromCache, contentHash, verifiedWhileLoading }.
  get loadInfo() {
    return this.#handle.loadInfo;
  }

  // [{ name, type, dims }], symbolic dims as strings.
  get inputs() {
    return this.#handle.inputs;
  }
  get outputs() {
    return this.#handle.outputs;
  }
  get inputNames() {
    return this.#handle.inputs.map((d) => d.name);
  }
  get outputNames() {
    return this.#handle.outputs.map((d) => d.name);
  }

  // feeds: { [inputName]: Tensor } -> { [outputName]: Tensor } (JS-owned copies).
  async run(feeds) {
    const h = this.#handle;
    h.checkAlive();
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds))
      throw kilnError('invalid_argument', 'run() takes an object mapping input names to tensors');
    try {
      h.clearInputs();
      for (const [name, tensor] of Object.entries(feeds)) h.stage(name, tensor);
      h.run();
      const out = {};
      for (const { name } of h.outputs) out[name] = h.output(name);
      return out;
    } finally {
      // Free the staged inputs and outputs now rather than at the next run.
      try {
        h.clearInputs();
        h.clearOutputs();
      } catch {
        // module aborted: the error above says why
      }
    }
  }

  // A runner that feeds outputs back as inputs on each run (see web/stream.js):
  // options { carry: { outputName: inputName }, initial?: { inputName: Tensor } }.
  // Uses only the public API, so worker sessions (a subclass) stream the same way.
  stream(options) {
    if (this.#handle) this.#handle.checkAlive();
    return new SessionStream(this, options);
  }

  // Frees the model's WASM memory; the session cannot be used afterwards.
  release() {
    this.#handle.release();
  }
}
