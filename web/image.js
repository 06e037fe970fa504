// Image -> tensor and classifier post-processing helpers: imageToTensor turns ImageData,
// an ImageBitmap, a canvas, an <img>/<video> or plain {width, height, data} pixels into a
// float32 (or uint8) NCHW/NHWC tensor with resize and per-channel normalization;
// softmax and topK read a model's scores. The work is done by src/vision (C++, shared with
// the native CLI) through kiln-vision.wasm; this file only checks and marshals arguments.
import { kilnError } from './errors.js';
import { Tensor } from './tensor.js';
import { callVision, channelsOf, isBGR, numberOption, pixelBytes, tripleOption } from './vision-wasm.js';

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

/**
 * Pixels -> Tensor. Options: width/height (resize target; default the source size),
 * layout 'nchw' (default) | 'nhwc', channels 3 (default: RGB or BGR) | 1 (gray, the mean of
 * R, G, B), channelOrder 'rgb' (default) | 'bgr', scale (default 1/255), mean (default 0) and
 * std (default 1) per channel: value = (pixel * scale - mean) / std; dtype 'float32'
 * (default) | 'uint8' (raw 0..255, no normalization); batch dim added (dims [1, ...]).
 * Alpha is ignored. Plain pixels (8-bit values; other numbers are rounded and clamped to
 * 0..255) are resized bilinearly by src/vision in C++ (pixel centres at +0.5, edges clamped,
 * as OpenCV's INTER_LINEAR); browser sources (ImageBitmap, canvas, <img>, <video>,
 * VideoFrame) are drawn at the target size by the browser.
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
  const width = options.width ?? sw, height = options.height ?? sh;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && Number.isInteger(sw) && sw > 0 && Number.isInteger(sh) && sh > 0))
    throw kilnError('invalid_argument', `imageToTensor: bad sizes (source ${sw}x${sh}, target ${width}x${height})`);
  const layout = String(options.layout ?? 'nchw').toLowerCase();
  if (layout !== 'nchw' && layout !== 'nhwc') throw kilnError('invalid_argument', `imageToTensor: layout must be 'nchw' or 'nhwc', got '${options.layout}'`);
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw kilnError('invalid_argument', `imageToTensor: channels must be 1 or 3, got ${channels}`);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'uint8') throw kilnError('invalid_argument', `imageToTensor: dtype must be 'float32' or 'uint8', got '${dtype}'`);
  const where = 'imageToTensor';
  const perChannel = (name, fallback) => {
    const v = options[name] ?? fallback;
    const a = typeof v === 'number' ? Array(channels).fill(v) : Array.from(v ?? []);
    if (a.length !== channels || a.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      throw kilnError('invalid_argument', `imageToTensor: ${name} must be a number or ${channels} numbers`);
    return channels === 1 ? [a[0], a[0], a[0]] : a;
  };
  const r = callVision('imageToTensor', pixelBytes(pixels.data), sw, sh, channelsOf(pixels), {
    width, height, nhwc: layout === 'nhwc', channels, bgr: isBGR(options, 'rgb', where), uint8: dtype === 'uint8',
    scale: numberOption(options, 'scale', 1 / 255, where), mean: perChannel('mean', 0), std: perChannel('std', 1),
  });
  return new Tensor(dtype, r.data, r.dims);
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
  return callVision('softmax', data, last).data;
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
  const r = callVision('topK', data, k);
  const best = Array.from(r.indices, (index, i) => ({ index, value: r.values[i] }));
  return labels ? best.map((e) => ({ ...e, label: labels[e.index] })) : best;
}
