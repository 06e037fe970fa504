// The PP-OCR pipeline as one call: detector → text boxes (DBNet postprocessing)
// → crops → recognizer → CTC decoding. Uses only session.run / inputNames /
// outputNames, so it works with Session and WorkerSession, in Node and browsers.
// Box extraction, crops and decoding run in C++ (src/vision) through kiln-vision.wasm, on
// the calling thread (in worker mode only the two models run in the worker).
// Re-exported from 'kiln/ocr' (web/ocr.js).
import { kilnError } from './errors.js';
import { preprocessDetector, parseKeys, ctcGreedyDecode, recognizerOptions, checkImageArg } from './ocr.js';
import { callVision, channelsOf, numberOption, pixelBytes } from './vision-wasm.js';

const fail = (detail) => kilnError('invalid_argument', `ocr: ${detail}`);

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
  const where = 'detectTextBoxes';
  if (!probMap || typeof probMap.length !== 'number') throw fail('detectTextBoxes: probMap must be an array of numbers');
  if (!Array.isArray(dims) && !ArrayBuffer.isView(dims)) throw fail('detectTextBoxes: dims must be an array');
  const d = Array.from(dims, Number);
  const [H, W] = d.slice(-2);
  // imageWidth/imageHeight 0 stand for "the map size" in C++; an explicit 0 is an error as before.
  const imageSide = (name, fallback) => {
    const v = numberOption(options, name, fallback, where);
    if (!(v > 0)) throw fail(`detectTextBoxes: invalid option ${name} = ${v}`);
    return v;
  };
  const r = callVision('detectTextBoxes', probMap, d, {
    threshold: numberOption(options, 'threshold', 0.3, where),
    boxThreshold: numberOption(options, 'boxThreshold', 0.6, where),
    unclipRatio: numberOption(options, 'unclipRatio', 1.5, where),
    minSize: numberOption(options, 'minSize', 3, where),
    maxCandidates: numberOption(options, 'maxCandidates', 1000, where),
    imageWidth: options.imageWidth === undefined ? 0 : imageSide('imageWidth', W),
    imageHeight: options.imageHeight === undefined ? 0 : imageSide('imageHeight', H),
  });
  const b = r.boxes, boxes = [];
  for (let i = 0; i < b.length; i += 5) boxes.push({ x: b[i], y: b[i + 1], width: b[i + 2], height: b[i + 3], score: b[i + 4] });
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
  checkImageArg(image, 'cropAndResize');
  if (!box || ![box.x, box.y, box.width, box.height].every(Number.isFinite)) {
    throw fail('cropAndResize: box must be {x, y, width, height} with finite numbers');
  }
  if (!(Number.isInteger(height) && height > 0)) throw fail(`cropAndResize: invalid height ${height}`);
  const r = callVision('cropAndResize', pixelBytes(image.data), image.width, image.height, channelsOf(image),
    { x: box.x, y: box.y, width: box.width, height: box.height }, recognizerOptions({ ...options, height }, 'cropAndResize'));
  return { data: r.data, dims: r.dims, resizedWidth: r.resizedWidth };
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
