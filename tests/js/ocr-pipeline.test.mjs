// The OCR pipeline of 'kiln/ocr': detectTextBoxes on hand-made probability maps
// (boxes computed by hand in the comments), bad inputs, and recognizeText end to
// end on the real PP-OCRv4 models in the WASM package, on an image with two lines.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Session, KilnError } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { decodePNG, parseKeys, detectTextBoxes, cropAndResize, recognizeText, preprocessRecognizer } from '../../web/ocr.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');
const TEXTLINE = path.join(ROOT, 'tests/data/textline.png');
const EXPECTED_TEXT = 'kiln runs models in the browser';

// An H x W map of zeros with rectangles [row0, row1] x [col0, col1] (inclusive) set to p.
function makeMap(H, W, rects) {
  const map = new Float32Array(H * W);
  for (const [r0, r1, c0, c1, p] of rects) {
    for (let y = r0; y <= r1; y++) for (let x = c0; x <= c1; x++) map[y * W + x] = p;
  }
  return map;
}
const plain = (boxes) => boxes.map(({ x, y, width, height }) => ({ x, y, width, height }));

describe('detectTextBoxes', () => {
  it('two separate blobs: unclipped boxes, scores, top-to-bottom order', () => {
    // A: rows 3..7, cols 4..13 -> box w 9, h 4 through the pixel centres;
    //    d = 9*4*1.5 / (2*(9+4)) = 2.077 -> x 1.92..15.08, y 0.92..9.08 -> rounded 2..15, 1..9.
    // B: rows 12..16, cols 18..25 -> w 7, h 4; d = 28*1.5/22 = 1.909 -> x 16.09..26.91, y 10.09..17.91.
    const map = makeMap(20, 30, [[12, 16, 18, 25, 0.8], [3, 7, 4, 13, 0.9]]);
    const boxes = detectTextBoxes(map, [1, 1, 20, 30]);
    assert.deepEqual(plain(boxes), [{ x: 2, y: 1, width: 13, height: 8 }, { x: 16, y: 10, width: 11, height: 8 }]);
    assert.ok(Math.abs(boxes[0].score - 0.9) < 1e-6 && Math.abs(boxes[1].score - 0.8) < 1e-6);
    // The same map as [H, W] and [1, H, W] dims.
    assert.deepEqual(detectTextBoxes(map, [20, 30]), boxes);
    assert.deepEqual(detectTextBoxes(map, [1, 20, 30]), boxes);
    // Mapped to a 60x40 image (twice the map): A's x 1.92*2 = 3.85 -> 4, 15.08*2 = 30.15 -> 30,
    // y 0.92*2 = 1.85 -> 2, 9.08*2 = 18.15 -> 18.
    const scaled = detectTextBoxes(map, [1, 1, 20, 30], { imageWidth: 60, imageHeight: 40 });
    assert.deepEqual(plain(scaled)[0], { x: 4, y: 2, width: 26, height: 16 });
  });

  it('a blob touching the border is clamped to the image', () => {
    // rows 0..5, cols 24..29 of a 20x30 map: w = h = 5, d = 25*1.5/20 = 1.875:
    // x 22.125..30.875 -> 22..30 (clamped), y -1.875..6.875 -> 0 (clamped)..7.
    const boxes = detectTextBoxes(makeMap(20, 30, [[0, 5, 24, 29, 1]]), [1, 1, 20, 30]);
    assert.deepEqual(plain(boxes), [{ x: 22, y: 0, width: 8, height: 7 }]);
    assert.equal(boxes[0].score, 1);
  });

  it('drops low-score blobs; the score is the mean over the box', () => {
    // 0.5 is text (> threshold 0.3) but under boxThreshold 0.6.
    const low = makeMap(20, 30, [[3, 7, 4, 13, 0.5]]);
    assert.deepEqual(detectTextBoxes(low, [1, 1, 20, 30]), []);
    assert.equal(detectTextBoxes(low, [1, 1, 20, 30], { boxThreshold: 0.5 }).length, 1);
    // Below threshold: no text at all.
    assert.deepEqual(detectTextBoxes(low, [1, 1, 20, 30], { threshold: 0.5, boxThreshold: 0 }), []);
    // An L (column 2 of rows 2..6 and row 6 of cols 2..10): 13 pixels of 0.9 in a 5x9 box,
    // mean 13*0.9/45 = 0.26.
    const ell = makeMap(20, 30, [[2, 6, 2, 2, 0.9], [6, 6, 2, 10, 0.9]]);
    assert.deepEqual(detectTextBoxes(ell, [1, 1, 20, 30]), []);
    const kept = detectTextBoxes(ell, [1, 1, 20, 30], { boxThreshold: 0.25 });
    assert.equal(kept.length, 1);
    assert.ok(Math.abs(kept[0].score - 0.26) < 1e-6, `score ${kept[0].score}`);
  });

  it('minSize drops thin boxes, before and after unclipping', () => {
    // rows 5..7 (h 2), cols 3..12 (w 9): 2 < minSize 3 -> dropped.
    const thin = makeMap(20, 30, [[5, 7, 3, 12, 0.9]]);
    assert.deepEqual(detectTextBoxes(thin, [1, 1, 20, 30]), []);
    // minSize 2: d = 18*1.5/22 = 1.227, 2 + 2d = 4.45 >= minSize + 2 -> kept:
    // x 1.77..13.23 -> 2..13, y 3.77..8.23 -> 4..8.
    assert.deepEqual(plain(detectTextBoxes(thin, [1, 1, 20, 30], { minSize: 2 })), [{ x: 2, y: 4, width: 11, height: 4 }]);
    // A one-row line (h 1) passes minSize 1 but not the unclipped check: 1 + 2*(9*1.5/20) = 2.35 < 3.
    const line = makeMap(20, 30, [[5, 6, 3, 12, 0.9]]);
    assert.deepEqual(detectTextBoxes(line, [1, 1, 20, 30], { minSize: 1 }), []);
    assert.equal(detectTextBoxes(line, [1, 1, 20, 30], { minSize: 0 }).length, 1);
    // A single pixel never makes a box.
    assert.deepEqual(detectTextBoxes(makeMap(5, 5, [[2, 2, 2, 2, 1]]), [5, 5], { minSize: 0 }), []);
  });

  it('reading order: same line left to right, 8-connected pixels are one blob, maxCandidates', () => {
    // Right blob starts a row higher (rows 3..7) than the left one (rows 4..8): still one line,
    // so the left one comes first (PaddleOCR's sorted_boxes, 10 px tolerance).
    const map = makeMap(30, 40, [[3, 7, 24, 33, 1], [4, 8, 2, 11, 1], [20, 24, 2, 11, 1]]);
    const boxes = detectTextBoxes(map, [30, 40]);
    assert.deepEqual(boxes.map((b) => [b.x, b.y]), [[0, 2], [22, 1], [0, 18]]);
    // Scan order finds the top-most component first; maxCandidates 1 keeps only it.
    assert.deepEqual(detectTextBoxes(map, [30, 40], { maxCandidates: 1 }).map((b) => [b.x, b.y]), [[22, 1]]);
    // Two squares touching at a corner are one component: rows 2..6 cols 2..6 and rows 7..11 cols 7..11
    // -> one 9x9 box, mean 50/100.
    const diag = makeMap(20, 20, [[2, 6, 2, 6, 1], [7, 11, 7, 11, 1]]);
    const one = detectTextBoxes(diag, [20, 20], { boxThreshold: 0.4 });
    assert.equal(one.length, 1);
    assert.equal(one[0].score, 0.5);
  });

  it('a map-sized blob needs no recursion', () => {
    const H = 1500, W = 2000;
    // Every pixel is text: w 1999, h 1499 -> d = 1999*1499*1.5/(2*3498) = 642.5 -> clamped to the map.
    const boxes = detectTextBoxes(new Float32Array(H * W).fill(0.95), [1, 1, H, W]);
    assert.deepEqual(plain(boxes), [{ x: 0, y: 0, width: W, height: H }]);
  });

  it('bad inputs give KilnError invalid_argument', () => {
    const isBad = (re) => (e) => e instanceof KilnError && e.code === 'invalid_argument' && re.test(e.message);
    assert.throws(() => detectTextBoxes(new Float32Array(0), [1, 1, 0, 0]), isBad(/empty or invalid map size 0x0/));
    assert.throws(() => detectTextBoxes(new Float32Array(0), []), isBad(/expected dims/));
    assert.throws(() => detectTextBoxes(new Float32Array(12), [1, 1, 3, 5]), isBad(/12 values for dims \[1,1,3,5\]/));
    assert.throws(() => detectTextBoxes(new Float32Array(32), [2, 1, 4, 4]), isBad(/expected dims/));
    assert.throws(() => detectTextBoxes(new Float32Array(4), [1, 1, 2.5, 2]), isBad(/invalid map size/));
    assert.throws(() => detectTextBoxes(null, [2, 2]), isBad(/probMap/));
    assert.throws(() => detectTextBoxes(new Float32Array(4), 'dims'), isBad(/dims must be an array/));
    assert.throws(() => detectTextBoxes(new Float32Array(4), [2, 2], { threshold: NaN }), isBad(/threshold/));
    assert.throws(() => detectTextBoxes(new Float32Array(4), [2, 2], { maxCandidates: -1 }), isBad(/maxCandidates/));
    assert.throws(() => detectTextBoxes(new Float32Array(4), [2, 2], { imageWidth: 0 }), isBad(/imageWidth/));
    const img = { width: 4, height: 2, channels: 1, data: new Uint8Array(8) };
    assert.throws(() => cropAndResize(img, { x: 10, y: 0, width: 5, height: 2 }), isBad(/empty inside the 4x2 image/));
    assert.throws(() => cropAndResize(img, { x: 0, y: 0, width: NaN, height: 2 }), isBad(/finite/));
    assert.throws(() => cropAndResize({ width: 0, height: 2, data: new Uint8Array(0) }, { x: 0, y: 0, width: 1, height: 1 }),
                  isBad(/invalid image size 0x2/));
    assert.throws(() => cropAndResize({ width: 3, height: 2, data: new Uint8Array(7) }, { x: 0, y: 0, width: 1, height: 1 }),
                  isBad(/7 bytes do not fit 3x2/));
  });
});

