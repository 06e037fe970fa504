// The PP-OCR pipeline as one call: detector → text boxes (DBNet postprocessing)
// → crops → recognizer → CTC decoding. Uses only session.run / inputNames /
// outputNames, so it works with Session and WorkerSession, in Node and browsers.
// Re-exported from 'kiln/ocr' (web/ocr.js).
import { kilnError } from './errors.js';
import { preprocessDetector, preprocessRecognizer, parseKeys, ctcGreedyDecode } from './ocr.js';

const fail = (detail) => kilnError('invalid_argument', `ocr: ${detail}`);

// [H, W] of a probability map given as [1,1,H,W], [1,H,W] or [H,W].
function mapSize(probMap, dims) {
  if (!probMap || typeof probMap.length !== 'number') throw fail('detectTextBoxes: probMap must be an array of numbers');
  if (!Array.isArray(dims) && !ArrayBuffer.isView(dims)) throw fail('detectTextBoxes: dims must be an array');
  const d = Array.from(dims, Number);
  if (d.length < 2 || d.length > 4 || d.slice(0, -2).some((v) => v !== 1)) {
    throw fail(`detectTextBoxes: expected dims [1, 1, H, W], [1, H, W] or [H, W], got [${d}]`);
  }
  const [H, W] = d.slice(-2);
  if (!(Number.isInteger(H) && Number.isInteger(W) && H > 0 && W > 0)) {
    throw fail(`detectTextBoxes: empty or invalid map size ${H}x${W} (dims [${d}])`);
  }
  if (probMap.length !== H * W) throw fail(`detectTextBoxes: ${probMap.length} values for dims [${d}] (expected ${H * W})`);
  return [H, W];
}

function numberOption(options, name, fallback, check) {
  const v = options[name] ?? fallback;
  if (typeof v !== 'number' || !check(v)) throw fail(`detectTextBoxes: invalid option ${name} = ${v}`);
  return v;
}

/**
 * DBNet postprocessing as PaddleOCR's DBPostProcess, with axis-aligned boxes:
 * binarize at `threshold`, 8-connected components, per component its bounding
 * box (corners at pixel centres, as OpenCV's contours) scored by the mean
 * probability inside the box; boxes whose shorter side is under minSize or whose
 * score is under boxThreshold are dropped; the rest are grown on every side by
 * area*unclipRatio/perimeter, mapped to the image size (imageWidth/imageHeight,
 * default the map size), rounded and clamped. Sorted top-to-bottom, then
 * left-to-right for boxes within 10 px vertically (PaddleOCR's sorted_boxes).
 * @param {ArrayLike<number>} probMap
 * @param {number[]} dims
 * @param {{threshold?:number,boxThreshold?:number,unclipRatio?:number,minSize?:number,maxCandidates?:number,imageWidth?:number,imageHeight?:number}} [options]
 * @returns {{x:number,y:number,width:number,height:number,score:number}[]}
 */
