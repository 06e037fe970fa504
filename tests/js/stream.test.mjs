// Session.stream(): outputs carried back as inputs across runs. First the API on a tiny
// accumulator model, then streaming voice-activity detection as a Silero user does it:
// 512-sample chunks of a speech-like signal (after 64 samples of context), the state
// carried by kiln (WASM) and by hand through onnxruntime-node, every step compared.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';

import ort from 'onnxruntime-node';
import { KilnError, Session, Tensor } from '../../web/index.js';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { convert, maxError, requireBuilt } from './helpers.mjs';
import { buildOnnx } from './onnx-builder.mjs';
import { speechLikeSignal } from './speech-signal.mjs';

requireBuilt();

// sum = x + acc, scaled = 2 * sum: carrying sum -> acc makes a running total.
const accumulator = () =>
  buildOnnx({
    inputs: [
      { name: 'x', type: 'float32', dims: [2] },
      { name: 'acc', type: 'float32', dims: ['n'] },
    ],
    outputs: [
      { name: 'sum', type: 'float32', dims: [2] },
      { name: 'scaled', type: 'float32', dims: [2] },
    ],
    initializers: [{ name: 'two', type: 'float32', dims: [], data: Float32Array.of(2) }],
    nodes: [
      { op: 'Add', inputs: ['x', 'acc'], outputs: ['sum'] },
      { op: 'Mul', inputs: ['sum', 'two'], outputs: ['scaled'] },
    ],
  });

test('stream carries outputs to inputs, starts from zeros or initial, and reset() restarts', async () => {
  const session = await Session.create(fs.readFileSync(convert(accumulator(), 'accumulator')));
  try {
    const s = session.stream({ carry: { sum: 'acc' } });
    assert.deepEqual(Array.from(s.state.acc.data), [0]);  // symbolic dim n taken as 1
    const x = (a, b) => new Tensor('float32', Float32Array.of(a, b), [2]);
    assert.deepEqual(Array.from((await s.run({ x: x(1, 2) })).sum.data), [1, 2]);
    assert.deepEqual(Array.from((await s.run({ x: x(3, 4) })).sum.data), [4, 6]);
    const out = await s.run({ x: x(1, 1) });
    assert.deepEqual(Array.from(out.sum.data), [5, 7]);
    assert.deepEqual(Array.from(out.scaled.data), [10, 14]);
    assert.deepEqual(Array.from(s.state.acc.data), [5, 7]);
    // A carried input given in feeds wins for that run, and is carried on from there.
    assert.deepEqual(Array.from((await s.run({ x: x(1, 1), acc: x(100, 200) })).sum.data), [101, 201]);
    s.reset();
    assert.deepEqual(Array.from((await s.run({ x: x(1, 2) })).sum.data), [1, 2]);

    const t = session.stream({ carry: { sum: 'acc' }, initial: { acc: x(10, 20) } });
    assert.deepEqual(Array.from((await t.run({ x: x(1, 2) })).sum.data), [11, 22]);
    t.reset();
    assert.deepEqual(Array.from((await t.run({ x: x(0, 0) })).sum.data), [10, 20]);
  } finally {
    session.release();
  }
});

test('stream rejects names that are not outputs / inputs', async () => {
  const session = await Session.create(fs.readFileSync(convert(accumulator(), 'accumulator-bad')));
  try {
    const bad = (options, re) =>
      assert.throws(() => session.stream(options), (e) => e instanceof KilnError && e.code === 'invalid_argument' && re.test(e.message));
    bad({ carry: { nope: 'acc' } }, /'nope' is not an output/);
    bad({ carry: { sum: 'nope' } }, /'nope' is not an input/);
    bad({ carry: {} }, /carry names no output/);
    bad({}, /carry/);
    bad({ carry: { sum: 'acc' }, initial: { x: new Tensor('float32', [1, 2], [2]) } }, /'x' is not a carried input/);
  } finally {
    session.release();
  }
});

const models = ensureModels({ quiet: true });
const SIGNAL = speechLikeSignal();  // 1.5 s: 0.3 s of faint noise, 0.9 s of "speech", noise
const CHUNK = 512, CONTEXT = 64, STEPS = 30;

for (const key of ['silero16kOp15', 'sileroV5', 'sileroHalf', 'silero']) {
  test(`${key}: streaming VAD with carried state matches onnxruntime-node step by step`, async () => {
    const kiln = await Session.create(fs.readFileSync(convert(models[key], `stream-${key}`)));
    const ortSession = await ort.InferenceSession.create(models[key], { intraOpNumThreads: 1, logSeverityLevel: 3 });
    try {
      const hasSr = kiln.inputNames.includes('sr');
      const sr = new Tensor('int64', BigInt64Array.of(16000n), []);
      const vad = kiln.stream({ carry: { stateN: 'state' } });
      let ortState = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
      const probs = [];
      const chunk = (step) => {
        const x = new Float32Array(CONTEXT + CHUNK);  // the previous chunk's last 64 samples, then the chunk
        const at = step * CHUNK;
        if (at >= CONTEXT) x.set(SIGNAL.subarray(at - CONTEXT, at), 0);
        x.set(SIGNAL.subarray(at, at + CHUNK), CONTEXT);
        return x;
      };
      for (let step = 0; step < STEPS; step++) {
        const x = chunk(step);
        const out = await vad.run({ input: new Tensor('float32', x, [1, x.length]), ...(hasSr ? { sr } : {}) });
        const ref = await ortSession.run({
          input: new ort.Tensor('float32', x, [1, x.length]),
          state: ortState,
          ...(hasSr ? { sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []) } : {}),
        });
        ortState = ref.stateN;
        const pErr = maxError(out.output.data, ref.output.data, { atol: 1e-4, rtol: 1e-4 });
        assert.ok(pErr <= 1, `step ${step}: probability ${out.output.data[0]} vs onnxruntime ${ref.output.data[0]}`);
        const sErr = maxError(vad.state.state.data, ref.stateN.data, { atol: 1e-4, rtol: 1e-4 });
        assert.ok(sErr <= 1, `step ${step}: carried state differs from onnxruntime's (error ${sErr})`);
        probs.push(ref.output.data[0]);
      }
      // The signal must move the detector (silence low, speech high) or the check is weak.
      assert.ok(Math.min(...probs) < 0.1 && Math.max(...probs) > 0.9, `probabilities ${probs.map((p) => p.toFixed(2))}`);
      // reset() starts a new stream: the first step repeats exactly.
      vad.reset();
      const again = await vad.run({ input: new Tensor('float32', chunk(0), [1, CONTEXT + CHUNK]), ...(hasSr ? { sr } : {}) });
      const first = await kiln.run({
        input: new Tensor('float32', chunk(0), [1, CONTEXT + CHUNK]),
        state: new Tensor('float32', new Float32Array(256), [2, 1, 128]),
        ...(hasSr ? { sr } : {}),
      });
      assert.deepEqual(Array.from(again.output.data), Array.from(first.output.data));
    } finally {
      kiln.release();
      await ortSession.release?.();
    }
  });
}
