// Tensor: a dtype, a typed array and dims — the shape onnxruntime-web users know.
import { kilnError } from './errors.js';

// dtype name -> typed array class holding its elements.
export const ARRAY_TYPES = Object.freeze({
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array, // raw IEEE half bits
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array, // 0 or 1
});

export function elementCount(dims) {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function checkDims(dims) {
  if (!Array.isArray(dims) && !ArrayBuffer.isView(dims))
    throw kilnError('invalid_argument', `tensor dims must be an array of integers, got ${typeof dims}`);
  const out = Array.from(dims, (d) => (typeof d === 'bigint' ? Number(d) : d));
  out.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || d < 0)
      throw kilnError('invalid_argument', `tensor dims must be non-negative integers, got dims[${i}] = ${String(d)}`);
  });
  return out;
}

function toTypedArray(type, data) {
  const Ctor = ARRAY_TYPES[type];
  if (data instanceof Ctor) return data;
  if (Array.isArray(data)) {
    if (Ctor === BigInt64Array || Ctor === BigUint64Array) return Ctor.from(data, (v) => BigInt(v));
    if (type === 'bool') return Uint8Array.from(data, (v) => (v ? 1 : 0));
    return Ctor.from(data);
  }
  const got = data?.constructor?.name ?? typeof data;
  throw kilnError('invalid_argument', `a ${type} tensor needs a ${Ctor.name} (or an array), got ${got}`);
}

export class Tensor {
  // new Tensor('float32', new Float32Array(6), [2, 3]); dims default to [data.length].
  constructor(type, data, dims) {
    if (typeof type !== 'string' || !(type in ARRAY_TYPES))
      throw kilnError('invalid_argument', `unknown tensor type '${String(type)}'; expected one of ${Object.keys(ARRAY_TYPES).join(', ')}`);
    const array = toTypedArray(type, data);
    const shape = dims === undefined ? [array.length] : checkDims(dims);
    const need = elementCount(shape);
    if (array.length !== need)
      throw kilnError('invalid_argument', `tensor data has ${array.length} elements but dims [${shape.join(',')}] need ${need}`);
    this.type = type;
    this.data = array;
    this.dims = shape;
  }

  get size() {
    return this.data.length;
  }
}
