// LSTM / GRU / RNN against onnxruntime-node: small one-node models with random weights
// covering directions, layouts, sequence lengths, initial states, peepholes, clip,
// input_forget, linear_before_reset, custom activations and omitted optional inputs
// and outputs. Each is converted with the CLI, run natively (`kiln run`) and in WASM,
// and every output compared with onnxruntime (atol 1e-5, rtol 1e-4).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import ort from 'onnxruntime-node';
import { Session, Tensor } from '../../web/index.js';
import { KILN_CLI, convert, maxError, randomFloats, requireBuilt, tempDir } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';
import { readNpy, writeNpy } from './npy.mjs';

requireBuilt();

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };

// c: { op, seq, batch, input, hidden, dirs, layout, attrs, bias, seqLens, initialH, initialC, peephole, outputs }
function recurrentCase(c, seed) {
  const g = GATES[c.op], D = c.dirs ?? 1, H = c.hidden, L = c.layout ?? 0;
  const xDims = L === 0 ? [c.seq, c.batch, c.input] : [c.batch, c.seq, c.input];
  const stateDims = L === 0 ? [D, c.batch, H] : [c.batch, D, H];
  const f32 = (name, dims, s, scale = 1) => {
    const data = randomFloats(dims.reduce((a, b) => a * b, 1), s).map((v) => v * scale);
    return { name, type: 'float32', dims, data };
  };
  const initializers = [f32('W', [D, g * H, c.input], seed + 1, 0.6), f32('R', [D, g * H, H], seed + 2, 0.6)];
  const inputs = [{ name: 'X', type: 'float32', dims: xDims }];
  const feeds = { X: f32('X', xDims, seed + 3, 1.5) };
  const names = ['X', 'W', 'R', '', '', '', '', ''].slice(0, c.op === 'LSTM' ? 8 : 6);
  if (c.bias) {
    initializers.push(f32('B', [D, 2 * g * H], seed + 4, 0.5));
    names[3] = 'B';
  }
  if (c.seqLens) {
    initializers.push({ name: 'lens', type: 'int32', dims: [c.batch], data: Int32Array.from(c.seqLens) });
    names[4] = 'lens';
  }
  if (c.initialH) {
    inputs.push({ name: 'h0', type: 'float32', dims: stateDims });
    feeds.h0 = f32('h0', stateDims, seed + 5);
    names[5] = 'h0';
  }
  if (c.initialC) {
    inputs.push({ name: 'c0', type: 'float32', dims: stateDims });
    feeds.c0 = f32('c0', stateDims, seed + 6);
    names[6] = 'c0';
  }
  if (c.peephole) {
    initializers.push(f32('P', [D, 3 * H], seed + 7, 0.5));
    names[7] = 'P';
  }
  while (names.length && names[names.length - 1] === '') names.pop();
  const outNames = c.outputs ?? (c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']);
  const yDims = L === 0 ? [c.seq, D, c.batch, H] : [c.batch, c.seq, D, H];
  const outputs = outNames.filter((n) => n).map((n) => ({ name: n, type: 'float32', dims: n === 'Y' ? yDims : stateDims }));
  const direction = D === 2 ? 'bidirectional' : c.reverse ? 'reverse' : 'forward';
  const attrs = { hidden_size: H, direction, ...(L ? { layout: L } : {}), ...(c.attrs ?? {}) };
  const onnx = buildOnnx({
    opset: 14,
    inputs,
    outputs,
    initializers,
    nodes: [{ op: c.op, inputs: names, outputs: outNames, attrs }],
  });
  // onnxruntime only runs layout 0: its reference for layout 1 is the layout-0 op
  // between Transposes (X, initial states in; Y, final states out).
  let ortOnnx = onnx;
  if (L === 1) {
    const t = (x, y, perm) => ({ op: 'Transpose', inputs: [x], outputs: [y], attrs: { perm } });
    const nodes = [];
    const inner = names.map((n) => (['X', 'h0', 'c0'].includes(n) ? `${n}_t` : n));
    for (const n of ['X', 'h0', 'c0']) if (names.includes(n)) nodes.push(t(n, `${n}_t`, [1, 0, 2]));
    const innerOut = outNames.map((n) => (n ? `${n}_t` : ''));
    nodes.push({ op: c.op, inputs: inner, outputs: innerOut, attrs: { ...attrs, layout: 0 } });
    for (const n of outNames) if (n) nodes.push(t(`${n}_t`, n, n === 'Y' ? [2, 0, 1, 3] : [1, 0, 2]));
    ortOnnx = buildOnnx({ opset: 14, inputs, outputs, initializers, nodes });
  }
  for (const f of Object.values(feeds)) delete f.name;
  return { onnx, ortOnnx, feeds, outputs: outputs.map((o) => o.name) };
}

const CASES = [
  { name: 'LSTM forward, bias, initial h/c', op: 'LSTM', seq: 5, batch: 3, input: 4, hidden: 6, bias: true, initialH: true, initialC: true },
  { name: 'LSTM bidirectional, sequence_lens, peepholes, clip', op: 'LSTM', seq: 6, batch: 3, input: 5, hidden: 4, dirs: 2,
    bias: true, seqLens: [6, 2, 4], initialH: true, initialC: true, peephole: true, attrs: { clip: 0.7 } },
  { name: 'LSTM reverse, input_forget, no B, only Y_h', op: 'LSTM', seq: 4, batch: 2, input: 3, hidden: 5, reverse: true,
    attrs: { input_forget: 1 }, outputs: ['', 'Y_h'] },
  { name: 'LSTM layout 1 bidirectional, sequence_lens', op: 'LSTM', seq: 5, batch: 3, input: 4, hidden: 3, dirs: 2, layout: 1,
    bias: true, seqLens: [3, 5, 1], initialH: true, initialC: true },
  { name: 'LSTM custom activations', op: 'LSTM', seq: 3, batch: 2, input: 3, hidden: 4, bias: true,
    attrs: { activations: ['HardSigmoid', 'LeakyRelu', 'ScaledTanh'], activation_alpha: { floats: [0.3, 0.2, 1.5] },
             activation_beta: { floats: [0.4, 0.7] } } },
  { name: 'GRU forward, bias, initial h', op: 'GRU', seq: 5, batch: 2, input: 4, hidden: 5, bias: true, initialH: true },
  { name: 'GRU bidirectional, sequence_lens, linear_before_reset', op: 'GRU', seq: 6, batch: 3, input: 4, hidden: 3, dirs: 2,
    bias: true, seqLens: [1, 6, 3], initialH: true, attrs: { linear_before_reset: 1 } },
  { name: 'GRU layout 1 reverse, clip, Softsign/Elu', op: 'GRU', seq: 4, batch: 3, input: 2, hidden: 4, layout: 1, reverse: true,
    bias: true, initialH: true, attrs: { clip: 0.9, activations: ['Softsign', 'Elu'], activation_alpha: { floats: [0.5] } } },
  { name: 'RNN forward defaults, no B', op: 'RNN', seq: 4, batch: 2, input: 3, hidden: 4 },
  { name: 'RNN bidirectional, sequence_lens, Relu/Affine', op: 'RNN', seq: 5, batch: 3, input: 3, hidden: 4, dirs: 2, bias: true,
    seqLens: [5, 3, 2], initialH: true,
    attrs: { activations: ['Relu', 'Affine'], activation_alpha: { floats: [0.5] }, activation_beta: { floats: [0.1] } } },
  { name: 'RNN layout 1, ThresholdedRelu/Softplus bidirectional', op: 'RNN', seq: 3, batch: 2, input: 4, hidden: 3, dirs: 2,
    layout: 1, bias: true, initialH: true,
    attrs: { activations: ['ThresholdedRelu', 'Softplus'], activation_alpha: { floats: [0.1] } } },
];

async function ortRun(onnx, feeds) {
  const s = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new ort.Tensor(f.type, f.data, f.dims)])));
  await s.release?.();
  return out;
}

