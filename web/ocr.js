// OCR helpers around the PP-OCR models: PNG decoding, the detector's and the
// recognizer's image preprocessing, and CTC greedy decoding with a key file.
// Plain ES module with no dependencies: runs in Node (>= 18) and in browsers.
// Exported from the package as 'kiln/ocr', together with the whole pipeline
// (detectTextBoxes, cropAndResize, recognizeText) from ocr-pipeline.js.

export { detectTextBoxes, cropAndResize, recognizeText } from './ocr-pipeline.js';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

// CRC-32 (IEEE) as PNG uses it; the table is built on first use.
let crcTable = null;
function crc32(bytes, start, end) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// zlib inflate through the standard DecompressionStream (Node >= 18, all
// current browsers), so this module needs neither node:zlib nor a bundled inflater.
async function inflateZlib(bytes) {
  if (typeof DecompressionStream !== 'function') {
    throw new Error('png: DecompressionStream is not available; pass options.inflate');
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Undoes the per-scanline filters (types 0-4) in place into `out`.
function unfilter(raw, out, width, height, bpp) {
  const stride = width * bpp;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;  // previous output row (y > 0)
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x];
      const a = x >= bpp ? out[dst + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = y > 0 && x >= bpp ? out[prev + x - bpp] : 0;
      let r;
      switch (filter) {
        case 0: r = v; break;
        case 1: r = v + a; break;
        case 2: r = v + b; break;
        case 3: r = v + ((a + b) >> 1); break;
        case 4: r = v + paeth(a, b, c); break;
        default: throw new Error(`png: row ${y} has unknown filter type ${filter}`);
      }
      out[dst + x] = r & 0xff;
    }
  }
}

/**
 * Decodes an 8-bit, non-interlaced gray / gray+alpha / RGB / RGBA PNG.
 * Other kinds (palette, 16-bit, interlaced) are rejected with a clear error.
 * @param {Uint8Array|ArrayBuffer} input
 * @param {{inflate?: (zlibBytes: Uint8Array) => Uint8Array|Promise<Uint8Array>}} [options]
 * @returns {Promise<{width:number,height:number,channels:number,data:Uint8Array}>}
 */