export function detectTextBoxes(probMap, dims, options = {}) {
  const [H, W] = mapSize(probMap, dims);
  const finite = (v) => Number.isFinite(v);
  const threshold = numberOption(options, 'threshold', 0.3, finite);
  const boxThreshold = numberOption(options, 'boxThreshold', 0.6, finite);
  const unclipRatio = numberOption(options, 'unclipRatio', 1.5, (v) => finite(v) && v >= 0);
  const minSize = numberOption(options, 'minSize', 3, (v) => finite(v) && v >= 0);
  const maxCandidates = numberOption(options, 'maxCandidates', 1000, (v) => Number.isInteger(v) && v >= 0);
  const imageWidth = numberOption(options, 'imageWidth', W, (v) => finite(v) && v > 0);
  const imageHeight = numberOption(options, 'imageHeight', H, (v) => finite(v) && v > 0);

  // Connected components with an explicit stack (no recursion: a map-sized blob is fine).
  const label = new Uint8Array(H * W);  // 0 = not text, 1 = text unvisited, 2 = visited
  for (let i = 0; i < H * W; i++) label[i] = probMap[i] > threshold ? 1 : 0;
  const stack = new Int32Array(H * W);
  const components = [];
  for (let start = 0; start < H * W && components.length < maxCandidates; start++) {
    if (label[start] !== 1) continue;
    let top = 0, x0 = W, x1 = -1, y0 = H, y1 = -1;
    stack[top++] = start;
    label[start] = 2;
    while (top > 0) {
      const p = stack[--top];
      const y = (p / W) | 0, x = p - y * W;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= H) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= W) continue;
          const q = ny * W + nx;
          if (label[q] === 1) { label[q] = 2; stack[top++] = q; }
        }
      }
    }
    components.push({ x0, x1, y0, y1 });
  }

  const boxes = [];
  for (const { x0, x1, y0, y1 } of components) {
    // Box through the outermost pixel centres: a 1-pixel-wide blob has width 0.
    const w = x1 - x0, h = y1 - y0;
    if (Math.min(w, h) < minSize) continue;
    let sum = 0;
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) sum += probMap[y * W + x];
    const score = sum / ((w + 1) * (h + 1));
    if (score < boxThreshold) continue;
    // Unclip: the shrunk text kernel is grown back by area * ratio / perimeter.
    const d = w + h > 0 ? (w * h * unclipRatio) / (2 * (w + h)) : 0;  // a lone pixel has no perimeter
    if (Math.min(w, h) + 2 * d < minSize + 2) continue;
    const sx = imageWidth / W, sy = imageHeight / H;
    const clampX = (v) => Math.min(Math.max(Math.round(v * sx), 0), imageWidth);
    const clampY = (v) => Math.min(Math.max(Math.round(v * sy), 0), imageHeight);
    const bx0 = clampX(x0 - d), bx1 = clampX(x1 + d), by0 = clampY(y0 - d), by1 = clampY(y1 + d);
    if (bx1 <= bx0 || by1 <= by0) continue;
    boxes.push({ x: bx0, y: by0, width: bx1 - bx0, height: by1 - by0, score });
  }
  return sortBoxes(boxes);
}

// PaddleOCR's sorted_boxes: by top then left, then neighbours less than 10 px
// apart vertically are put in left-to-right order (one pass of adjacent swaps).
function sortBoxes(boxes) {
  boxes.sort((a, b) => a.y - b.y || a.x - b.x);
  for (let i = 0; i < boxes.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = boxes[j], b = boxes[j + 1];
      if (Math.abs(b.y - a.y) < 10 && b.x < a.x) { boxes[j] = b; boxes[j + 1] = a; } else break;
    }
  }
  return boxes;
}

function checkImage(image, where) {
  if (!image || typeof image !== 'object' || !image.data) throw fail(`${where}: image must be {width, height, data}`);
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw fail(`${where}: empty or invalid image size ${width}x${height}`);
  }
  const channels = image.channels ?? data.length / (width * height);
  if (![1, 2, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw fail(`${where}: ${data.length} bytes do not fit ${width}x${height} with 1 to 4 channels`);
  }
  return channels;
}

/**
 * The recognizer's input for one box of `image`: the box (rounded, clamped to
 * the image) is cut out and given to preprocessRecognizer (aspect-preserving
 * resize to `height`, (x/255-0.5)/0.5, zero-padded right to at least 320 wide,
 * a multiple of 8). `options` are passed on to preprocessRecognizer.
 * @param {{width:number,height:number,data:ArrayLike<number>,channels?:number}} image
 * @param {{x:number,y:number,width:number,height:number}} box
 * @param {number} [height]
 * @param {object} [options]
 * @returns {{data: Float32Array, dims: number[], resizedWidth: number}}
 */
