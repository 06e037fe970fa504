// Static int8 elementwise ops (graph pass fuse_qdq): a squeeze-excite block and residual
// Adds in QDQ form on the channels-last graph, DequantizeLinear -> ReduceMean(axes 1, 2) /
// Mul (x [1, H, W, C] * gate [1, 1, 1, C]) / Add (+ fused Relu; a per-channel int8 constant
// broadcast) -> QuantizeLinear. `kiln convert` fuses them into kiln.QLinearGlobalAveragePool,
// kiln.QLinearMul and kiln.QLinearAdd; the fused model agrees with the unfused one
// (`--no-optimize`: fake quant in float) within one int8 step, and the WASM build gives
// exactly the native CLI's outputs for both.
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

const C = 19, H = 7, W = 9;
const S = (name, v) => ({ name, type: 'float32', dims: [], data: Float32Array.of(v) });
const Z = (name, v) => ({ name, type: 'int8', dims: [], data: Int8Array.of(v) });
// Per-tensor scales and zero points: input, mean, gated, residual sum, output, the constant.
const XS = 4 / 255, XZ = -2, MS = 1.5 / 255, MZ = 9, GS = 3 / 255, GZ = -5, SS = 5 / 255, SZ = -128;
const YS = 6 / 255, YZ = 3, CS = 0.01, CZ = 0;
const QD = (v, s, z) => [
  { op: 'QuantizeLinear', inputs: [v, s, z], outputs: [`${v}q`] },
  { op: 'DequantizeLinear', inputs: [`${v}q`, s, z], outputs: [`${v}d`] },
];

const QDQ = buildOnnx({
  opset: 13,
  inputs: [{ name: 'x', type: 'float32', dims: [1, H, W, C] }],
  outputs: [{ name: 'y', type: 'float32', dims: [1, H, W, C] }],
  initializers: [
    S('xs', XS), Z('xz', XZ), S('ms', MS), Z('mz', MZ), S('gs', GS), Z('gz', GZ), S('ss', SS), Z('sz', SZ),
    S('ys', YS), Z('yz', YZ), S('cs', CS), Z('cz', CZ),
    { name: 'c', type: 'int8', dims: [C], data: Int8Array.from(randomFloats(C, 5), (v) => Math.round(v * 120)) },
  ],
  nodes: [
    ...QD('x', 'xs', 'xz'),
    { op: 'ReduceMean', inputs: ['xd'], outputs: ['m'], attrs: { axes: [1, 2], keepdims: 1 } },
    ...QD('m', 'ms', 'mz'),
    { op: 'Mul', inputs: ['xd', 'md'], outputs: ['g'] },
    ...QD('g', 'gs', 'gz'),
    { op: 'Add', inputs: ['gd', 'xd'], outputs: ['s'], attrs: { 'kiln.activation': 'Relu' } },
    ...QD('s', 'ss', 'sz'),
    { op: 'DequantizeLinear', inputs: ['c', 'cs', 'cz'], outputs: ['cd'] },
    { op: 'Add', inputs: ['sd', 'cd'], outputs: ['t'] },
    { op: 'QuantizeLinear', inputs: ['t', 'ys', 'yz'], outputs: ['tq'] },
    { op: 'DequantizeLinear', inputs: ['tq', 'ys', 'yz'], outputs: ['y'] },
  ],
});

function convertModel(name, ...flags) {
  const dir = tempDir();
  const src = path.join(dir, 'qdq_elementwise.onnx'), out = path.join(dir, `${name}.kiln`);
  fs.writeFileSync(src, QDQ);
  cli('convert', src, '-o', out, ...flags);
  return out;
}

async function runBoth(file, x) {
  const dir = tempDir();
  const xin = path.join(dir, 'qe_x.npy'), outDir = path.join(dir, `${path.basename(file)}-out`);
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

test('int8 SE block and residual Adds fuse; within one step of fake quant; WASM equals native', async () => {
  requireBuilt();
  const fused = convertModel('qe_fused');
  const passes = cli('inspect', '--passes', path.join(tempDir(), 'qdq_elementwise.onnx'));
  assert.match(passes, /fuse_qdq: 4 rewrites \(QLinearAdd ×2, QLinearGlobalAveragePool ×1, QLinearMul ×1\)/, passes);
  const ops = cli('inspect', fused);
  assert.match(ops, /QLinearAdd 2/, ops);
  assert.match(ops, /QLinearMul 1/, ops);
  assert.match(ops, /QLinearGlobalAveragePool 1/, ops);
  assert.match(ops, /QuantizeLinear 1/, ops); // only the graph input's
  assert.match(ops, /DequantizeLinear 1/, ops); // only the graph output's
  const plain = convertModel('qe_plain', '--no-optimize');
  assert.match(cli('inspect', plain), /ReduceMean 1/);

  for (const seed of [11, 12]) {
    const x = { type: 'float32', data: randomFloats(H * W * C, seed), dims: [1, H, W, C] };
    const f = await runBoth(fused, x);
    const p = await runBoth(plain, x);
    assert.deepEqual(Array.from(f.wasm), Array.from(f.native), 'fused: WASM and native differ');
    assert.deepEqual(Array.from(p.wasm), Array.from(p.native), 'fake quant: WASM and native differ');
    assert.ok(new Set(p.native).size > 10, 'the reference output is nearly constant: the test would prove little');
    let worst = 0;
    for (let i = 0; i < p.native.length; ++i) worst = Math.max(worst, Math.abs(f.native[i] - p.native[i]));
    // The mean may round one step differently; Mul and Add reproduce fake quant exactly.
    assert.ok(worst <= 2 * YS + 1e-6, `max difference ${worst} (${worst / YS} steps)`);
  }
});
