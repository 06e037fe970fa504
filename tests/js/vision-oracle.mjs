// The JS implementations of the image and OCR pre/post-processing that src/vision (C++,
// run through kiln-vision.wasm) replaced, kept ONLY as the oracle of tests/js/vision-wasm.test.mjs:
// the WASM-backed functions must give the same results. Taken unchanged from web/image.js,
// web/ocr.js and web/ocr-pipeline.js before the move (argument checks dropped).
// Bilinear resize with pixel centres at +0.5 and clamped edges (as OpenCV INTER_LINEAR), no rounding.
function resizeBilinearFloat(src, sw, sh, ch, dw, dh) {
  if (sw === dw && sh === dh) return src;
  const out = new Float32Array(dw * dh * ch);
  const axis = (d, scale, size) => {
    let f = (d + 0.5) * scale - 0.5;
    let i = Math.floor(f);
    f -= i;
    if (i < 0) { i = 0; f = 0; }
    if (i >= size - 1) { i = size - 1; f = 0; }
    return [i, Math.min(i + 1, size - 1), f];
  };
  const xs = Array.from({ length: dw }, (_, x) => axis(x, sw / dw, sw));
  for (let y = 0; y < dh; y++) {
    const [y0, y1, fy] = axis(y, sh / dh, sh);
    for (let x = 0; x < dw; x++) {
      const [x0, x1, fx] = xs[x];
      for (let c = 0; c < ch; c++) {
        const p00 = src[(y0 * sw + x0) * ch + c], p01 = src[(y0 * sw + x1) * ch + c];
        const p10 = src[(y1 * sw + x0) * ch + c], p11 = src[(y1 * sw + x1) * ch + c];
        const top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx;
        out[(y * dw + x) * ch + c] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/** imageToTensor's arithmetic on {width, height, channels, data} pixels: {data, dims}. */
export function imageToTensorOracle(pixels, options = {}) {
  const { width: sw, height: sh } = pixels;
  const ch = pixels.channels ?? pixels.data.length / (sw * sh);
  const width = options.width ?? sw, height = options.height ?? sh;
  const layout = (options.layout ?? 'nchw').toLowerCase();
  const outChannels = options.channels ?? 3;
  const order = options.channelOrder ?? 'rgb';
  const dtype = options.dtype ?? 'float32';
  const scale = options.scale ?? 1 / 255;
  const perChannel = (v) => (typeof v === 'number' ? Array(outChannels).fill(v) : Array.from(v));
  const mean = perChannel(options.mean ?? 0);
  const std = perChannel(options.std ?? 1);
  const src = resizeBilinearFloat(pixels.data, sw, sh, ch, width, height);
  const n = width * height;
  const out = dtype === 'uint8' ? new Uint8Array(n * outChannels) : new Float32Array(n * outChannels);
  for (let i = 0; i < n; i++) {
    const p = i * ch;
    const r = src[p], g = ch >= 3 ? src[p + 1] : r, b = ch >= 3 ? src[p + 2] : r;
    const values = outChannels === 1 ? [(r + g + b) / 3] : order === 'rgb' ? [r, g, b] : [b, g, r];
    for (let c = 0; c < outChannels; c++) {
      const v = dtype === 'uint8' ? Math.min(255, Math.max(0, Math.round(values[c]))) : (values[c] * scale - mean[c]) / std[c];
      out[layout === 'nchw' ? c * n + i : i * outChannels + c] = v;
    }
  }
  const dims = layout === 'nchw' ? [1, outChannels, height, width] : [1, height, width, outChannels];
  return { data: out, dims };
}

export function softmaxOracle(data, last) {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length; r += last) {
    let max = -Infinity;
    for (let i = r; i < r + last; i++) max = Math.max(max, data[i]);
    let sum = 0;
    for (let i = r; i < r + last; i++) sum += out[i] = Math.exp(data[i] - max);
    for (let i = r; i < r + last; i++) out[i] /= sum;
  }
  return out;
}

export function topKOracle(data, k) {
  const best = [];
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (Number.isNaN(v)) continue;
    if (best.length === k && !(v > best[k - 1].value)) continue;
    let at = best.length;
    while (at > 0 && v > best[at - 1].value) at--;
    best.splice(at, 0, { index: i, value: v });
    if (best.length > k) best.pop();
  }
  return best;
}

// Infers the channel count of an image-like object: explicit `channels`, or
// from the data length (ImageData from a canvas is RGBA).
function channelsOf(image) {
  if (image.channels) return image.channels;
  const c = image.data.length / (image.width * image.height);
  if (![1, 2, 3, 4].includes(c)) {
    throw new Error(`ocr: cannot infer channels: ${image.data.length} bytes for ${image.width}x${image.height}`);
  }
  return c;
}

// Pixel (x, y) as three 0..255 values in RGB order, alpha composited over `background`.
function toRGB(image, background) {
  const { width, height, data } = image;
  const ch = channelsOf(image);
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    let r, g, b, a = 255;
    if (ch <= 2) { r = g = b = data[i * ch]; if (ch === 2) a = data[i * ch + 1]; }
    else { r = data[i * ch]; g = data[i * ch + 1]; b = data[i * ch + 2]; if (ch === 4) a = data[i * ch + 3]; }
    if (a !== 255) {
      const t = a / 255;
      r = r * t + background * (1 - t); g = g * t + background * (1 - t); b = b * t + background * (1 - t);
    }
    rgb[i * 3] = r; rgb[i * 3 + 1] = g; rgb[i * 3 + 2] = b;
  }
  return rgb;
}

// Bilinear resize of an interleaved 3-channel image with OpenCV's INTER_LINEAR
// sampling (pixel centres at +0.5, edges clamped), rounded to integers as
// cv2.resize does for 8-bit images.
function resizeBilinear(src, sw, sh, dw, dh) {
  const out = new Float32Array(dw * dh * 3);
  const sx = sw / dw, sy = sh / dh;
  const axis = (d, scale, size) => {
    let f = (d + 0.5) * scale - 0.5;
    let i = Math.floor(f);
    f -= i;
    if (i < 0) { i = 0; f = 0; }
    if (i >= size - 1) { i = size - 1; f = 0; }
    return [i, Math.min(i + 1, size - 1), f];
  };
  const xs = Array.from({ length: dw }, (_, x) => axis(x, sx, sw));
  for (let y = 0; y < dh; y++) {
    const [y0, y1, fy] = axis(y, sy, sh);
    for (let x = 0; x < dw; x++) {
      const [x0, x1, fx] = xs[x];
      for (let c = 0; c < 3; c++) {
        const p00 = src[(y0 * sw + x0) * 3 + c], p01 = src[(y0 * sw + x1) * 3 + c];
        const p10 = src[(y1 * sw + x0) * 3 + c], p11 = src[(y1 * sw + x1) * 3 + c];
        const top = p00 + (p01 - p00) * fx, bottom = p10 + (p11 - p10) * fx;
        out[(y * dw + x) * 3 + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}

export function preprocessRecognizerOracle(image, options = {}) {
  const H = options.height ?? 48;
  const minWidth = options.minWidth ?? 320;
  const maxWidth = options.maxWidth ?? 3200;
  const multiple = options.widthMultiple ?? 8;
  const order = options.channelOrder ?? 'bgr';
  if (order !== 'bgr' && order !== 'rgb') throw new Error(`ocr: channelOrder must be 'bgr' or 'rgb', got '${order}'`);
  const { width: w, height: h } = image;
  if (!(w > 0 && h > 0)) throw new Error(`ocr: empty image ${w}x${h}`);
  // Integer arithmetic: ceil(H * w / h) without the float error of H * (w / h).
  let resizedWidth = Math.max(1, Math.ceil((H * w) / h));
  let tensorWidth = Math.max(minWidth, resizedWidth);
  tensorWidth = Math.ceil(tensorWidth / multiple) * multiple;
  if (tensorWidth > maxWidth) tensorWidth = maxWidth;
  resizedWidth = Math.min(resizedWidth, tensorWidth);

  const rgb = toRGB(image, options.background ?? 255);
  const resized = resizeBilinear(rgb, w, h, resizedWidth, H);
  const data = new Float32Array(3 * H * tensorWidth);  // zeros = padding
  const plane = H * tensorWidth;
  for (let c = 0; c < 3; c++) {
    const srcC = order === 'bgr' ? 2 - c : c;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < resizedWidth; x++) {
        data[c * plane + y * tensorWidth + x] = (resized[(y * resizedWidth + x) * 3 + srcC] / 255 - 0.5) / 0.5;
      }
    }
  }
  return { data, dims: [1, 3, H, tensorWidth], resizedWidth };
}

// Python's round(): halves go to the even neighbour (PaddleOCR's sizes use it).
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function preprocessDetectorOracle(image, options = {}) {
  const limit = options.limitSideLen ?? 960;
  const mean = options.mean ?? [0.485, 0.456, 0.406];
  const std = options.std ?? [0.229, 0.224, 0.225];
  const order = options.channelOrder ?? 'bgr';
  if (order !== 'bgr' && order !== 'rgb') throw new Error(`ocr: channelOrder must be 'bgr' or 'rgb', got '${order}'`);
  const { width: w, height: h } = image;
  if (!(w > 0 && h > 0)) throw new Error(`ocr: empty image ${w}x${h}`);
  const ratio = Math.max(w, h) > limit ? limit / Math.max(w, h) : 1;
  const rh = Math.max(roundHalfEven((h * ratio) / 32) * 32, 32);
  const rw = Math.max(roundHalfEven((w * ratio) / 32) * 32, 32);
  const resized = resizeBilinear(toRGB(image, options.background ?? 255), w, h, rw, rh);
  const data = new Float32Array(3 * rh * rw);
  for (let c = 0; c < 3; c++) {
    const srcC = order === 'bgr' ? 2 - c : c;
    for (let i = 0; i < rh * rw; i++) data[c * rh * rw + i] = (resized[i * 3 + srcC] / 255 - mean[c]) / std[c];
  }
  return { data, dims: [1, 3, rh, rw], scaleX: rw / w, scaleY: rh / h };
}

export function ctcGreedyDecodeOracle(probs, dims, keys) {
  let d = dims;
  if (d.length === 3) {
    if (d[0] !== 1) throw new Error(`ocr: ctcGreedyDecode takes batch 1, got dims [${dims}]`);
    d = d.slice(1);
  }
  if (d.length !== 2) throw new Error(`ocr: expected dims [T, C] or [1, T, C], got [${dims}]`);
  const [T, C] = d;
  if (probs.length !== T * C) throw new Error(`ocr: ${probs.length} values for dims [${dims}]`);
  if (keys.length !== C) throw new Error(`ocr: the model has ${C} classes but the key list has ${keys.length}`);
  const indices = [];
  let text = '', sum = 0, prev = -1;
  for (let t = 0; t < T; t++) {
    let best = 0, bestValue = probs[t * C];
    for (let c = 1; c < C; c++) {
      const v = probs[t * C + c];
      if (v > bestValue) { bestValue = v; best = c; }
    }
    if (best !== 0 && best !== prev) {
      indices.push(best);
      text += keys[best];
      sum += bestValue;
    }
    prev = best;
  }
  return { text, score: indices.length ? sum / indices.length : 0, indices };
}
export function detectTextBoxesOracle(probMap, dims, options = {}) {
  const [H, W] = dims.slice(-2);
  const threshold = options.threshold ?? 0.3;
  const boxThreshold = options.boxThreshold ?? 0.6;
  const unclipRatio = options.unclipRatio ?? 1.5;
  const minSize = options.minSize ?? 3;
  const maxCandidates = options.maxCandidates ?? 1000;
  const imageWidth = options.imageWidth ?? W;
  const imageHeight = options.imageHeight ?? H;

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

export function cropAndResizeOracle(image, box, height = 48, options = {}) {
  const ch = channelsOf(image);
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
  return preprocessRecognizerOracle({ width: cw, height: chh, channels: ch, data }, { ...options, height });
}


function fail(detail) {
  return new Error(`ocr: ${detail}`);
}
