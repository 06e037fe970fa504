// Minimal .npy (NumPy format 1.0-3.0) reader/writer for exchanging tensors with
// the native CLI (`kiln run --input name=file.npy --output-dir d`).
// Little-endian, C order only; dtypes named as in the kiln JS API.
import fs from 'node:fs';

const DESCR = {
  float32: ['<f4', Float32Array], float64: ['<f8', Float64Array], float16: ['<f2', Uint16Array],
  int64: ['<i8', BigInt64Array], int32: ['<i4', Int32Array], int16: ['<i2', Int16Array], int8: ['|i1', Int8Array],
  uint64: ['<u8', BigUint64Array], uint32: ['<u4', Uint32Array], uint16: ['<u2', Uint16Array],
  uint8: ['|u1', Uint8Array], bool: ['|b1', Uint8Array],
};
const TYPE_OF = Object.fromEntries(Object.entries(DESCR).map(([t, [d]]) => [d, t]));
TYPE_OF['<u1'] = 'uint8'; TYPE_OF['<i1'] = 'int8'; TYPE_OF['<b1'] = 'bool';

/** Serializes {type, data, dims} to .npy bytes (format 1.0). */
export function encodeNpy({ type, data, dims }) {
  const entry = DESCR[type];
  if (!entry) throw new Error(`npy: unsupported type '${type}'`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`npy: ${data.length} values for dims [${dims}]`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' padded to 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Parses .npy bytes into {type, data (typed array, own copy), dims}. */
export function decodeNpy(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (u8.length < 10 || magic.some((v, i) => u8[i] !== v)) throw new Error('npy: bad magic');
  const major = u8[6];
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  let headerLen, start;
  if (major === 1) { headerLen = view.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) { headerLen = view.getUint32(8, true); start = 12; }
  else throw new Error(`npy: unsupported version ${major}`);
  const header = new TextDecoder('latin1').decode(u8.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`npy: cannot parse header ${header.trim()}`);
  if (fortran === 'True') throw new Error('npy: Fortran order is not supported');
  const type = TYPE_OF[descr];
  if (!type) throw new Error(`npy: unsupported dtype '${descr}'`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const Ctor = DESCR[type][1];
  const offset = start + headerLen;
  const byteLength = count * Ctor.BYTES_PER_ELEMENT;
  if (u8.length - offset < byteLength) throw new Error(`npy: data too short for shape (${dims})`);
  const copy = new Uint8Array(byteLength);  // aligned copy (Buffer.slice would be a view)
  copy.set(u8.subarray(offset, offset + byteLength));
  return { type, data: new Ctor(copy.buffer, 0, count), dims };
}

export const writeNpy = (file, tensor) => fs.writeFileSync(file, encodeNpy(tensor));
export const readNpy = (file) => decodeNpy(fs.readFileSync(file));