export async function decodePNG(input, options = {}) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < 8 || PNG_SIGNATURE.some((v, i) => bytes[i] !== v)) {
    throw new Error('png: not a PNG file (bad signature)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let header = null;
  const idat = [];
  let sawEnd = false;
  while (pos < bytes.length && !sawEnd) {
    if (pos + 12 > bytes.length) throw new Error(`png: truncated chunk header at byte ${pos}`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const dataStart = pos + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) throw new Error(`png: chunk ${type} runs past the end of the file`);
    const crc = view.getUint32(dataEnd);
    if (crc32(bytes, pos + 4, dataEnd) !== crc) throw new Error(`png: CRC mismatch in chunk ${type}`);
    if (type === 'IHDR') {
      if (length !== 13) throw new Error(`png: IHDR has length ${length}, expected 13`);
      header = {
        width: view.getUint32(dataStart),
        height: view.getUint32(dataStart + 4),
        bitDepth: bytes[dataStart + 8],
        colorType: bytes[dataStart + 9],
        compression: bytes[dataStart + 10],
        filter: bytes[dataStart + 11],
        interlace: bytes[dataStart + 12],
      };
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(dataStart, dataEnd));
    } else if (type === 'IEND') {
      sawEnd = true;
    }
    pos = dataEnd + 4;
  }
  if (!header) throw new Error('png: missing IHDR chunk');
  const { width, height, bitDepth, colorType, interlace } = header;
  const channelsByType = { 0: 1, 2: 3, 4: 2, 6: 4 };
  if (colorType === 3) throw new Error('png: palette images are not supported (use gray, RGB or RGBA)');
  const channels = channelsByType[colorType];
  if (!channels) throw new Error(`png: unknown color type ${colorType}`);
  if (bitDepth !== 8) throw new Error(`png: bit depth ${bitDepth} is not supported (only 8)`);
  if (interlace !== 0) throw new Error('png: interlaced images are not supported');
  if (header.compression !== 0 || header.filter !== 0) throw new Error('png: unknown compression or filter method');
  if (width === 0 || height === 0) throw new Error(`png: empty image ${width}x${height}`);
  if (idat.length === 0) throw new Error('png: no IDAT chunk');

  let total = 0;
  for (const part of idat) total += part.length;
  const zlibData = new Uint8Array(total);
  let offset = 0;
  for (const part of idat) { zlibData.set(part, offset); offset += part.length; }
  let raw;
  try {
    raw = await (options.inflate ?? inflateZlib)(zlibData);
  } catch (e) {
    throw new Error(`png: corrupt compressed image data (${e.message})`);
  }
  // Checked before allocating, so a header claiming a huge size fails cleanly.
  const expected = height * (width * channels + 1);
  if (raw.length < expected) {
    throw new Error(`png: image data too short for ${width}x${height}: expected ${expected} bytes, got ${raw.length}`);
  }
  const data = new Uint8Array(width * height * channels);
  unfilter(raw, data, width, height, channels);
  return { width, height, channels, data };
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

/**
 * The PP-OCR recognizer's preprocessing (PaddleOCR resize_norm_img): resize to
 * `height` keeping the aspect ratio (bilinear), normalize (x/255 - 0.5)/0.5,
 * lay out NCHW and pad with zeros on the right up to the tensor width.
 * Tensor width = max(minWidth, resized width), rounded up to widthMultiple,
 * capped at maxWidth (wider lines are squeezed to maxWidth).
 * Channel order defaults to BGR because PaddleOCR reads images with OpenCV and
 * its models are trained on BGR; for gray text images both orders agree.
 * @param {{width:number,height:number,data:ArrayLike<number>,channels?:number}} image
 * @param {{height?:number,minWidth?:number,maxWidth?:number,widthMultiple?:number,channelOrder?:'bgr'|'rgb',background?:number}} [options]
 * @returns {{data: Float32Array, dims: number[], resizedWidth: number}}
 */
export function preprocessRecognizer(image, options = {}) {
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

/**
 * The PP-OCR detector's preprocessing (PaddleOCR DetResizeForTest, limit_type
 * 'max', + NormalizeImage): scale down so the longer side is at most
 * limitSideLen, round each side to a multiple of 32 (at least 32), bilinear
 * resize, then (x/255 - mean)/std per channel (ImageNet mean/std), NCHW.
 * Channel order defaults to BGR as in PaddleOCR (see preprocessRecognizer).
 * @param {{width:number,height:number,data:ArrayLike<number>,channels?:number}} image
 * @param {{limitSideLen?:number,mean?:number[],std?:number[],channelOrder?:'bgr'|'rgb',background?:number}} [options]
 * @returns {{data: Float32Array, dims: number[], scaleX: number, scaleY: number}}
 */
export function preprocessDetector(image, options = {}) {
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

/**
 * The recognizer's class list from a PaddleOCR key file (one character a line):
 * index 0 is the CTC blank (''), then the file's lines, then ' ' (use_space_char).
 * @param {string} text
 * @param {{useSpaceChar?: boolean}} [options]
 * @returns {string[]}
 */
export function parseKeys(text, options = {}) {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();  // trailing newline
  const keys = [''].concat(lines);
  if (options.useSpaceChar ?? true) keys.push(' ');
  return keys;
}

/**
 * CTC greedy decoding: argmax per time step, collapse repeats, drop blanks (0).
 * `probs` holds [T, C] (or [1, T, C]) scores; `keys` comes from parseKeys.
 * The score is the mean of the kept steps' maximum probabilities (as PaddleOCR).
 * @param {Float32Array|ArrayLike<number>} probs
 * @param {number[]} dims
 * @param {string[]} keys
 * @returns {{text: string, score: number, indices: number[]}}
 */
export function ctcGreedyDecode(probs, dims, keys) {
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
