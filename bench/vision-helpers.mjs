// The image/OCR helpers (C++ src/vision through kiln-vision.wasm) against the JS they
// replaced (tests/js/vision-oracle.mjs), alternating the two after a warm-up:
//   node bench/vision-helpers.mjs
import { performance } from 'node:perf_hooks';
import { imageToTensor } from '../web/index.js';
import { preprocessDetector, preprocessRecognizer, detectTextBoxes, cropAndResize } from '../web/ocr.js';
import * as O from '../tests/js/vision-oracle.mjs';
const W = 960, H = 544;
const data = new Uint8Array(W * H * 4);
for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
const img = { width: W, height: H, data };
const map = new Float32Array(H * W);
for (let b = 0; b < 40; b++) { const y0 = (b * 13) % (H - 20), x0 = (b * 97) % (W - 200); for (let y = y0; y < y0 + 16; y++) for (let x = x0; x < x0 + 180; x++) map[y * W + x] = 0.9; }
function time(name, f, g) {
  for (let i = 0; i < 3; i++) { f(); g(); }
  const n = 10; let tf = 0, tg = 0;
  for (let i = 0; i < n; i++) { let t = performance.now(); f(); tf += performance.now() - t; t = performance.now(); g(); tg += performance.now() - t; }
  console.log(`${name}: C++/WASM ${(tf / n).toFixed(2)} ms, old JS ${(tg / n).toFixed(2)} ms, ${(tg / tf).toFixed(2)}x`);
}
time('imageToTensor 960x544 RGBA -> 224x224 NCHW', () => imageToTensor(img, { width: 224, height: 224 }), () => O.imageToTensorOracle(img, { width: 224, height: 224 }));
time('preprocessDetector 960x544 RGBA', () => preprocessDetector(img), () => O.preprocessDetectorOracle(img));
time('preprocessRecognizer 960x544 -> 48 high', () => preprocessRecognizer(img), () => O.preprocessRecognizerOracle(img));
time('detectTextBoxes 544x960 map, 40 blobs', () => detectTextBoxes(map, [1, 1, H, W]), () => O.detectTextBoxesOracle(map, [1, 1, H, W]));
time('cropAndResize 180x30 box', () => cropAndResize(img, { x: 100, y: 100, width: 180, height: 30 }), () => O.cropAndResizeOracle(img, { x: 100, y: 100, width: 180, height: 30 }));
