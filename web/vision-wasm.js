// The bridge to kiln-vision.wasm: the image and OCR pre/post-processing of src/vision (C++,
// shared with the native `kiln ocr` command) compiled to WebAssembly. The module is one JS
// file with the .wasm embedded, compiled synchronously on first use, so imageToTensor,
// detectTextBoxes & co. stay synchronous and need no Session (nor, in worker mode, the
// worker's module). This file only marshals: typed arrays in, typed arrays out.
import createKilnVision from './dist/kiln-vision.js';
import { KilnError, kilnError } from './errors.js';

let vision = null;

function instance() {
  if (vision) return vision;
  // MODULARIZE fills the object it is given; with synchronous compilation it is complete
  // when the factory returns (the promise it also returns is not needed).
  const m = {
    // An abort is a kiln bug: drop the module so the next call starts a fresh one.
    onAbort: () => {
      vision = null;
    },
  };
  try {
    createKilnVision(m)?.catch?.(() => {});
  } catch (e) {
    throw kilnError('internal', `cannot instantiate kiln-vision.wasm (run \`npm run build:wasm\`): ${e?.message ?? e}`, { cause: e });
  }
  if (typeof m.detectTextBoxes !== 'function') throw kilnError('internal', 'kiln-vision.wasm did not initialize synchronously');
  vision = m;
  return m;
}

/** Calls a src/vision binding; its {ok: false, code, message} results become KilnError. */
export function callVision(name, ...args) {
  let r;
  try {
    r = instance()[name](...args);
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw kilnError('internal', `kiln-vision.wasm ${name} failed: ${e?.message ?? e}`, { cause: e });
  }
  if (!r.ok) throw new KilnError(r.code, r.message);
  return r;
}

/** Pixel values as bytes: 8-bit arrays as they are, anything else rounded and clamped to 0..255. */
export function pixelBytes(data) {
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return data;
  if (!(ArrayBuffer.isView(data) || Array.isArray(data)) || data instanceof BigInt64Array || data instanceof BigUint64Array)
    throw kilnError('invalid_argument', 'image data must be a typed array or an array of numbers');
  return Uint8ClampedArray.from(data);
}

/** `channels`, or inferred from the data length (ImageData is RGBA); 0 when it does not divide. */
export function channelsOf(image) {
  const c = image.channels ?? image.data.length / (image.width * image.height);
  return Number.isInteger(c) ? c : 0;
}

/** A number option: `fallback` when absent; must be a number (ranges are checked in C++). */
export function numberOption(options, name, fallback, where) {
  const v = options[name] ?? fallback;
  if (typeof v !== 'number') throw kilnError('invalid_argument', `${where}: option ${name} must be a number, got ${typeof v}`);
  return v;
}

/** mean / std: a number or three numbers. */
export function tripleOption(options, name, fallback, where) {
  const v = options[name] ?? fallback;
  const a = typeof v === 'number' ? [v, v, v] : Array.from(v ?? []);
  if (a.length !== 3 || a.some((x) => typeof x !== 'number'))
    throw kilnError('invalid_argument', `${where}: ${name} must be a number or 3 numbers`);
  return a;
}

/** channelOrder 'rgb' | 'bgr' as the bindings' `bgr` flag. */
export function isBGR(options, fallback, where) {
  const order = options.channelOrder ?? fallback;
  if (order !== 'bgr' && order !== 'rgb') throw kilnError('invalid_argument', `${where}: channelOrder must be 'bgr' or 'rgb', got '${order}'`);
  return order === 'bgr';
}
