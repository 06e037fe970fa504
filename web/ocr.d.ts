// Types for 'kiln/ocr' (web/ocr.js, web/ocr-pipeline.js): PNG decoding, PP-OCR
// preprocessing, CTC greedy decoding and the whole pipeline (recognizeText).

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
  /** Probability of each decoded character (its time step's maximum). */
  charScores: number[];
}

/** CTC greedy decoding over [T, C] or [1, T, C] probabilities: argmax, collapse repeats, drop blank 0. */
export function ctcGreedyDecode(probs: ArrayLike<number>, dims: number[], keys: string[]): CTCResult;

export interface DetectTextBoxesOptions {
  /** Probability above which a pixel is text (default 0.3). */
  threshold?: number;
  /** Boxes whose mean probability is below this are dropped (default 0.6). */
  boxThreshold?: number;
  /** Boxes grow on every side by area * unclipRatio / perimeter (default 1.5). */
  unclipRatio?: number;
  /** Boxes whose shorter side (in map pixels) is below this are dropped (default 3). */
  minSize?: number;
  /** At most this many connected components are considered (default 1000). */
  maxCandidates?: number;
  /** Size of the original image, to map boxes back from the map (default the map size). */
  imageWidth?: number;
  imageHeight?: number;
}

/** An axis-aligned box in image pixels (integers). */
export interface TextBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ScoredTextBox extends TextBox {
  /** Mean probability of the detector's map inside the (not yet grown) box. */
  score: number;
}

/**
 * DBNet postprocessing (PaddleOCR DBPostProcess, axis-aligned): binarize, 8-connected components,
 * score, filter, unclip, map to the image; sorted top-to-bottom, left-to-right.
 * probMap has dims [1, 1, H, W], [1, H, W] or [H, W]. Throws KilnError (invalid_argument) on bad input.
 */
export function detectTextBoxes(probMap: ArrayLike<number>, dims: readonly number[], options?: DetectTextBoxesOptions): ScoredTextBox[];

/** The recognizer's input for one box of the image: crop, then preprocessRecognizer (options passed on). */
export function cropAndResize(image: ImageLike, box: TextBox, height?: number, options?: RecognizerPreprocessOptions): RecognizerInput;

/** What recognizeText needs of a session: kiln's Session and WorkerSession both fit. */
export interface OCRSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  run(feeds: Record<string, { type: 'float32'; data: Float32Array; dims: readonly number[] }>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}

export interface OCRModels {
  /** PP-OCR DBNet detector: x [1, 3, H, W] -> probability map [1, 1, H, W]. */
  detector: OCRSession;
  /** PP-OCR CTC recognizer: x [1, 3, 48, W] -> [1, T, classes]. */
  recognizer: OCRSession;
  /** parseKeys(keyFileText), or the key file's text itself. */
  keys: string[] | string;
}

export interface RecognizeTextOptions extends Omit<DetectTextBoxesOptions, 'imageWidth' | 'imageHeight'> {
  /** Detector input: the longer side is limited to this (default 960). */
  limitSideLen?: number;
  /** Channel order of both models' inputs (default 'bgr'). */
  channelOrder?: 'bgr' | 'rgb';
  /** Recognizer input height (default 48). */
  recognizerHeight?: number;
  /** Lines read with a lower confidence are left out (default 0.5, PaddleOCR's drop_score). */
  minConfidence?: number;
}

export interface RecognizedLine {
  /** Where the line is, in image pixels. */
  box: TextBox;
  /** The detector's score for the box. */
  score: number;
  text: string;
  /** The recognizer's mean probability over the decoded characters. */
  confidence: number;
}

/**
 * The whole PP-OCR pipeline in one call: detector → detectTextBoxes → cropAndResize per box →
 * recognizer → ctcGreedyDecode. unclipRatio defaults to 1.6 here. Lines in reading order.
 */
export function recognizeText(models: OCRModels, image: ImageLike, options?: RecognizeTextOptions): Promise<RecognizedLine[]>;
