// readModelInfo: what a .kiln file holds (inputs, outputs, producer, metadata, weight
// segments), read with the flatc-generated TypeScript reader — no WebAssembly needed, so a
// page can show a model's details, or plan a segment-by-segment download, before loading it.
import * as flatbuffers from './generated/flatbuffers/index.js';

import { kilnError, KilnError } from './errors.js';
import { Model } from './generated/model_generated.js';

// Same numbering as kiln::DType (src/core/dtype.h).
const DTYPE_NAMES = ['undefined', 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string',
  'bool', 'float16', 'float64', 'uint32', 'uint64'];

function toBytes(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw kilnError('invalid_argument', 'readModelInfo expects a Uint8Array, ArrayBuffer or typed array');
}

function describe(model, index) {
  const t = model.tensors(index);
  if (!t) throw kilnError('invalid_model', `tensor index ${index} is out of range`);
  const dims = [];
  if (t.hasShape()) {
    for (let i = 0; i < t.dimsLength(); ++i) {
      const d = Number(t.dims(i));
      const param = i < t.dimParamsLength() ? t.dimParams(i) : null;
      dims.push(d >= 0 ? d : (param || '?'));
    }
  }
  return { name: t.name() ?? '', type: DTYPE_NAMES[t.dtype()] ?? 'undefined', dims };
}

const hex = (v) => Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Reads the table of a .kiln file (the whole file, or at least its table: the first
 * `tableBytes` bytes that the returned info reports). Weight hashes are not checked
 * here; Session.create does that.
 */
export function readModelInfo(source) {
  const bytes = toBytes(source);
  if (bytes.length < 12) throw kilnError('invalid_model', `truncated file: ${bytes.length} bytes is too short for a .kiln table`);
  const ident = String.fromCharCode(bytes[8], bytes[9], bytes[10], bytes[11]);
  if (ident !== 'KILN') throw kilnError('invalid_model', 'not a .kiln file (missing the KILN identifier)');
  const tableBytes = 4 + new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (tableBytes > bytes.length)
    throw kilnError('invalid_model', `truncated file: table needs ${tableBytes} bytes, have ${bytes.length}`);
  const dataStart = Math.ceil(tableBytes / 64) * 64;
  try {
    const model = Model.getSizePrefixedRootAsModel(new flatbuffers.ByteBuffer(bytes.subarray(0, tableBytes)));
    const main = model.graphs(0);
    if (!main) throw kilnError('invalid_model', 'the model has no main graph');
    const inputs = [], outputs = [], metadata = [], segments = [];
    for (let i = 0; i < main.inputsLength(); ++i) inputs.push(describe(model, main.inputs(i)));
    for (let i = 0; i < main.outputsLength(); ++i) outputs.push(describe(model, main.outputs(i)));
    for (let i = 0; i < model.metadataLength(); ++i) {
      const kv = model.metadata(i);
      metadata.push([kv.key() ?? '', kv.value() ?? '']);
    }
    for (let i = 0; i < model.segmentsLength(); ++i) {
      const s = model.segments(i);
      const offset = dataStart + Number(s.offset());
      segments.push({ offset, length: Number(s.length()), sha256: hex(s.sha256Array() ?? []) });
    }
    const last = segments[segments.length - 1];
    return {
      formatVersion: model.formatVersion(),
      producer: model.producer() ?? '',
      sourceSha256: model.sourceSha256() ?? '',
      opset: Number(model.opset()),
      inputs,
      outputs,
      metadata,
      tableBytes,
      segments,
      fileBytes: last ? last.offset + last.length : tableBytes,
    };
  } catch (e) {
    if (e instanceof KilnError) throw e;
    // The JS FlatBuffers runtime has no verifier; a corrupt table shows up as an
    // out-of-range read, reported here as what it is.
    throw kilnError('invalid_model', `corrupt .kiln table (${e.message})`, { cause: e });
  }
}
