// The models of ../shared/models.md that `npm run bench` times, and their inputs.
// Inputs are deterministic and realistic: the OCR models see the real text line
// (tests/data/textline.png) laid out at the sizes PaddleOCR feeds them, BlazeFace a
// smooth fixed-seed image in [-1, 1], Silero a fixed-seed tone-plus-noise chunk of
// 16 kHz audio. Every engine gets the very same values.
import fs from 'node:fs';
import path from 'node:path';

import { modelPath } from '../../scripts/fetch-models.mjs';
import { decodePNG, preprocessDetector, preprocessRecognizer } from '../../web/ocr.js';
import { ROOT } from '../../tests/js/helpers.mjs';

// mulberry32: a fixed-seed uniform generator in [0, 1).
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32 = (data, dims) => ({ type: 'float32', data, dims });
const sr16k = () => ({ type: 'int64', data: BigInt64Array.of(16000n), dims: [] });

async function textline() {
  return decodePNG(fs.readFileSync(path.join(ROOT, 'tests/data/textline.png')));
}

// The left `width` columns of an image (as RGB), for the fixed-width OCR inputs.
function cropLeft(image, width) {
  const ch = image.channels ?? image.data.length / (image.width * image.height);
  const data = new Uint8Array(width * image.height * ch);
  for (let y = 0; y < image.height; y++)
    data.set(image.data.subarray((y * image.width) * ch, (y * image.width + width) * ch), y * width * ch);
  return { width, height: image.height, channels: ch, data };
}

// A white size×size page with the text line pasted on every 70th row: what the detector sees.
function page(line, size) {
  const ch = line.channels ?? line.data.length / (line.width * line.height);
  const data = new Uint8Array(size * size * 3).fill(255);
  for (let top = 20; top + line.height <= size; top += 70) {
    for (let y = 0; y < line.height; y++) {
      for (let x = 0; x < Math.min(size, line.width); x++) {
        const s = (y * line.width + x) * ch;
        const d = ((top + y) * size + x) * 3;
        if (ch <= 2) data[d] = data[d + 1] = data[d + 2] = line.data[s];
        else { data[d] = line.data[s]; data[d + 1] = line.data[s + 1]; data[d + 2] = line.data[s + 2]; }
      }
    }
  }
  return { width: size, height: size, channels: 3, data };
}

// A smooth NHWC image in [-1, 1] (gradients plus a little noise), as BlazeFace expects.
function smoothImage(h, w, seed) {
  const rnd = random(seed);
  const data = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        data[(y * w + x) * 3 + c] = Math.max(-1, Math.min(1,
          0.6 * Math.sin((x + 7 * c) / 17) * Math.cos(y / 23) + 0.2 * (rnd() * 2 - 1)));
  return data;
}

// 512 samples of 16 kHz audio: two tones and noise, amplitude below 0.5.
function audio(n, seed) {
  const rnd = random(seed);
  return Float32Array.from({ length: n }, (_, i) =>
    0.2 * Math.sin((2 * Math.PI * 220 * i) / 16000) + 0.1 * Math.sin((2 * Math.PI * 1375 * i) / 16000) + 0.1 * (rnd() * 2 - 1));
}

/**
 * Every model the benchmark knows. key: models.json key of the file kiln converts; peer:
 * models.json key of the ONNX file onnxruntime runs (the same file, or the ONNX twin of a
 * TFLite model); feeds(): kiln's inputs; peerFeeds(feeds): the peers' (other names).
 */
export const MODELS = [
  {
    key: 'classifier', label: 'OCR classifier (PP-OCR cls)', input: 'x [1,3,48,192]',
    feeds: async () => {
      const x = preprocessRecognizer(cropLeft(await textline(), 192), { minWidth: 192, maxWidth: 192 });
      return { x: f32(x.data, x.dims) };
    },
  },
  {
    key: 'detector', label: 'OCR detector (PP-OCRv4 det)', input: 'x [1,3,320,320]',
    feeds: async () => { const x = preprocessDetector(page(await textline(), 320)); return { x: f32(x.data, x.dims) }; },
  },
  {
    key: 'recognizer', label: 'OCR recognizer (PP-OCRv4 rec)', input: 'x [1,3,48,320]',
    feeds: async () => { const x = preprocessRecognizer(cropLeft(await textline(), 320)); return { x: f32(x.data, x.dims) }; },
  },
  {
    key: 'blazeface', label: 'BlazeFace front 128 (ONNX)', input: 'input:0 [1,128,128,3]',
    feeds: async () => ({ 'input:0': f32(smoothImage(128, 128, 4), [1, 128, 128, 3]) }),
  },
  {
    key: 'faceShortTflite', peer: 'blazeface', label: 'face_detection_short_range (TFLite; peers run its ONNX twin, BlazeFace front 128)',
    input: 'input [1,128,128,3]',
    feeds: async () => ({ input: f32(smoothImage(128, 128, 4), [1, 128, 128, 3]) }),
    peerFeeds: (feeds) => ({ 'input:0': feeds.input }),
  },
  {
    key: 'silero', label: 'Silero VAD op18 ifless', input: 'input [1,512], state, sr',
    feeds: async () => ({ input: f32(audio(512, 5), [1, 512]), state: f32(new Float32Array(256), [2, 1, 128]), sr: sr16k() }),
  },
  {
    key: 'silero16kOp15', label: 'Silero VAD 16k op15 (LSTM, If)', input: 'input [1,512], state, sr',
    feeds: async () => ({ input: f32(audio(512, 5), [1, 512]), state: f32(new Float32Array(256), [2, 1, 128]), sr: sr16k() }),
  },
].map((m) => {
  const peer = m.peer ?? m.key;
  return { peerFeeds: (feeds) => feeds, ...m, peer, source: modelPath(m.key), peerSource: modelPath(peer) };
});
