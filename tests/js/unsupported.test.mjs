// Unsupported operators, as a JS user meets them: `kiln convert` refuses an ONNX model
// naming every unsupported op, and a .kiln file that names an op this build does not
// know (e.g. written by a newer kiln) fails Session.create with the same kind of error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { KilnError, Session } from '../../web/index.js';
import { KILN_CLI, convert, requireBuilt, tempDir } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';

requireBuilt();

const model = (ops) =>
  buildOnnx({
    inputs: [{ name: 'x', type: 'float32', dims: [4] }],
    outputs: [{ name: 'y', type: 'float32', dims: [4] }],
    nodes: ops.map((op, i) => ({
      op,
      name: `${op.toLowerCase()}_node_${i}`,
      inputs: [i === 0 ? 'x' : `t${i}`],
      outputs: [i === ops.length - 1 ? 'y' : `t${i + 1}`],
    })),
  });

test('kiln convert names every unsupported op and the first node using it', () => {
  const onnx = path.join(tempDir(), 'unsupported.onnx');
  fs.writeFileSync(onnx, model(['Relu', 'FancyOp', 'FancyOp', 'OtherOp']));
  let err;
  try {
    execFileSync(KILN_CLI, ['convert', onnx, '-o', path.join(tempDir(), 'unsupported.kiln')], { stdio: 'pipe' });
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'convert should fail');
  assert.notEqual(err.status, 0);
  const stderr = err.stderr.toString();
  assert.match(stderr, /^kiln: error: /);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.match(stderr, /FancyOp \(first used by node 'fancyop_node_1'\)/);
  assert.match(stderr, /OtherOp \(first used by node 'otherop_node_3'\)/);
});

test('a .kiln file with an op this build lacks fails Session.create with code unsupported', async () => {
  const bytes = new Uint8Array(fs.readFileSync(convert(model(['Relu', 'Sigmoid']), 'known_ops')));
  // Rename the op in the table (not covered by the weight hashes) to one kiln lacks.
  const at = Buffer.from(bytes).indexOf('Sigmoid');
  assert.ok(at > 0);
  bytes.set(new TextEncoder().encode('Sigmoix'), at);
  await assert.rejects(Session.create(bytes), (e) => {
    assert.ok(e instanceof KilnError);
    assert.equal(e.code, 'unsupported');
    assert.match(e.message, /Sigmoix \(first at node 'sigmoid_node_1'\)/);
    return true;
  });
  // The original bytes still load and run.
  bytes.set(new TextEncoder().encode('Sigmoid'), at);
  const s = await Session.create(bytes);
  const out = await s.run({ x: { type: 'float32', data: new Float32Array([-1, 0, 1, 2]), dims: [4] } });
  assert.ok(Math.abs(out.y.data[3] - 1 / (1 + Math.exp(-2))) < 1e-6);
  s.release();
});