describe('cropAndResize', () => {
  it('is preprocessRecognizer of the cropped pixels (box clamped to the image)', () => {
    const W = 12, H = 6;
    const data = new Uint8Array(W * H * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
    const image = { width: W, height: H, channels: 3, data };
    // Columns 3..8, rows 1..4 cut out by hand.
    const crop = new Uint8Array(6 * 4 * 3);
    for (let y = 0; y < 4; y++) crop.set(data.subarray(((1 + y) * W + 3) * 3, ((1 + y) * W + 9) * 3), y * 18);
    const want = preprocessRecognizer({ width: 6, height: 4, channels: 3, data: crop }, { height: 8 });
    const got = cropAndResize(image, { x: 3, y: 1, width: 6, height: 4 }, 8);
    assert.deepEqual(got.dims, [1, 3, 8, 320]);
    assert.equal(got.resizedWidth, 12);
    assert.deepEqual(got, want);
    // A box hanging over the right and bottom edges is cut at the image.
    const edge = cropAndResize(image, { x: 3, y: 1, width: 100, height: 100 }, 8, { minWidth: 0 });
    assert.deepEqual(edge.dims, [1, 3, 8, 16]);  // 9x5 crop -> ceil(8*9/5) = 15 -> 16
    assert.equal(edge.resizedWidth, 15);
  });
});

describe('recognizeText on the PP-OCRv4 models (WASM)', () => {
  const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-ocr-pipeline-'));
  let detector, recognizer, keys;
  after(() => {
    detector?.release();
    recognizer?.release();
    fs.rmSync(TMP, { recursive: true, force: true });
  });
  before(async () => {
    assert.ok(fs.existsSync(CLI), `${path.relative(ROOT, CLI)} is missing: run \`bash scripts/setup.sh\``);
    const models = ensureModels({ quiet: true });
    for (const key of ['detector', 'recognizer']) {
      execFileSync(CLI, ['convert', models[key], '-o', path.join(TMP, `${key}.kiln`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    detector = await Session.create(fs.readFileSync(path.join(TMP, 'detector.kiln')));
    recognizer = await Session.create(fs.readFileSync(path.join(TMP, 'recognizer.kiln')));
    keys = parseKeys(fs.readFileSync(models.recognizerKeys, 'utf8'));
  });

  it('finds and reads two lines of text at their places', async () => {
    // The text line twice on a white 700x200 RGBA canvas, the second indented and lower.
    const line = await decodePNG(fs.readFileSync(TEXTLINE));
    assert.equal(line.channels, 3);
    const W = 700, H = 200;
    const data = new Uint8Array(W * H * 4).fill(255);
    const offsets = [[20, 20], [150, 120]];
    for (const [ox, oy] of offsets) {
      for (let y = 0; y < line.height; y++) {
        for (let x = 0; x < line.width; x++) {
          for (let c = 0; c < 3; c++) data[((oy + y) * W + ox + x) * 4 + c] = line.data[(y * line.width + x) * 3 + c];
        }
      }
    }
    // Where the ink of the line is (pixels darker than mid-gray).
    let ink = { x0: Infinity, y0: Infinity, x1: -1, y1: -1 };
    for (let y = 0; y < line.height; y++) {
      for (let x = 0; x < line.width; x++) {
        if (line.data[(y * line.width + x) * 3] < 128) {
          ink = { x0: Math.min(ink.x0, x), y0: Math.min(ink.y0, y), x1: Math.max(ink.x1, x), y1: Math.max(ink.y1, y) };
        }
      }
    }

    const lines = await recognizeText({ detector, recognizer, keys }, { width: W, height: H, data });
    assert.equal(lines.length, 2, JSON.stringify(lines));
    lines.forEach(({ box, score, text, confidence }, i) => {
      const [ox, oy] = offsets[i];
      const label = `line ${i} ${JSON.stringify(box)}`;
      assert.equal(text, EXPECTED_TEXT, label);
      assert.ok(confidence > 0.9 && confidence <= 1, `${label}: confidence ${confidence}`);
      assert.ok(score > 0.6 && score <= 1, `${label}: score ${score}`);
      // The box holds the ink and is at most 10 px larger per side. DB boxes hug the text, so the
      // outermost anti-aliased pixels (< 128) of the last glyph may be up to 3 px outside.
      const slack = 3, margin = 10;
      assert.ok(box.x <= ox + ink.x0 + slack && box.x >= ox + ink.x0 - margin, `${label}: left vs ink ${ox + ink.x0}`);
      assert.ok(box.y <= oy + ink.y0 + slack && box.y >= oy + ink.y0 - margin, `${label}: top vs ink ${oy + ink.y0}`);
      const right = box.x + box.width, bottom = box.y + box.height;
      assert.ok(right >= ox + ink.x1 + 1 - slack && right <= ox + ink.x1 + 1 + margin, `${label}: right vs ink ${ox + ink.x1 + 1}`);
      assert.ok(bottom >= oy + ink.y1 + 1 - slack && bottom <= oy + ink.y1 + 1 + margin, `${label}: bottom vs ink ${oy + ink.y1 + 1}`);
    });

    // A blank image has no text; the key file text works in place of the parsed keys.
    const blank = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64).fill(255) };
    assert.deepEqual(await recognizeText({ detector, recognizer, keys: keys.slice(1, -1).join('\n') }, blank), []);
  });

  it('bad inputs give KilnError invalid_argument', async () => {
    const isBad = (re) => (e) => e instanceof KilnError && e.code === 'invalid_argument' && re.test(e.message);
    const img = { width: 8, height: 8, channels: 1, data: new Uint8Array(64) };
    await assert.rejects(recognizeText({ detector, keys }, img), isBad(/models.recognizer must be a session/));
    await assert.rejects(recognizeText(null, img), isBad(/models.detector/));
    await assert.rejects(recognizeText({ detector, recognizer, keys: [] }, img), isBad(/models.keys/));
    await assert.rejects(recognizeText({ detector, recognizer, keys }, { width: 0, height: 0, data: new Uint8Array(0) }),
                         isBad(/invalid image size 0x0/));
    await assert.rejects(recognizeText({ detector, recognizer, keys }, null), isBad(/image must be/));
  });
});
