// The image and OCR pre/post-processing now runs in C++ (src/vision via kiln-vision.wasm):
// every function must give what the JS implementation it replaced gave (kept only as the
// oracle in vision-oracle.mjs), bit for bit, on random inputs with awkward sizes and on the
// real PP-OCRv4 models and image; and the native `kiln ocr` must read the same lines in the
// same boxes as recognizeText in WASM.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { Session, Tensor, imageToTensor, softmax, topK } from '../../web/index.js';
import {
  decodePNG, parseKeys, preprocessDetector, preprocessRecognizer, ctcGreedyDecode, detectTextBoxes, cropAndResize, recognizeText,
} from '../../web/ocr.js';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { KILN_CLI, ROOT } from './helpers.mjs';
import {
  imageToTensorOracle, softmaxOracle, topKOracle, preprocessRecognizerOracle, preprocessDetectorOracle,
  ctcGreedyDecodeOracle, detectTextBoxesOracle, cropAndResizeOracle,
} from './vision-oracle.mjs';

// Deterministic pseudo-random bytes (LCG).
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) / 16777216;
}
function randomImage(width, height, channels, seed) {
  const r = rng(seed);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  // Some fully opaque alpha, some transparent, some in between.
  if (channels === 2 || channels === 4) for (let i = channels - 1; i < data.length; i += channels * 3) data[i] = 255;
  return { width, height, channels, data };
}
const SIZES = [[1, 1], [1, 7], [7, 1], [2, 3], [31, 33], [33, 31], [97, 5], [200, 48]];

