// Static int8 QDQ (graph pass fuse_qdq, the form `kiln compress --int8-static` writes on
// the channels-last graph): activations QuantizeLinear -> DequantizeLinear (int8, per
// tensor) around kiln.NhwcConv (Relu), kiln.NhwcMaxPool, a depthwise kiln.NhwcConv
// (HardSwish), Reshape and MatMul (kiln.bias) with int8 weights and int32 biases. `kiln
// convert` fuses them into kiln.QLinearNhwcConv / kiln.QLinearMatMul / int8 max pool and
// reshape (`kiln inspect` shows no DequantizeLinear left but the output's); the fused
// model agrees with the same graph unfused (`--no-optimize`: fake quant in float) within
// one int8 step, and the WASM build gives exactly the native CLI's outputs for both.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { Session, Tensor } from 'kiln';

import { KILN_CLI, randomFloats, requireBuilt, tempDir } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';
import { readNpy, writeNpy } from './npy.mjs';

const cli = (...args) => execFileSync(KILN_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const C = 8, M = 16, H = 12, W = 12, K = 3 * 3 * M, N = 10;
const int8s = (n, seed) => Int8Array.from(randomFloats(n, seed), (v) => Math.round(v * 127));
const int32s = (n, seed) => Int32Array.from(randomFloats(n, seed), (v) => Math.round(v * 2000));
const scales = (n, seed) => Float32Array.from(randomFloats(n, seed), (v) => 0.006 + 0.004 * v);
const S = (name, v) => ({ name, type: 'float32', dims: [], data: Float32Array.of(v) });
const Z = (name, v) => ({ name, type: 'int8', dims: [], data: Int8Array.of(v) });
const mul = (s, x) => Float32Array.from(s, (v) => v * x);

// Activation scales and zero points per tensor (the max pool keeps its input's).
const XS = 4 / 255, XZ = -2, AS = 0.05, AZ = -20, BS = 0.04, BZ = 3, YS = 0.2, YZ = 1;
const W1 = int8s(M * C * 9, 1), S1 = scales(M, 2), B1 = int32s(M, 3);
const W2 = int8s(M * 9, 4), S2 = scales(M, 5), B2 = int32s(M, 6);
const W3 = int8s(K * N, 7), S3 = scales(N, 8), B3 = int32s(N, 9);

const QDQ = buildOnnx({
  opset: 13,
  inputs: [{ name: 'x', type: 'float32', dims: [1, H, W, C] }],
  outputs: [{ name: 'y', type: 'float32', dims: [1, N] }],
  initializers: [
    S('xs', XS), Z('xz', XZ), S('as', AS), Z('az', AZ), S('bs', BS), Z('bz', BZ), S('ys', YS), Z('yz', YZ),
    { name: 'w1', type: 'int8', dims: [M, C, 3, 3], data: W1 },
    { name: 'w1s', type: 'float32', dims: [M], data: S1 },
    { name: 'b1', type: 'int32', dims: [M], data: B1 },
    { name: 'b1s', type: 'float32', dims: [M], data: mul(S1, XS) },
    { name: 'w2', type: 'int8', dims: [M, 1, 3, 3], data: W2 },
    { name: 'w2s', type: 'float32', dims: [M], data: S2 },
    { name: 'b2', type: 'int32', dims: [M], data: B2 },
    { name: 'b2s', type: 'float32', dims: [M], data: mul(S2, AS) },
    { name: 'w3', type: 'int8', dims: [K, N], data: W3 },
    { name: 'w3s', type: 'float32', dims: [N], data: S3 },
    { name: 'b3', type: 'int32', dims: [N], data: B3 },
    { name: 'b3s', type: 'float32', dims: [N], data: mul(S3, BS) },
    { name: 'shape', type: 'int64', dims: [2], data: BigInt64Array.of(1n, BigInt(K)) },
  ],
  nodes: [
    { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
    { op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
    { op: 'DequantizeLinear', inputs: ['w1', 'w1s'], outputs: ['w1d'], attrs: { axis: 0 } },
    { op: 'DequantizeLinear', inputs: ['b1', 'b1s'], outputs: ['b1d'], attrs: { axis: 0 } },
    { op: 'NhwcConv', domain: 'kiln', inputs: ['xd', 'w1d', 'b1d'], outputs: ['c1'],
      attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], 'kiln.activation': 'Relu' } },
    { op: 'QuantizeLinear', inputs: ['c1', 'as', 'az'], outputs: ['c1q'] },
    { op: 'DequantizeLinear', inputs: ['c1q', 'as', 'az'], outputs: ['c1d'] },
    { op: 'NhwcMaxPool', domain: 'kiln', inputs: ['c1d'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'QuantizeLinear', inputs: ['p', 'as', 'az'], outputs: ['pq'] },
    { op: 'DequantizeLinear', inputs: ['pq', 'as', 'az'], outputs: ['pd'] },
    { op: 'DequantizeLinear', inputs: ['w2', 'w2s'], outputs: ['w2d'], attrs: { axis: 0 } },
    { op: 'DequantizeLinear', inputs: ['b2', 'b2s'], outputs: ['b2d'], attrs: { axis: 0 } },
    { op: 'NhwcConv', domain: 'kiln', inputs: ['pd', 'w2d', 'b2d'], outputs: ['c2'],
      attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], group: M, 'kiln.activation': 'HardSwish' } },
    { op: 'QuantizeLinear', inputs: ['c2', 'bs', 'bz'], outputs: ['c2q'] },
    { op: 'DequantizeLinear', inputs: ['c2q', 'bs', 'bz'], outputs: ['c2d'] },
    { op: 'Reshape', inputs: ['c2d', 'shape'], outputs: ['flat'] },
    { op: 'QuantizeLinear', inputs: ['flat', 'bs', 'bz'], outputs: ['flatq'] },
    { op: 'DequantizeLinear', inputs: ['flatq', 'bs', 'bz'], outputs: ['flatd'] },
    { op: 'DequantizeLinear', inputs: ['w3', 'w3s'], outputs: ['w3d'], attrs: { axis: 1 } },
    { op: 'DequantizeLinear', inputs: ['b3', 'b3s'], outputs: ['b3d'], attrs: { axis: 0 } },
    { op: 'MatMul', inputs: ['flatd', 'w3d', 'b3d'], outputs: ['mm'], attrs: { 'kiln.bias': 1 } },
    { op: 'QuantizeLinear', inputs: ['mm', 'ys', 'yz'], outputs: ['yq'] },
    { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
  ],
});

function convertModel(name, ...flags) {
  const dir = tempDir();
  const src = path.join(dir, 'qdq_static.onnx'), out = path.join(dir, `${name}.kiln`);
  fs.writeFileSync(src, QDQ);
  const report = cli('convert', src, '-o', out, ...flags);
  return { out, report };
}

async function runBoth(file, x) {
  const dir = tempDir();
  const xin = path.join(dir, 'qs_x.npy'), outDir = path.join(dir, `${path.basename(file)}-out`);
  writeNpy(xin, x);
  cli('run', file, '--input', `x=${xin}`, '--output-dir', outDir);
  const native = readNpy(path.join(outDir, 'y.npy')).data;
  const session = await Session.create(fs.readFileSync(file), { numThreads: 1 });
  try {
    return { native, wasm: (await session.run({ x: new Tensor('float32', x.data, x.dims) })).y.data };
  } finally {
    session.release();
  }
}

test('static int8 QDQ fuses into int8 ops; fused within one step of fake quant; WASM equals native', async () => {
  requireBuilt();
  const fused = convertModel('qdq_fused');
  // The pass's pattern counts, as `kiln inspect --passes` shows them.
  const passes = cli('inspect', '--passes', path.join(tempDir(), 'qdq_static.onnx'));
  assert.match(passes, /fuse_qdq: 5 rewrites \(QLinearMatMul ×1, QLinearNhwcConv ×1, QLinearNhwcConv \(depthwise\) ×1, int8 NhwcMaxPool ×1, int8 Reshape ×1\)/, passes);
  const ops = cli('inspect', fused.out);
  assert.match(ops, /QLinearNhwcConv 2/, ops);
  assert.match(ops, /QLinearMatMul 1/, ops);
  assert.match(ops, /DequantizeLinear 1/, ops); // only the graph output's
  assert.match(ops, /QuantizeLinear 1/, ops); // only the graph input's
  const plain = convertModel('qdq_plain', '--no-optimize');
  assert.match(cli('inspect', plain.out), /DequantizeLinear 1[0-9]/);

  for (const seed of [11, 12]) {
    const x = { type: 'float32', data: randomFloats(H * W * C, seed), dims: [1, H, W, C] };
    const f = await runBoth(fused.out, x);
    const p = await runBoth(plain.out, x);
    assert.deepEqual(Array.from(f.wasm), Array.from(f.native), 'fused: WASM and native differ');
    assert.deepEqual(Array.from(p.wasm), Array.from(p.native), 'fake quant: WASM and native differ');
    assert.ok(new Set(p.native).size > 3, 'the reference output is nearly constant: the test would prove little');
    let worst = 0;
    for (let i = 0; i < p.native.length; ++i) worst = Math.max(worst, Math.abs(f.native[i] - p.native[i]));
    // One output step; a rounding tie in an earlier layer could move a value by one more.
    assert.ok(worst <= 2 * YS + 1e-6, `max difference ${worst} (${worst / YS} steps)`);
  }
});
