// Interpreter: the TFLite-style API, synchronous after creation.
// getInputDetails() / setTensor(index, data, dims?) / invoke() / getTensor(index).
import { kilnError } from './errors.js';
import { ModelHandle } from './handle.js';
import { ARRAY_TYPES, Tensor } from './tensor.js';

const token = Symbol('kiln.Interpreter');

function details(descs) {
  return descs.map((d, index) => ({
    name: d.name,
    index,
    // TFLite form: -1 for a dimension fixed only at run time.
    shape: Int32Array.from(d.dims, (x) => (typeof x === 'number' ? x : -1)),
    dtype: d.type,
    dims: d.dims.slice(),
  }));
}

function checkIndex(index, list, what) {
  if (!Number.isInteger(index) || index < 0 || index >= list.length)
    throw kilnError('out_of_range', `${what} index ${String(index)} is out of range; the model has ${list.length} ${what}s`);
  return list[index];
}

export class Interpreter {
  #handle;
  #invoked = false;

  constructor(handle, key) {
    if (key !== token) throw kilnError('invalid_argument', 'use `await Interpreter.create(source)` to make an Interpreter');
    this.#handle = handle;
  }

  static async create(source, options = {}) {
    if (options?.worker)
      throw kilnError('invalid_argument', 'the Interpreter runs synchronously and has no worker mode; use Session.create(source, { worker: true })');
    return new Interpreter(await ModelHandle.create(source, options), token);
  }

  getInputDetails() {
    return details(this.#handle.inputs);
  }
  getOutputDetails() {
    return details(this.#handle.outputs);
  }

  // value: a Tensor, or a typed array of the input's dtype with `dims` (defaults to the
  // model's shape; required when that shape has symbolic dims). Copied into WASM now.
  setTensor(index, value, dims) {
    const h = this.#handle;
    h.checkAlive();
    const desc = checkIndex(index, h.inputs, 'input');
    let tensor;
    if (value instanceof Tensor || (value && typeof value === 'object' && 'type' in value && 'data' in value)) {
      tensor = dims === undefined ? value : { type: value.type, data: value.data, dims };
    } else if (ArrayBuffer.isView(value) || Array.isArray(value)) {
      const Ctor = ARRAY_TYPES[desc.type];
      if (!Ctor) throw kilnError('unsupported', `input '${desc.name}' has dtype ${desc.type}, which JS cannot supply`);
      if (ArrayBuffer.isView(value) && !(value instanceof Ctor))
        throw kilnError('invalid_argument',
          `input '${desc.name}': expected dtype ${desc.type} (${Ctor.name}), got ${value.constructor.name}`);
      let shape = dims;
      if (shape === undefined) {
        if (desc.dims.some((d) => typeof d !== 'number'))
          throw kilnError('invalid_argument',
            `input '${desc.name}' has shape [${desc.dims.join(',')}] with symbolic dims: pass dims to setTensor`);
        shape = desc.dims;
      }
      tensor = { type: desc.type, data: value, dims: shape };
    } else {
      throw kilnError('invalid_argument', `input '${desc.name}': expected a Tensor or typed array, got ${value === null ? 'null' : typeof value}`);
    }
    h.stage(desc.name, tensor);
  }

  // Runs on the tensors set so far (they stay set for the next invoke).
  invoke() {
    const h = this.#handle;
    this.#invoked = false;
    h.run();
    this.#invoked = true;
  }

  // Output `index` of the last invoke(), as a JS-owned Tensor.
  getTensor(index) {
    const h = this.#handle;
    h.checkAlive();
    const desc = checkIndex(index, h.outputs, 'output');
    if (!this.#invoked) throw kilnError('invalid_argument', `getTensor(${index}): call invoke() first`);
    return h.output(desc.name);
  }

  release() {
    this.#handle.release();
  }
}
