// The ONNX quantized ops in the WASM build against onnxruntime-node on the same small
// graphs: QuantizeLinear -> QLinearConv (uint8 x, int8 per-channel weights, int32 bias,
// pads, strides, groups) -> DequantizeLinear, and QuantizeLinear -> QLinearMatMul (batched,
// int8) -> DequantizeLinear, built with onnx-builder. Quantized outputs are compared
// exactly; a difference of one step is tolerated only where the two runtimes' float
// requantization can round a tie differently, and must stay rare.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';

import ort from 'onnxruntime-node';
import { Session, Tensor } from 'kiln';

import { KILN_CLI, convert, randomFloats, requireBuilt, tempDir } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';

function randomInts(n, lo, hi, seed, Type) {
  const f = randomFloats(n, seed);
  return Type.from(f, (v) => Math.min(hi, Math.floor(lo + ((v + 1) / 2) * (hi - lo + 1))));
}

// x [1, 4, 9, 9] float -> uint8 -> QLinearConv (4 -> 6 channels, group 2, 3x3, stride 2, pad 1)
// -> y uint8 and its dequantized float.
const M = 6;
const CONV = buildOnnx({
  opset: 13,
  inputs: [{ name: 'x', type: 'float32', dims: [1, 4, 9, 9] }],
  outputs: [
    { name: 'yq', type: 'uint8', dims: [1, M, 5, 5] },
    { name: 'y', type: 'float32', dims: [1, M, 5, 5] },
  ],
  initializers: [
    { name: 'xs', type: 'float32', dims: [], data: new Float32Array([0.008]) },
    { name: 'xz', type: 'uint8', dims: [], data: new Uint8Array([120]) },
    { name: 'w', type: 'int8', dims: [M, 2, 3, 3], data: randomInts(M * 18, -127, 127, 5, Int8Array) },
    { name: 'ws', type: 'float32', dims: [M], data: Float32Array.from({ length: M }, (_, i) => 0.002 + 0.001 * i) },
    { name: 'wz', type: 'int8', dims: [M], data: new Int8Array(M) },
    { name: 'ys', type: 'float32', dims: [], data: new Float32Array([0.01]) },
    { name: 'yz', type: 'uint8', dims: [], data: new Uint8Array([128]) },
    { name: 'b', type: 'int32', dims: [M], data: Int32Array.from({ length: M }, (_, i) => i * 300 - 800) },
  ],
  nodes: [
    { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
    {
      op: 'QLinearConv',
      inputs: ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'],
      outputs: ['yq'],
      attrs: { group: 2, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] },
    },
    { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
  ],
});

// a [2, 5, 16] float -> int8 -> QLinearMatMul with b int8 [16, 7] -> int8 and float. Both
// graphs' weights are symmetric, so kiln runs them on its int8 GEMM kernels (the ONNX node
// tests cover the reference loops).
const MATMUL = buildOnnx({
  opset: 13,
  inputs: [{ name: 'a', type: 'float32', dims: [2, 5, 16] }],
  outputs: [
    { name: 'yq', type: 'int8', dims: [2, 5, 7] },
    { name: 'y', type: 'float32', dims: [2, 5, 7] },
  ],
  initializers: [
    { name: 'as', type: 'float32', dims: [], data: new Float32Array([0.009]) },
    { name: 'az', type: 'int8', dims: [], data: new Int8Array([3]) },
    { name: 'b', type: 'int8', dims: [16, 7], data: randomInts(16 * 7, -128, 127, 9, Int8Array) },
    { name: 'bs', type: 'float32', dims: [], data: new Float32Array([0.004]) },
    { name: 'bz', type: 'int8', dims: [], data: new Int8Array([0]) },
    { name: 'ys', type: 'float32', dims: [], data: new Float32Array([0.02]) },
    { name: 'yz', type: 'int8', dims: [], data: new Int8Array([-5]) },
  ],
  nodes: [
    { op: 'QuantizeLinear', inputs: ['a', 'as', 'az'], outputs: ['aq'] },
    { op: 'QLinearMatMul', inputs: ['aq', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['yq'] },
    { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
  ],
});

before(() => requireBuilt());

async function compare(onnx, name, input, dims, converted = convert(onnx, name), yStep = 0.02) {
  const data = randomFloats(dims.reduce((a, b) => a * b, 1), 17);
  const ortSession = await ort.InferenceSession.create(onnx);
  const want = await ortSession.run({ [input]: new ort.Tensor('float32', data, dims) });
  const session = await Session.create(fs.readFileSync(converted), { numThreads: 1 });
  const got = await session.run({ [input]: new Tensor('float32', data, dims) });
  const g = got.yq.data;
  const w = want.yq.data;
  assert.equal(g.length, w.length);
  let exact = 0;
  const distinct = new Set();
  for (let i = 0; i < g.length; ++i) {
    assert.ok(Math.abs(g[i] - w[i]) <= 1, `${name}: element ${i} is ${g[i]}, onnxruntime ${w[i]}`);
    exact += g[i] === w[i];
    distinct.add(w[i]);
  }
  assert.ok(exact >= g.length * 0.98, `${name}: only ${exact} of ${g.length} elements match onnxruntime exactly`);
  assert.ok(distinct.size > 10, `${name}: the oracle output is nearly constant, the test would prove little`);
  for (let i = 0; i < g.length; ++i) assert.ok(Math.abs(got.y.data[i] - want.y.data[i]) <= yStep * 1.005);
}

test('QLinearConv (uint8 x, int8 per-channel w, bias, groups, pads, strides) matches onnxruntime-node', async () => {
  await compare(CONV, 'qlinear_conv', 'x', [1, 4, 9, 9]);
});

test('QLinearMatMul (batched int8) matches onnxruntime-node', async () => {
  await compare(MATMUL, 'qlinear_matmul', 'a', [2, 5, 16]);
});

// onnxruntime's QOperator form of a small CNN: QuantizeLinear -> QLinearConv (8 -> 16, 3x3,
// pad 1, int8 per-channel weights, int32 bias) -> MaxPool on int8 (2x2, stride 2) ->
// QLinearConv (16 -> 8, 1x1) -> DequantizeLinear, int8 activations. kiln convert rewrites
// them (pass unfold_quant_ops) into the static-int8 QDQ form, which fuse_qdq makes
// kiln.QLinearNhwcConv / int8 kiln.NhwcMaxPool, with NHWC Transposes only at the edges.
const CHAIN_W1 = randomInts(16 * 8 * 9, -127, 127, 31, Int8Array);
const CHAIN_W2 = randomInts(8 * 16, -127, 127, 32, Int8Array);
const CHAIN = buildOnnx({
  opset: 13,
  inputs: [{ name: 'x', type: 'float32', dims: [1, 8, 10, 10] }],
  outputs: [
    { name: 'yq', type: 'int8', dims: [1, 8, 5, 5] },
    { name: 'y', type: 'float32', dims: [1, 8, 5, 5] },
  ],
  initializers: [
    { name: 'xs', type: 'float32', dims: [], data: new Float32Array([0.008]) },
    { name: 'xz', type: 'int8', dims: [], data: new Int8Array([-2]) },
    { name: 'w1', type: 'int8', dims: [16, 8, 3, 3], data: CHAIN_W1 },
    { name: 'w1s', type: 'float32', dims: [16], data: Float32Array.from({ length: 16 }, (_, i) => 0.002 + 0.0002 * i) },
    { name: 'w1z', type: 'int8', dims: [16], data: new Int8Array(16) },
    { name: 'hs', type: 'float32', dims: [], data: new Float32Array([0.03]) },
    { name: 'hz', type: 'int8', dims: [], data: new Int8Array([4]) },
    { name: 'b1', type: 'int32', dims: [16], data: Int32Array.from({ length: 16 }, (_, i) => i * 150 - 1200) },
    { name: 'w2', type: 'int8', dims: [8, 16, 1, 1], data: CHAIN_W2 },
    { name: 'w2s', type: 'float32', dims: [8], data: Float32Array.from({ length: 8 }, (_, i) => 0.003 + 0.0003 * i) },
    { name: 'w2z', type: 'int8', dims: [8], data: new Int8Array(8) },
    { name: 'ys', type: 'float32', dims: [], data: new Float32Array([0.04]) },
    { name: 'yz', type: 'int8', dims: [], data: new Int8Array([-6]) },
  ],
  nodes: [
    { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
    {
      op: 'QLinearConv',
      inputs: ['xq', 'xs', 'xz', 'w1', 'w1s', 'w1z', 'hs', 'hz', 'b1'],
      outputs: ['hq'],
      attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    },
    { op: 'MaxPool', inputs: ['hq'], outputs: ['pq'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'QLinearConv', inputs: ['pq', 'hs', 'hz', 'w2', 'w2s', 'w2z', 'ys', 'yz'], outputs: ['yq'], attrs: { kernel_shape: [1, 1] } },
    { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
  ],
});

test('QOperator QLinearConv / MaxPool chain imports as kiln.QLinearNhwcConv / NhwcMaxPool and matches onnxruntime-node', async () => {
  const dir = tempDir();
  const src = path.join(dir, 'qoperator.onnx'), out = path.join(dir, 'qoperator.kiln');
  fs.writeFileSync(src, CHAIN);
  const report = execFileSync(KILN_CLI, ['convert', src, '-o', out], { encoding: 'utf8' });
  assert.match(report, /^2 quantized ONNX nodes imported \(/m);
  const inspect = execFileSync(KILN_CLI, ['inspect', out], { encoding: 'utf8' });
  // The "ops (N nodes):" section: "  OpType count" lines.
  const ops = Object.fromEntries([...inspect.matchAll(/^ {2}(\S+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  assert.equal(ops.QLinearConv, undefined, inspect);
  // fuse_qdq made both int8 convolutions; only the input's QuantizeLinear and the output's
  // DequantizeLinear stay in float.
  assert.equal(ops.QLinearNhwcConv, 2, inspect);
  assert.equal(ops.NhwcConv, undefined, inspect);
  assert.equal(ops.NhwcMaxPool, 1, inspect);  // on int8 too
  assert.equal(ops.MaxPool, undefined, inspect);
  assert.equal(ops.QuantizeLinear, 1, inspect);
  assert.equal(ops.DequantizeLinear, 1, inspect);
  assert.equal(ops.DynamicQuantConv, undefined, 'static QDQ convs must not be requantized at run time');
  // Only the edges change layout: one Transpose before the first conv, one after the last.
  assert.ok((ops.Transpose ?? 0) <= 2, `Transposes left between the convolutions:\n${inspect}`);
  await compare(CHAIN, 'qoperator_chain', 'x', [1, 8, 10, 10], out, 0.04);
});

// A QOperator residual block with onnxruntime's com.microsoft ops: QLinearConv ->
// QLinearAdd (the skip connection) -> QLinearGlobalAveragePool. kiln imports the
// com.microsoft ops for unfold_quant_ops, which makes them DequantizeLinear -> Add /
// GlobalAveragePool -> QuantizeLinear; the conv still fuses into kiln.QLinearNhwcConv.
const RESIDUAL = buildOnnx({
  opset: 13,
  domains: { 'com.microsoft': 1 },
  inputs: [{ name: 'x', type: 'float32', dims: [1, 8, 8, 8] }],
  outputs: [
    { name: 'cq', type: 'int8', dims: [1, 8, 8, 8] },
    { name: 'g', type: 'float32', dims: [1, 8, 1, 1] },
  ],
  initializers: [
    { name: 'xs', type: 'float32', dims: [], data: new Float32Array([0.01]) },
    { name: 'xz', type: 'int8', dims: [], data: new Int8Array([1]) },
    { name: 'w', type: 'int8', dims: [8, 8, 3, 3], data: randomInts(8 * 8 * 9, -127, 127, 41, Int8Array) },
    { name: 'ws', type: 'float32', dims: [8], data: Float32Array.from({ length: 8 }, (_, i) => 0.002 + 0.0003 * i) },
    { name: 'wz', type: 'int8', dims: [8], data: new Int8Array(8) },
    { name: 'hs', type: 'float32', dims: [], data: new Float32Array([0.02]) },
    { name: 'hz', type: 'int8', dims: [], data: new Int8Array([-3]) },
    { name: 'b', type: 'int32', dims: [8], data: Int32Array.from({ length: 8 }, (_, i) => i * 200 - 700) },
    { name: 'cs', type: 'float32', dims: [], data: new Float32Array([0.025]) },
    { name: 'cz', type: 'int8', dims: [], data: new Int8Array([2]) },
    { name: 'gs', type: 'float32', dims: [], data: new Float32Array([0.004]) },
    { name: 'gz', type: 'int8', dims: [], data: new Int8Array([0]) },
  ],
  nodes: [
    { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
    { op: 'QLinearConv', inputs: ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'hs', 'hz', 'b'], outputs: ['hq'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'QLinearAdd', domain: 'com.microsoft', inputs: ['hq', 'hs', 'hz', 'xq', 'xs', 'xz', 'cs', 'cz'], outputs: ['cq'] },
    { op: 'QLinearGlobalAveragePool', domain: 'com.microsoft', inputs: ['cq', 'cs', 'cz', 'gs', 'gz'], outputs: ['gq'], attrs: { channels_last: 0 } },
    { op: 'DequantizeLinear', inputs: ['gq', 'gs', 'gz'], outputs: ['g'] },
  ],
});

test('QOperator residual block with com.microsoft QLinearAdd / QLinearGlobalAveragePool matches onnxruntime-node', async () => {
  const dir = tempDir();
  const src = path.join(dir, 'residual.onnx'), out = path.join(dir, 'residual.kiln');
  fs.writeFileSync(src, RESIDUAL);
  const report = execFileSync(KILN_CLI, ['convert', src, '-o', out], { encoding: 'utf8' });
  assert.match(report, /^3 quantized ONNX nodes imported \(/m);
  const inspect = execFileSync(KILN_CLI, ['inspect', out], { encoding: 'utf8' });
  const ops = Object.fromEntries([...inspect.matchAll(/^ {2}(\S+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  assert.equal(ops.QLinearNhwcConv, 1, inspect);
  // com.microsoft's QLinearAdd is unfolded to DQ -> Add -> Q on import, which fuse_qdq then
  // runs as kiln.QLinearAdd (int8 in, int8 out); the pool's output is a float graph output.
  assert.equal(ops.QLinearAdd, 1, inspect);
  for (const gone of ['QLinearConv', 'QLinearGlobalAveragePool']) assert.equal(ops[gone], undefined, inspect);

  const data = randomFloats(8 * 64, 43);
  const want = await (await ort.InferenceSession.create(RESIDUAL)).run({ x: new ort.Tensor('float32', data, [1, 8, 8, 8]) });
  const session = await Session.create(fs.readFileSync(out), { numThreads: 1 });
  let got;
  try {
    got = await session.run({ x: new Tensor('float32', data, [1, 8, 8, 8]) });
  } finally {
    session.release();
  }
  // int8 sums: one step where the two runtimes round a tie differently, rarely.
  let exact = 0;
  const distinct = new Set(want.cq.data);
  for (let i = 0; i < want.cq.data.length; ++i) {
    assert.ok(Math.abs(got.cq.data[i] - want.cq.data[i]) <= 1, `cq[${i}]: ${got.cq.data[i]} vs ${want.cq.data[i]}`);
    exact += got.cq.data[i] === want.cq.data[i];
  }
  assert.ok(exact >= want.cq.data.length * 0.97, `only ${exact} of ${want.cq.data.length} exact`);
  assert.ok(distinct.size > 10, 'the oracle output is nearly constant, the test would prove little');
  for (let i = 0; i < 8; ++i) assert.ok(Math.abs(got.g.data[i] - want.g.data[i]) <= 0.004 * 1.005, `g[${i}]`);
});
