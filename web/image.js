// Image -> tensor and classifier post-processing helpers: imageToTensor turns ImageData,
// an ImageBitmap, a canvas, an <img>/<video> or plain {width, height, data} pixels into a
// float32 (or uint8) NCHW/NHWC tensor with resize and per-channel normalization;
// softmax and topK read a model's scores.
import { kilnError } from './errors.js';
import { Tensor } from './tensor.js';

const isPixels = (s) => s !== null && typeof s === 'object' && 'data' in s && Number.isInteger(s.width) && Number.isInteger(s.height);

// Browser image sources that a 2D canvas can draw.
function isDrawable(s) {
  const g = globalThis;
  return (typeof g.ImageBitmap === 'function' && s instanceof g.ImageBitmap) ||
    (typeof g.OffscreenCanvas === 'function' && s instanceof g.OffscreenCanvas) ||
    (typeof g.HTMLCanvasElement === 'function' && s instanceof g.HTMLCanvasElement) ||
    (typeof g.HTMLImageElement === 'function' && s instanceof g.HTMLImageElement) ||
    (typeof g.HTMLVideoElement === 'function' && s instanceof g.HTMLVideoElement) ||
    (typeof g.VideoFrame === 'function' && s instanceof g.VideoFrame);
}

function sourceSize(s) {
  if (typeof HTMLVideoElement === 'function' && s instanceof HTMLVideoElement) return [s.videoWidth, s.videoHeight];
  if (typeof HTMLImageElement === 'function' && s instanceof HTMLImageElement) return [s.naturalWidth, s.naturalHeight];
  if (typeof VideoFrame === 'function' && s instanceof VideoFrame) return [s.displayWidth, s.displayHeight];
  return [s.width, s.height];
}

// Draws a browser image source at width x height (the browser resamples) and reads RGBA.
function drawToPixels(source, width, height) {
  const canvas = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw kilnError('unsupported', 'imageToTensor: no 2D canvas context available');
  ctx.drawImage(source, 0, 0, width, height);
  const { data } = ctx.getImageData(0, 0, width, height);
  return { width, height, channels: 4, data };
}

function channelsOf(p) {
  const c = p.channels ?? p.data.length / (p.width * p.height);
  if (![1, 3, 4].includes(c) || p.data.length !== p.width * p.height * c)
    throw kilnError('invalid_argument', `imageToTensor: ${p.data.length} values do not make a ${p.width}x${p.height} image of 1, 3 or 4 channels`);
  return c;
}

// Bilinear resize with pixel centres at +0.5 and clamped edges (as OpenCV INTER_LINEAR), no rounding.
function resizeBilinear(src, sw, sh, ch, dw, dh) {
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

function perChannel(v, n, name) {
  const a = typeof v === 'number' ? Array(n).fill(v) : Array.from(v);
  if (a.length !== n || a.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    throw kilnError('invalid_argument', `imageToTensor: ${name} must be a number or ${n} numbers`);
  return a;
}

/**
 * Pixels -> Tensor. Options: width/height (resize target; default the source size),
 * layout 'nchw' (default) | 'nhwc', channels 3 (default: RGB or BGR) | 1 (gray, the mean of
 * R, G, B), channelOrder 'rgb' (default) | 'bgr', scale (default 1/255), mean (default 0) and
 * std (default 1) per channel: value = (pixel * scale - mean) / std; dtype 'float32'
 * (default) | 'uint8' (raw 0..255, no normalization); batch dim added (dims [1, ...]).
 * Alpha is ignored. Plain pixels are resized bilinearly here; browser sources
 * (ImageBitmap, canvas, <img>, <video>, VideoFrame) are drawn at the target size.
 */
export function imageToTensor(source, options = {}) {
  let pixels;
  if (isDrawable(source)) {
    const [sw, sh] = sourceSize(source);
    pixels = drawToPixels(source, options.width ?? sw, options.height ?? sh);
  } else if (isPixels(source)) {
    pixels = source;
  } else {
    throw kilnError('invalid_argument', 'imageToTensor takes ImageData, {width, height, data[, channels]}, an ImageBitmap, a canvas, an <img> or a <video>');
  }
  const { width: sw, height: sh } = pixels;
  const ch = channelsOf(pixels);
  const width = options.width ?? sw, height = options.height ?? sh;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && sw > 0 && sh > 0))
    throw kilnError('invalid_argument', `imageToTensor: bad sizes (source ${sw}x${sh}, target ${width}x${height})`);
  const layout = (options.layout ?? 'nchw').toLowerCase();
  if (layout !== 'nchw' && layout !== 'nhwc') throw kilnError('invalid_argument', `imageToTensor: layout must be 'nchw' or 'nhwc', got '${options.layout}'`);
  const outChannels = options.channels ?? 3;
  if (outChannels !== 1 && outChannels !== 3) throw kilnError('invalid_argument', `imageToTensor: channels must be 1 or 3, got ${outChannels}`);
  const order = options.channelOrder ?? 'rgb';
  if (order !== 'rgb' && order !== 'bgr') throw kilnError('invalid_argument', `imageToTensor: channelOrder must be 'rgb' or 'bgr', got '${order}'`);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'uint8') throw kilnError('invalid_argument', `imageToTensor: dtype must be 'float32' or 'uint8', got '${dtype}'`);
  const scale = options.scale ?? 1 / 255;
  const mean = perChannel(options.mean ?? 0, outChannels, 'mean');
  const std = perChannel(options.std ?? 1, outChannels, 'std');

  const src = resizeBilinear(pixels.data, sw, sh, ch, width, height);
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
  return new Tensor(dtype, out, dims);
}

function rows(input, what) {
  const data = input instanceof Tensor || (input && typeof input === 'object' && 'data' in input && 'dims' in input) ? input.data : input;
  if (!(ArrayBuffer.isView(data) || Array.isArray(data)) || data instanceof BigInt64Array || data instanceof BigUint64Array)
    throw kilnError('invalid_argument', `${what} takes a Tensor, a typed array or an array of numbers`);
  const dims = input?.dims;
  const last = dims && dims.length ? dims[dims.length - 1] : data.length;
  if (!(last > 0) || data.length % last !== 0) throw kilnError('invalid_argument', `${what}: ${data.length} values do not split into rows of ${last}`);
  return { data, last };
}

/** Softmax over the last dimension (each row of a Tensor, or the whole array); a new Float32Array. */
export function softmax(input) {
  const { data, last } = rows(input, 'softmax');
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

/**
 * The k largest values of a vector (a Tensor's last dimension must hold the whole vector,
 * e.g. dims [1, 1000]), highest first, ties by lower index: [{ index, value }].
 * `labels` (optional) adds { label } by index.
 */
export function topK(input, k = 5, labels) {
  const { data, last } = rows(input, 'topK');
  if (data.length !== last) throw kilnError('invalid_argument', `topK takes one vector; got ${data.length / last} rows of ${last}`);
  if (!(Number.isInteger(k) && k > 0)) throw kilnError('invalid_argument', `topK: k must be a positive integer, got ${k}`);
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
  return labels ? best.map((e) => ({ ...e, label: labels[e.index] })) : best;
}
