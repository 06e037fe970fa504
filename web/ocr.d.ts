// Types for 'kiln/ocr' (web/ocr.js): PNG decoding, PP-OCR recognizer
// preprocessing and CTC greedy decoding.

/** 8-bit interleaved pixels; channels 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA). */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** Anything with width, height and interleaved 8-bit pixels, e.g. a canvas ImageData (RGBA). */
export interface ImageLike {
  width: number;
  height: number;
  data: ArrayLike<number>;
  /** Inferred from data.length when omitted. */
  channels?: number;
}

export interface DecodePNGOptions {
  /** zlib inflate to use instead of DecompressionStream('deflate'), e.g. node:zlib's inflateSync. */
  inflate?: (zlibBytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

/** Decodes an 8-bit non-interlaced gray / gray+alpha / RGB / RGBA PNG; rejects other kinds with an Error. */
export function decodePNG(input: Uint8Array | ArrayBuffer, options?: DecodePNGOptions): Promise<DecodedImage>;

export interface RecognizerPreprocessOptions {
  /** Model input height (default 48). */
  height?: number;
  /** Minimum tensor width; narrower lines are padded with zeros on the right (default 320). */
  minWidth?: number;
  /** Maximum tensor width; wider lines are squeezed to it (default 3200). */
  maxWidth?: number;
  /** The tensor width is rounded up to a multiple of this (default 8). */
  widthMultiple?: number;
  /** Channel order of the tensor (default 'bgr', what PaddleOCR's models are trained on). */
  channelOrder?: 'bgr' | 'rgb';
  /** Gray level that transparent pixels are composited over (default 255, white). */
  background?: number;
}

export interface RecognizerInput {
  /** NCHW values, (x/255 - 0.5)/0.5, zero-padded on the right. */
  data: Float32Array;
  /** [1, 3, height, tensorWidth] */
  dims: number[];
  /** Width of the resized image inside the tensor (the rest is padding). */
  resizedWidth: number;
}

/** PaddleOCR's recognizer preprocessing: aspect-preserving bilinear resize to the height, normalize, pad right. */
export function preprocessRecognizer(image: ImageLike, options?: RecognizerPreprocessOptions): RecognizerInput;

export interface DetectorPreprocessOptions {
  /** The longer side is scaled down to at most this (default 960); sides are then rounded to multiples of 32. */
  limitSideLen?: number;
  /** Per tensor channel (default ImageNet [0.485, 0.456, 0.406]). */
  mean?: number[];
  /** Per tensor channel (default ImageNet [0.229, 0.224, 0.225]). */
  std?: number[];
  /** Channel order of the tensor (default 'bgr', as PaddleOCR). */
  channelOrder?: 'bgr' | 'rgb';
  /** Gray level that transparent pixels are composited over (default 255, white). */
  background?: number;
}

export interface DetectorInput {
  /** NCHW values, (x/255 - mean)/std. */
  data: Float32Array;
  /** [1, 3, height, width], both multiples of 32. */
  dims: number[];
  /** Tensor size over image size, per axis (to map boxes back). */
  scaleX: number;
  scaleY: number;
}

/** PaddleOCR's DB detector preprocessing: limit the longer side, round sides to multiples of 32, normalize. */
export function preprocessDetector(image: ImageLike, options?: DetectorPreprocessOptions): DetectorInput;

/** Class list from a PaddleOCR key file: [blank '', ...lines, ' ' (unless useSpaceChar is false)]. */
export function parseKeys(text: string, options?: { useSpaceChar?: boolean }): string[];

export interface CTCResult {
  text: string;
  /** Mean of the kept time steps' maximum probabilities (0 when nothing is kept). */
  score: number;
  /** Class index of each decoded character. */
  indices: number[];
}

/** CTC greedy decoding over [T, C] or [1, T, C] probabilities: argmax, collapse repeats, drop blank 0. */
export function ctcGreedyDecode(probs: ArrayLike<number>, dims: number[], keys: string[]): CTCResult;
