// SessionStream: runs a Session repeatedly while feeding chosen outputs back as inputs
// of the next run (recurrent state: a streaming VAD passes `stateN` back as `state`).
//   const vad = session.stream({ carry: { stateN: 'state' } });
//   for (const chunk of chunks) (await vad.run({ input: chunk, sr })).output;
//   vad.reset();  // start a new audio stream
import { kilnError } from './errors.js';
import { Tensor } from './tensor.js';

const ZERO_FILL = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

// Zeros shaped like a declared input; symbolic dims count as 1 (a batch of one).
function zerosFor(info) {
  const Array_ = ZERO_FILL[info.type];
  if (!Array_) throw kilnError('invalid_argument', `stream: input '${info.name}' of type ${info.type} has no zero value; pass it in options.initial`);
  const dims = info.dims.map((d) => (typeof d === 'number' ? d : 1));
  return new Tensor(info.type, new Array_(dims.reduce((a, b) => a * b, 1)), dims);
}

export class SessionStream {
  #session;
  #carry;     // [outputName, inputName]
  #initial;   // { inputName: Tensor } used on the first run after creation / reset()
  #state;     // { inputName: Tensor } the carried values for the next run

  constructor(session, options) {
    if (options === null || typeof options !== 'object' || typeof options.carry !== 'object' || options.carry === null)
      throw kilnError('invalid_argument', 'stream() takes { carry: { outputName: inputName }, initial? }');
    const outputs = new Set(session.outputNames), inputs = new Set(session.inputNames);
    this.#carry = Object.entries(options.carry);
    if (this.#carry.length === 0) throw kilnError('invalid_argument', 'stream(): carry names no output');
    for (const [out, inp] of this.#carry) {
      if (!outputs.has(out))
        throw kilnError('invalid_argument', `stream(): '${out}' is not an output of the model (outputs: ${[...outputs].join(', ')})`);
      if (!inputs.has(inp))
        throw kilnError('invalid_argument', `stream(): '${inp}' is not an input of the model (inputs: ${[...inputs].join(', ')})`);
    }
    const initial = options.initial ?? {};
    for (const name of Object.keys(initial))
      if (!this.#carry.some(([, inp]) => inp === name))
        throw kilnError('invalid_argument', `stream(): initial value '${name}' is not a carried input`);
    this.#session = session;
    this.#initial = initial;
    this.#state = {};
    this.reset();
  }

  // Runs once. feeds holds the other inputs; a carried input given in feeds overrides
  // the carried value for this run. Returns every output, like Session.run.
  async run(feeds = {}) {
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds))
      throw kilnError('invalid_argument', 'run() takes an object mapping input names to tensors');
    const out = await this.#session.run({ ...this.#state, ...feeds });
    for (const [o, i] of this.#carry) this.#state[i] = out[o];
    return out;
  }

  // Forgets the carried values: the next run starts from options.initial (or zeros).
  reset() {
    const infos = new Map(this.#session.inputs.map((d) => [d.name, d]));
    this.#state = {};
    for (const [, inp] of this.#carry) this.#state[inp] = this.#initial[inp] ?? zerosFor(infos.get(inp));
  }

  // The values the next run will feed, by input name.
  get state() {
    return { ...this.#state };
  }
}