// Same numbers, bit for bit (deepEqual on typed arrays compares with Object.is per element).
function sameArray(got, want, label) {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${label}: element ${i} is ${got[i]}, the JS gave ${want[i]}`);
  }
}

describe('src/vision in WASM gives what the JS implementation gave', () => {
  it('imageToTensor: resize, layouts, gray, uint8, channel orders', () => {
    const optionSets = [{}, { width: 17, height: 9 }, { width: 3, height: 64, layout: 'nhwc', channelOrder: 'bgr' },
      { channels: 1, dtype: 'uint8', width: 50, height: 50 }, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], width: 224, height: 224 },
      { scale: 1, mean: 127.5, std: 128, width: 1, height: 1 }];
    for (const [w, h] of SIZES) {
      for (const ch of [1, 3, 4]) {
        const img = randomImage(w, h, ch, w * 131 + h * 7 + ch);
        for (const o of optionSets) {
          const label = `${w}x${h}x${ch} ${JSON.stringify(o)}`;
          const got = imageToTensor(img, o), want = imageToTensorOracle(img, o);
          assert.deepEqual(got.dims, want.dims, label);
          sameArray(got.data, want.data, label);
        }
      }
    }
  });

  it('preprocessRecognizer / preprocessDetector / cropAndResize on random images', () => {
    for (const [w, h] of SIZES) {
      for (const ch of [1, 2, 3, 4]) {
        const img = randomImage(w, h, ch, w * 17 + h * 3 + ch);
        const label = `${w}x${h}x${ch}`;
        for (const o of [{}, { channelOrder: 'rgb', background: 0 }, { height: 32, minWidth: 0, widthMultiple: 1 }]) {
          const got = preprocessRecognizer(img, o), want = preprocessRecognizerOracle(img, o);
          assert.deepEqual([got.dims, got.resizedWidth], [want.dims, want.resizedWidth], label);
          sameArray(got.data, want.data, `${label} recognizer ${JSON.stringify(o)}`);
        }
        for (const o of [{}, { limitSideLen: 64, channelOrder: 'rgb' }]) {
          const got = preprocessDetector(img, o), want = preprocessDetectorOracle(img, o);
          assert.deepEqual([got.dims, got.scaleX, got.scaleY], [want.dims, want.scaleX, want.scaleY], label);
          sameArray(got.data, want.data, `${label} detector ${JSON.stringify(o)}`);
        }
        const r = rng(w + h);
        for (let k = 0; k < 4; k++) {
          const box = { x: r() * w - 1, y: r() * h - 1, width: 1 + r() * w, height: 1 + r() * h };
          let want;
          try {
            want = cropAndResizeOracle(img, box, 48);
          } catch {
            assert.throws(() => cropAndResize(img, box, 48), /empty inside/);
            continue;
          }
          const got = cropAndResize(img, box, 48);
          assert.deepEqual(got.dims, want.dims, `${label} box ${JSON.stringify(box)}`);
          sameArray(got.data, want.data, `${label} crop ${JSON.stringify(box)}`);
        }
      }
    }
  });

  it('detectTextBoxes on random blob maps', () => {
    for (const [H, W, seed] of [[1, 1, 1], [5, 9, 2], [40, 60, 3], [64, 200, 4], [131, 97, 5]]) {
      const r = rng(seed);
      const map = new Float32Array(H * W);
      for (let b = 0; b < 12; b++) {
        const y0 = Math.floor(r() * H), x0 = Math.floor(r() * W);
        const y1 = Math.min(H - 1, y0 + Math.floor(r() * 9)), x1 = Math.min(W - 1, x0 + Math.floor(r() * 30));
        for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) map[y * W + x] = 0.2 + 0.8 * r();
      }
      for (const o of [{}, { boxThreshold: 0.3, minSize: 1 }, { imageWidth: 3 * W + 1, imageHeight: 2 * H, unclipRatio: 2 },
        { maxCandidates: 3, threshold: 0.5, boxThreshold: 0 }]) {
        assert.deepEqual(detectTextBoxes(map, [1, 1, H, W], o), detectTextBoxesOracle(map, [1, 1, H, W], o), `${H}x${W} ${JSON.stringify(o)}`);
      }
    }
  });

  it('softmax and topK', () => {
    const r = rng(9);
    for (const n of [1, 2, 7, 1000]) {
      const x = Float32Array.from({ length: 3 * n }, () => (r() - 0.5) * 40);
      sameArray(softmax(new Tensor('float32', x, [3, n])), softmaxOracle(x, n), `softmax ${n}`);
      const v = x.subarray(0, n);
      for (const k of [1, 5, n + 3]) assert.deepEqual(topK(v, k), topKOracle(v, k), `topK ${n} ${k}`);
    }
    const mixed = [3, NaN, -Infinity, 3, 1e-30, 7];
    assert.deepEqual(topK(mixed, 4), topKOracle(mixed, 4));
    sameArray(softmax(mixed.filter((v) => !Number.isNaN(v))), softmaxOracle(mixed.filter((v) => !Number.isNaN(v)), 5), 'softmax array');
  });
});

// --- the real models ---------------------------------------------------------------------
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
// An 8-bit RGBA PNG (filter 0) for the CLI.
function encodeRGBA({ width, height, data }) {
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) Buffer.from(data.buffer, data.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

describe('OCR on the PP-OCRv4 models: C++ in WASM vs the JS oracle vs native `kiln ocr`', () => {
  const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-vision-'));
  let detector, recognizer, keys, models, page;
  after(() => {
    detector?.release();
    recognizer?.release();
    fs.rmSync(TMP, { recursive: true, force: true });
  });
  before(async () => {
    assert.ok(fs.existsSync(KILN_CLI), `${KILN_CLI} is missing: run \`npm run build:native\``);
    models = ensureModels({ quiet: true });
    for (const key of ['detector', 'recognizer'])
      execFileSync(KILN_CLI, ['convert', models[key], '-o', path.join(TMP, `${key}.kiln`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    detector = await Session.create(fs.readFileSync(path.join(TMP, 'detector.kiln')));
    recognizer = await Session.create(fs.readFileSync(path.join(TMP, 'recognizer.kiln')));
    keys = parseKeys(fs.readFileSync(models.recognizerKeys, 'utf8'));
    // The shipped text line twice on a white 700x200 RGBA page, the second indented and lower.
    const line = await decodePNG(fs.readFileSync(path.join(ROOT, 'tests/data/textline.png')));
    const W = 700, H = 200;
    const data = new Uint8Array(W * H * 4).fill(255);
    for (const [ox, oy] of [[20, 20], [150, 120]])
      for (let y = 0; y < line.height; y++)
        for (let x = 0; x < line.width; x++)
          for (let c = 0; c < 3; c++) data[((oy + y) * W + ox + x) * 4 + c] = line.data[(y * line.width + x) * 3 + c];
    page = { width: W, height: H, data };
    fs.writeFileSync(path.join(TMP, 'page.png'), encodeRGBA(page));
  });

  const run = async (session, input) => {
    const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', input.data, input.dims) });
    const y = out[session.outputNames[0]];
    return { data: y.data, dims: Array.from(y.dims, Number) };
  };

  it('every stage matches the JS oracle on the real detector and recognizer outputs', async () => {
    const detIn = preprocessDetector(page);
    sameArray(detIn.data, preprocessDetectorOracle(page).data, 'detector input');
    const prob = await run(detector, detIn);
    const opts = { unclipRatio: 1.6, imageWidth: page.width, imageHeight: page.height };
    const boxes = detectTextBoxes(prob.data, prob.dims, opts);
    assert.deepEqual(boxes, detectTextBoxesOracle(prob.data, prob.dims, opts));
    assert.equal(boxes.length, 2);
    for (const { score, ...box } of boxes) {
      const recIn = cropAndResize(page, box);
      sameArray(recIn.data, cropAndResizeOracle(page, box).data, `crop ${JSON.stringify(box)}`);
      const probs = await run(recognizer, recIn);
      const got = ctcGreedyDecode(probs.data, probs.dims, keys);
      const want = ctcGreedyDecodeOracle(probs.data, probs.dims, keys);
      assert.deepEqual({ text: got.text, score: got.score, indices: got.indices }, want);
      assert.equal(got.text, 'kiln runs models in the browser');
      assert.equal(got.charScores.length, got.text.length);
      assert.ok(Math.abs(got.charScores.reduce((a, b) => a + b, 0) / got.charScores.length - got.score) < 1e-6);
    }
  });

  it('native `kiln ocr` reads the same lines in the same boxes as recognizeText (WASM)', async () => {
    const png = path.join(TMP, 'page.png');
    const native = JSON.parse(execFileSync(KILN_CLI, ['ocr', path.join(TMP, 'detector.kiln'), path.join(TMP, 'recognizer.kiln'),
      png, '--keys', models.recognizerKeys, '--json'], { encoding: 'utf8' }));
    const wasm = await recognizeText({ detector, recognizer, keys }, page);
    assert.equal(native.length, 2, JSON.stringify(native));
    assert.equal(wasm.length, native.length);
    native.forEach((n, i) => {
      const w = wasm[i];
      assert.deepEqual(n.box, w.box, `line ${i}`);
      assert.equal(n.text, w.text, `line ${i}`);
      assert.equal(n.text, 'kiln runs models in the browser');
      // Native kernels (AVX2) and WASM SIMD round differently: close, not identical.
      assert.ok(Math.abs(n.score - w.score) < 1e-3, `line ${i} box score ${n.score} vs ${w.score}`);
      assert.ok(Math.abs(n.confidence - w.confidence) < 1e-3, `line ${i} confidence ${n.confidence} vs ${w.confidence}`);
    });
    // Human-readable output: one line per text line with its box.
    const text = execFileSync(KILN_CLI, ['ocr', path.join(TMP, 'detector.kiln'), path.join(TMP, 'recognizer.kiln'),
      png, '--keys', models.recognizerKeys], { encoding: 'utf8' });
    const b = native[0].box;
    assert.match(text, new RegExp(`^\\[${b.x}, ${b.y}, ${b.width}, ${b.height}\\]  box 0\\.\\d{3}  confidence 0\\.\\d{3}  kiln runs models in the browser$`, 'm'));
  });

  it('`kiln ocr` errors name the problem', () => {
    const fails = (args, re) => {
      try {
        execFileSync(KILN_CLI, ['ocr', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        assert.equal(e.status, 1);
        assert.match(String(e.stderr), re);
        return;
      }
      assert.fail(`kiln ocr ${args.join(' ')} succeeded`);
    };
    const det = path.join(TMP, 'detector.kiln'), rec = path.join(TMP, 'recognizer.kiln');
    const notPng = path.join(TMP, 'not.png');
    fs.writeFileSync(notPng, 'hello');
    fails([det, rec, notPng, '--keys', models.recognizerKeys], /not a readable PNG/);
    fails([det, rec, path.join(TMP, 'missing.png'), '--keys', models.recognizerKeys], /cannot open/);
    const shortKeys = path.join(TMP, 'keys.txt');
    fs.writeFileSync(shortKeys, 'a\nb\n');
    const png = path.join(TMP, 'page.png');
    fails([det, rec, png, '--keys', shortKeys], /classes but the key list has 4/);
  });
});
