// readModelInfo (flatc-generated TypeScript reader, no WASM) agrees with the native
// `kiln inspect --json` and with the WASM Session, and rejects bad bytes clearly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import test from 'node:test';

import { KilnError, Session, readModelInfo } from '../../web/index.js';
import { KILN_CLI, convert, requireBuilt } from './helpers.mjs';
import { modelPath } from '../../scripts/fetch-models.mjs';

requireBuilt();
const kilnFile = convert(modelPath('silero'), 'silero-info');
const bytes = fs.readFileSync(kilnFile);
const info = readModelInfo(bytes);

test('readModelInfo matches kiln inspect --json', () => {
  const native = JSON.parse(execFileSync(KILN_CLI, ['inspect', '--json', kilnFile], { encoding: 'utf8' }));
  assert.equal(info.formatVersion, native.format_version);
  assert.equal(info.producer, native.producer);
  assert.equal(info.sourceSha256, native.source_sha256);
  assert.equal(info.opset, native.opset);
  assert.equal(info.fileBytes, native.file_bytes);
  const norm = (list) => list.map((t) => ({ name: t.name, type: t.dtype ?? t.type, dims: t.shape ?? t.dims }));
  assert.deepEqual(norm(info.inputs), norm(native.inputs));
  assert.deepEqual(norm(info.outputs), norm(native.outputs));
  assert.deepEqual(info.inputs.map((t) => t.name), ['input', 'sr', 'state']);
  assert.deepEqual(info.inputs[2].dims, [2, 'batch', 128]);
});

test('readModelInfo matches the WASM session', async () => {
  const session = await Session.create(bytes);
  try {
    assert.deepEqual(info.inputs, session.inputs.map((t) => ({ name: t.name, type: t.type, dims: [...t.dims] })));
    assert.deepEqual(info.outputs, session.outputs.map((t) => ({ name: t.name, type: t.type, dims: [...t.dims] })));
  } finally {
    session.release();
  }
});

test('segment ranges and hashes describe the file', () => {
  assert.ok(info.segments.length >= 1);
  for (const s of info.segments) {
    assert.equal(s.offset % 64, 0);
    const digest = crypto.createHash('sha256').update(bytes.subarray(s.offset, s.offset + s.length)).digest('hex');
    assert.equal(digest, s.sha256);
  }
  assert.equal(info.fileBytes, bytes.length);
  // The table alone is enough: a loader can read it before the weights arrive.
  assert.deepEqual(readModelInfo(bytes.subarray(0, info.tableBytes)).inputs, info.inputs);
});

test('bad bytes are KilnErrors that say what is wrong', () => {
  const expectError = (b, part) =>
    assert.throws(() => readModelInfo(b), (e) => e instanceof KilnError && e.code === 'invalid_model' && e.message.includes(part));
  expectError(bytes.subarray(0, 8), 'too short');
  expectError(bytes.subarray(0, 100), 'truncated file: table needs');
  expectError(new TextEncoder().encode('definitely not a model file'), 'not a .kiln file');
  assert.throws(() => readModelInfo('model.kiln'), (e) => e instanceof KilnError && e.code === 'invalid_argument');
});
