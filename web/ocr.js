// OCR helpers around the PP-OCR models: PNG decoding, the detector's and the
// recognizer's image preprocessing, and CTC greedy decoding with a key file.
// The preprocessing and the decoding run in C++ (src/vision, the same code as the native
// `kiln ocr` command) through kiln-vision.wasm; PNG decoding and key files stay in JS.
// Runs in Node (>= 18) and in browsers.
// Exported from the package as 'kiln/ocr', together with the whole pipeline
// (detectTextBoxes, cropAndResize, recognizeText) from ocr-pipeline.js.

export { detectTextBoxes, cropAndResize, recognizeText } from './ocr-pipeline.js';
import { kilnError } from './errors.js';
import { callVision, channelsOf, isBGR, numberOption, pixelBytes, tripleOption } from './vision-wasm.js';

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
  const where = 'preprocessRecognizer';
  checkImageArg(image, where);
  const r = callVision('preprocessRecognizer', pixelBytes(image.data), image.width, image.height, channelsOf(image),
    recognizerOptions(options, where));
  return { data: r.data, dims: r.dims, resizedWidth: r.resizedWidth };
}

/** The recognizer options as the bindings take them (shared with cropAndResize). */
export function recognizerOptions(options, where) {
  return {
    height: numberOption(options, 'height', 48, where),
    minWidth: numberOption(options, 'minWidth', 320, where),
    maxWidth: numberOption(options, 'maxWidth', 3200, where),
    widthMultiple: numberOption(options, 'widthMultiple', 8, where),
    bgr: isBGR(options, 'bgr', where),
    background: numberOption(options, 'background', 255, where),
  };
}

/** Throws unless image is {width, height, data}; sizes and lengths are checked in C++. */
export function checkImageArg(image, where) {
  if (!image || typeof image !== 'object' || !image.data || typeof image.data.length !== 'number')
    throw kilnError('invalid_argument', `ocr: ${where}: image must be {width, height, data}`);
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
  const where = 'preprocessDetector';
  checkImageArg(image, where);
  const r = callVision('preprocessDetector', pixelBytes(image.data), image.width, image.height, channelsOf(image), {
    limitSideLen: numberOption(options, 'limitSideLen', 960, where),
    mean: tripleOption(options, 'mean', [0.485, 0.456, 0.406], where),
    std: tripleOption(options, 'std', [0.229, 0.224, 0.225], where),
    bgr: isBGR(options, 'bgr', where),
    background: numberOption(options, 'background', 255, where),
  });
  return { data: r.data, dims: r.dims, scaleX: r.scaleX, scaleY: r.scaleY };
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
 * CTC greedy decoding (src/vision, C++): argmax per time step (the first on ties),
 * collapse repeats, drop blanks (0). `probs` holds [T, C] (or [1, T, C]) scores; `keys`
 * comes from parseKeys. charScores are the kept steps' maximum probabilities and score
 * their mean (as PaddleOCR; 0 when nothing is kept).
 * @param {Float32Array|ArrayLike<number>} probs
 * @param {number[]} dims
 * @param {string[]} keys
 * @returns {{text: string, score: number, indices: number[], charScores: number[]}}
 */
export function ctcGreedyDecode(probs, dims, keys) {
  if (!probs || typeof probs.length !== 'number') throw kilnError('invalid_argument', 'ocr: ctcGreedyDecode: probs must be an array of numbers');
  if (!Array.isArray(dims) && !ArrayBuffer.isView(dims)) throw kilnError('invalid_argument', 'ocr: ctcGreedyDecode: dims must be an array');
  if (!Array.isArray(keys) || keys.length === 0) throw kilnError('invalid_argument', 'ocr: ctcGreedyDecode: keys must be the key list (parseKeys)');
  const r = callVision('ctcGreedyDecode', probs, Array.from(dims, Number), keys.length);
  const indices = Array.from(r.indices);
  return { text: indices.map((i) => keys[i]).join(''), score: r.score, indices, charScores: Array.from(r.charScores) };
}