function nativeRun(kilnFile, feeds, key) {
  const dir = path.join(tempDir(), `${key}-native`);
  fs.mkdirSync(dir, { recursive: true });
  const args = ['run', kilnFile, '--output-dir', path.join(dir, 'out')];
  for (const [name, f] of Object.entries(feeds)) {
    const file = path.join(dir, `in-${name}.npy`);
    writeNpy(file, f);
    args.push('--input', `${name}=${file}`);
  }
  execFileSync(KILN_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return (name) => readNpy(path.join(dir, 'out', `${name}.npy`));
}

function check(label, got, ref) {
  assert.deepEqual(Array.from(got.dims, Number), Array.from(ref.dims, Number), `${label}: dims`);
  const err = maxError(got.data, ref.data);
  assert.ok(err <= 1, `${label}: error ${err} (atol 1e-5 + rtol 1e-4 units)`);
}

CASES.forEach((c, i) => {
  test(`${c.name}: native and WASM match onnxruntime-node`, async () => {
    const { onnx, ortOnnx, feeds, outputs } = recurrentCase(c, 100 * (i + 1));
    const ref = await ortRun(ortOnnx, feeds);
    // The case must exercise the op: outputs vary.
    const y = ref[outputs[0]].data;
    assert.ok(Math.max(...y) - Math.min(...y) > 0.05, 'reference outputs hardly vary');
    const kilnFile = convert(onnx, `recurrent-${i}`);
    const native = nativeRun(kilnFile, feeds, `recurrent-${i}`);
    const session = await Session.create(fs.readFileSync(kilnFile));
    try {
      const wasm = await session.run(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new Tensor(f.type, f.data, f.dims)])));
      for (const name of outputs) {
        check(`${c.name} native ${name}`, native(name), ref[name]);
        check(`${c.name} wasm ${name}`, wasm[name], ref[name]);
      }
    } finally {
      session.release();
    }
  });
});
