// Weight-only QDQ ONNX import (graph pass import_qdq_weights): a model whose Conv and
// MatMul weights are DequantizeLinear(int8 W, per-channel scale) converts to
// kiln.DynamicQuantConv / kiln.DynamicQuantMatMul holding those int8 weights (kiln
// convert reports them, kiln inspect shows the ops, the file is ~4x smaller in weights than
// the same model with float weights), and `kiln run` agrees with onnxruntime-node within
// the error of quantizing activations at run time; the WASM build (the kiln package) runs the
// same file and agrees too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import ort from 'onnxruntime-node';
import { Session, Tensor } from 'kiln';

import { KILN_CLI, randomFloats, requireBuilt, tempDir } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';
import { readNpy, writeNpy } from './npy.mjs';

const cli = (...args) => execFileSync(KILN_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const M = 16, C = 8, K = 64, N = 32;
const int8s = (n, seed) => Int8Array.from(randomFloats(n, seed), (v) => Math.round(v * 127));
const scales = (n, seed) => Float32Array.from(randomFloats(n, seed), (v) => 0.004 + 0.003 * (v + 1));
const W_CONV = int8s(M * C * 9, 3), S_CONV = scales(M, 4);
const W_MM = int8s(K * N, 5), S_MM = scales(N, 6);
const BIAS = Float32Array.from(randomFloats(M, 7), (v) => v * 0.1);

const IO = {
  inputs: [
    { name: 'x', type: 'float32', dims: [1, C, 10, 10] },
    { name: 'a', type: 'float32', dims: [3, K] },
  ],
  outputs: [
    { name: 'y', type: 'float32', dims: [1, M, 10, 10] },
    { name: 'z', type: 'float32', dims: [3, N] },
  ],
};

// x -> Conv(DequantizeLinear(w int8 per output channel)) + bias -> Relu; a -> MatMul(DequantizeLinear(w)).
const QDQ = buildOnnx({
  opset: 13,
  ...IO,
  initializers: [
    { name: 'wc_q', type: 'int8', dims: [M, C, 3, 3], data: W_CONV },
    { name: 'wc_s', type: 'float32', dims: [M], data: S_CONV },
    { name: 'wc_z', type: 'int8', dims: [M], data: new Int8Array(M) },
    { name: 'b', type: 'float32', dims: [M], data: BIAS },
    { name: 'wm_q', type: 'int8', dims: [K, N], data: W_MM },
    { name: 'wm_s', type: 'float32', dims: [N], data: S_MM },
  ],
  nodes: [
    { op: 'DequantizeLinear', inputs: ['wc_q', 'wc_s', 'wc_z'], outputs: ['wc'], attrs: { axis: 0 } },
    { op: 'Conv', inputs: ['x', 'wc', 'b'], outputs: ['yc'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['yc'], outputs: ['y'] },
    { op: 'DequantizeLinear', inputs: ['wm_q', 'wm_s'], outputs: ['wm'], attrs: { axis: 1 } },
    { op: 'MatMul', inputs: ['a', 'wm'], outputs: ['z'] },
  ],
});

// The same model with the weights dequantized to float32 initializers.
const dequant = (q, s, per) => Float32Array.from(q, (v, i) => v * s[per(i)]);
const FLOAT = buildOnnx({
  opset: 13,
  ...IO,
  initializers: [
    { name: 'wc', type: 'float32', dims: [M, C, 3, 3], data: dequant(W_CONV, S_CONV, (i) => Math.floor(i / (C * 9))) },
    { name: 'b', type: 'float32', dims: [M], data: BIAS },
    { name: 'wm', type: 'float32', dims: [K, N], data: dequant(W_MM, S_MM, (i) => i % N) },
  ],
  nodes: [
    { op: 'Conv', inputs: ['x', 'wc', 'b'], outputs: ['yc'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['yc'], outputs: ['y'] },
    { op: 'MatMul', inputs: ['a', 'wm'], outputs: ['z'] },
  ],
});

function convertModel(bytes, name) {
  const dir = tempDir();
  const src = path.join(dir, `${name}.onnx`), out = path.join(dir, `${name}.kiln`);
  fs.writeFileSync(src, bytes);
  const report = cli('convert', src, '-o', out);
  return { out, report };
}

test('weight-only QDQ Conv and MatMul import as kiln int8 and match onnxruntime-node', async () => {
  requireBuilt();
  const qdq = convertModel(QDQ, 'qdq_weights');
  assert.match(qdq.report, /^2 quantized weights imported as kiln int8$/m);
  const ops = cli('inspect', qdq.out);
  assert.match(ops, /DynamicQuantConv/);
  assert.match(ops, /DynamicQuantMatMul/);
  assert.doesNotMatch(ops, /DequantizeLinear/);
  // int8 weights: 3 bytes saved per weight element against the float32 model (minus scales).
  const fl = convertModel(FLOAT, 'qdq_float');
  assert.doesNotMatch(fl.report, /imported as kiln int8/);
  const saved = fs.statSync(fl.out).size - fs.statSync(qdq.out).size;
  const elements = W_CONV.length + W_MM.length;
  assert.ok(saved > 2.5 * elements, `only ${saved} bytes smaller than float for ${elements} weights`);

  const x = { type: 'float32', data: randomFloats(C * 100, 11), dims: [1, C, 10, 10] };
  const a = { type: 'float32', data: randomFloats(3 * K, 12), dims: [3, K] };
  const dir = tempDir();
  writeNpy(path.join(dir, 'qdq_x.npy'), x);
  writeNpy(path.join(dir, 'qdq_a.npy'), a);
  const outDir = path.join(dir, 'qdq-out');
  cli('run', qdq.out, '--input', `x=${path.join(dir, 'qdq_x.npy')}`, '--input', `a=${path.join(dir, 'qdq_a.npy')}`,
    '--output-dir', outDir);
  const session = await ort.InferenceSession.create(QDQ);
  const want = await session.run({ x: new ort.Tensor('float32', x.data, x.dims), a: new ort.Tensor('float32', a.data, a.dims) });
  const wasm = await Session.create(fs.readFileSync(qdq.out), { numThreads: 1 });
  let wasmOut;
  try {
    wasmOut = await wasm.run({ x: new Tensor('float32', x.data, x.dims), a: new Tensor('float32', a.data, a.dims) });
  } finally {
    wasm.release();
  }
  for (const [name, got] of ['y', 'z'].flatMap((n) => [
    [n, readNpy(path.join(outDir, `${n}.npy`)).data],
    [`${n} (WASM)`, wasmOut[n].data],
  ])) {
    const w = want[name.split(' ')[0]].data;
    assert.equal(got.length, w.length, name);
    let range = 0, worst = 0;
    for (let i = 0; i < w.length; ++i) range = Math.max(range, Math.abs(w[i]));
    for (let i = 0; i < w.length; ++i) worst = Math.max(worst, Math.abs(got[i] - w[i]));
    assert.ok(range > 0.05, `${name}: the reference output is nearly zero, the test would prove little`);
    // Activations are quantized to int8 at run time: about 1% of the range.
    assert.ok(worst <= 0.02 * range, `${name}: max error ${worst} for range ${range}`);
  }
});

// onnxruntime's quantize_dynamic form (pass unfold_quant_ops): DynamicQuantizeLinear ->
// ConvInteger / MatMulInteger -> Cast -> Mul(Mul(x_scale, w_scale)) [-> Add(Reshape(bias))].
// The Conv's weights are uint8 with zero point 128 (what ConvInteger runs on in
// onnxruntime), shifted exactly to int8; the MatMul's are int8 per column. Both import as
// kiln.DynamicQuantConv / kiln.DynamicQuantMatMul and agree with onnxruntime-node.
const W_CONV_U8 = Uint8Array.from(W_CONV, (v) => v + 128);
const DYNAMIC = buildOnnx({
  opset: 13,
  ...IO,
  initializers: [
    { name: 'wc_q', type: 'uint8', dims: [M, C, 3, 3], data: W_CONV_U8 },
    { name: 'wc_z', type: 'uint8', dims: [], data: new Uint8Array([128]) },
    { name: 'wc_s', type: 'float32', dims: [], data: new Float32Array([0.005]) },
    { name: 'b', type: 'float32', dims: [M], data: BIAS },
    { name: 'b_shape', type: 'int64', dims: [4], data: new BigInt64Array([1n, -1n, 1n, 1n]) },
    { name: 'wm_q', type: 'int8', dims: [K, N], data: W_MM },
    { name: 'wm_z', type: 'int8', dims: [N], data: new Int8Array(N) },
    { name: 'wm_s', type: 'float32', dims: [N], data: S_MM },
  ],
  nodes: [
    { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['x_q', 'x_s', 'x_z'] },
    { op: 'ConvInteger', inputs: ['x_q', 'wc_q', 'x_z', 'wc_z'], outputs: ['ci'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Cast', inputs: ['ci'], outputs: ['cf'], attrs: { to: 1 } },
    { op: 'Mul', inputs: ['x_s', 'wc_s'], outputs: ['cs'] },
    { op: 'Mul', inputs: ['cf', 'cs'], outputs: ['c0'] },
    { op: 'Reshape', inputs: ['b', 'b_shape'], outputs: ['br'] },
    { op: 'Add', inputs: ['c0', 'br'], outputs: ['c1'] },
    { op: 'Relu', inputs: ['c1'], outputs: ['y'] },
    { op: 'DynamicQuantizeLinear', inputs: ['a'], outputs: ['a_q', 'a_s', 'a_z'] },
    { op: 'MatMulInteger', inputs: ['a_q', 'wm_q', 'a_z', 'wm_z'], outputs: ['mi'] },
    { op: 'Cast', inputs: ['mi'], outputs: ['mf'], attrs: { to: 1 } },
    { op: 'Mul', inputs: ['a_s', 'wm_s'], outputs: ['ms'] },
    { op: 'Mul', inputs: ['mf', 'ms'], outputs: ['z'] },
  ],
});

test('quantize_dynamic ConvInteger / MatMulInteger import as kiln int8 and match onnxruntime-node', async () => {
  requireBuilt();
  const dyn = convertModel(DYNAMIC, 'dynamic');
  assert.match(dyn.report, /^2 quantized ONNX nodes imported \(/m);
  assert.doesNotMatch(dyn.report, /dequantized to float/);
  assert.match(dyn.report, /^2 quantized weights imported as kiln int8$/m);
  const ops = cli('inspect', dyn.out);
  assert.match(ops, /DynamicQuantConv/);
  assert.match(ops, /DynamicQuantMatMul/);
  for (const gone of ['ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear', 'Cast'])
    assert.doesNotMatch(ops, new RegExp(`\\b${gone}\\b`), `${gone} left in the converted model`);

  const x = randomFloats(C * 100, 21), a = randomFloats(3 * K, 22);
  const session = await ort.InferenceSession.create(DYNAMIC);
  const want = await session.run({ x: new ort.Tensor('float32', x, [1, C, 10, 10]), a: new ort.Tensor('float32', a, [3, K]) });
  const wasm = await Session.create(fs.readFileSync(dyn.out), { numThreads: 1 });
  let got;
  try {
    got = await wasm.run({ x: new Tensor('float32', x, [1, C, 10, 10]), a: new Tensor('float32', a, [3, K]) });
  } finally {
    wasm.release();
  }
  for (const name of ['y', 'z']) {
    const w = want[name].data, g = got[name].data;
    assert.equal(g.length, w.length, name);
    let range = 0, worst = 0;
    for (let i = 0; i < w.length; ++i) range = Math.max(range, Math.abs(w[i]));
    for (let i = 0; i < w.length; ++i) worst = Math.max(worst, Math.abs(g[i] - w[i]));
    assert.ok(range > 0.05, `${name}: the reference output is nearly zero, the test would prove little`);
    // Both quantize the activations at run time (onnxruntime per tensor, kiln per row).
    assert.ok(worst <= 0.03 * range, `${name}: max error ${worst} for range ${range}`);
  }
});