export function cropAndResize(image, box, height = 48, options = {}) {
  const ch = checkImage(image, 'cropAndResize');
  if (!box || ![box.x, box.y, box.width, box.height].every(Number.isFinite)) {
    throw fail('cropAndResize: box must be {x, y, width, height} with finite numbers');
  }
  if (!(Number.isInteger(height) && height > 0)) throw fail(`cropAndResize: invalid height ${height}`);
  const x0 = Math.max(0, Math.round(box.x)), y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(image.width, Math.round(box.x + box.width));
  const y1 = Math.min(image.height, Math.round(box.y + box.height));
  if (x1 <= x0 || y1 <= y0) {
    throw fail(`cropAndResize: box {x: ${box.x}, y: ${box.y}, width: ${box.width}, height: ${box.height}} ` +
               `is empty inside the ${image.width}x${image.height} image`);
  }
  const cw = x1 - x0, chh = y1 - y0;
  const data = new Uint8Array(cw * chh * ch);
  for (let y = 0; y < chh; y++) {
    const src = ((y0 + y) * image.width + x0) * ch;
    for (let i = 0; i < cw * ch; i++) data[y * cw * ch + i] = image.data[src + i];
  }
  return preprocessRecognizer({ width: cw, height: chh, channels: ch, data }, { ...options, height });
}

// The first output of a run, with dims as numbers.
async function runOne(session, input, what) {
  const name = session.inputNames?.[0];
  if (typeof name !== 'string') throw fail(`recognizeText: the ${what} session has no inputs`);
  const out = await session.run({ [name]: { type: 'float32', data: input.data, dims: input.dims } });
  const first = out[session.outputNames?.[0]] ?? Object.values(out)[0];
  if (!first) throw fail(`recognizeText: the ${what} session returned no outputs`);
  return { data: first.data, dims: Array.from(first.dims, Number) };
}

/**
 * Reads all text in an image with the PP-OCR detector and recognizer sessions:
 * preprocessDetector → detector → detectTextBoxes → per box cropAndResize →
 * recognizer → ctcGreedyDecode. Lines whose confidence is under minConfidence
 * (default 0.5, PaddleOCR's drop_score) are left out. unclipRatio defaults to
 * 1.6 here (RapidOCR's default for these models) rather than 1.5: with 1.5 the
 * crops of 23 px high text are ~28 px high and the recognizer often drops the
 * spaces ("kilnrunsmodelsinthebrowser"); 1.6 gives ~30 px and reads them.
 * @param {{detector: {run: Function, inputNames: string[], outputNames: string[]}, recognizer: {run: Function, inputNames: string[], outputNames: string[]}, keys: string[]|string}} models
 * @param {{width:number,height:number,data:ArrayLike<number>,channels?:number}} image
 * @param {object} [options]
 * @returns {Promise<{box:{x:number,y:number,width:number,height:number},score:number,text:string,confidence:number}[]>}
 */
export async function recognizeText(models, image, options = {}) {
  const { detector, recognizer } = models ?? {};
  for (const [what, s] of [['detector', detector], ['recognizer', recognizer]]) {
    if (!s || typeof s.run !== 'function') throw fail(`recognizeText: models.${what} must be a session`);
  }
  let keys = models.keys;
  if (typeof keys === 'string') keys = parseKeys(keys);
  if (!Array.isArray(keys) || keys.length < 2) throw fail('recognizeText: models.keys must be the key list (parseKeys) or the key file text');
  checkImage(image, 'recognizeText');
  const minConfidence = options.minConfidence ?? 0.5;
  const order = options.channelOrder ?? 'bgr';

  const detIn = preprocessDetector(image, { limitSideLen: options.limitSideLen, channelOrder: order });
  const prob = await runOne(detector, detIn, 'detector');
  const boxes = detectTextBoxes(prob.data, prob.dims, {
    threshold: options.threshold, boxThreshold: options.boxThreshold, unclipRatio: options.unclipRatio ?? 1.6,
    minSize: options.minSize, maxCandidates: options.maxCandidates,
    imageWidth: image.width, imageHeight: image.height,
  });
  const results = [];
  for (const { score, ...box } of boxes) {
    const recIn = cropAndResize(image, box, options.recognizerHeight ?? 48, { channelOrder: order });
    const probs = await runOne(recognizer, recIn, 'recognizer');
    const { text, score: confidence } = ctcGreedyDecode(probs.data, probs.dims, keys);
    if (confidence >= minConfidence) results.push({ box, score, text, confidence });
  }
  return results;
}
