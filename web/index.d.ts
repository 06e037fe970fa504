// Types for the `kiln` package (web/index.js).

/** Element types a kiln tensor can hold. */
export type TensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

/** The typed array that holds each element type ('float16' holds raw IEEE half bits, 'bool' 0/1). */
export interface TensorDataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

/** Plain arrays accepted in place of a typed array (converted on construction). */
export type TensorArrayInput<T extends TensorType> = T extends 'int64' | 'uint64'
  ? ReadonlyArray<bigint | number>
  : T extends 'bool'
    ? ReadonlyArray<boolean | number>
    : ReadonlyArray<number>;

export type AnyTensorData = TensorDataTypeMap[TensorType];

/** A dtype, a typed array and dims, as in onnxruntime-web. */
export class Tensor<T extends TensorType = TensorType> {
  /** dims defaults to [data.length]. Throws KilnError if data.length does not match dims. */
  constructor(type: T, data: TensorDataTypeMap[T] | TensorArrayInput<T>, dims?: readonly number[]);
  readonly type: T;
  readonly data: TensorDataTypeMap[T];
  readonly dims: number[];
  /** Number of elements. */
  readonly size: number;
}

/** Anything with the fields of a Tensor (e.g. an onnxruntime-web Tensor) may be passed as input. */
export interface TensorLike {
  type: TensorType;
  data: AnyTensorData | ReadonlyArray<number | bigint | boolean>;
  dims: readonly number[];
}

/** One model input or output: fixed dims are numbers, symbolic dims their names ('?' if unnamed). */
export interface TensorInfo {
  readonly name: string;
  readonly type: TensorType | 'string' | 'undefined';
  readonly dims: ReadonlyArray<number | string>;
}

export type KilnErrorCode = 'invalid_argument' | 'invalid_model' | 'unsupported' | 'out_of_range' | 'io' | 'internal';

/** Every failure of the package. message reads like "invalid argument: input 'x': expected dtype float32, got int32". */
export class KilnError extends Error {
  constructor(code: KilnErrorCode, message: string, options?: { cause?: unknown });
  readonly name: 'KilnError';
  readonly code: KilnErrorCode;
}

/**
 * A .kiln model: Uint8Array / ArrayBuffer bytes, a file path (Node), a URL or a fetch
 * Response. http(s) URLs and Responses are streamed: progress, each weight segment's
 * SHA-256 checked as it arrives, Range resume, and (URLs) the Cache API.
 */
export type ModelSource = Uint8Array | ArrayBuffer | ArrayBufferView | string | URL | Response;

/** One progress report of Session.create. Phases come in order: download, verify, compile. */
export interface LoadProgress {
  /** 'download': bytes received (or read from the cache); 'verify': weight bytes whose SHA-256 matched; 'compile': 0/1 then 1/1. */
  readonly phase: 'download' | 'verify' | 'compile';
  readonly loaded: number;
  /** Bytes expected (0 while unknown); 1 for 'compile'. */
  readonly total: number;
  /** True when the bytes come from the Cache API rather than the network. */
  readonly fromCache: boolean;
}

/** The WASM builds kiln knows; 'simd-threads' is picked only when the package ships it and the page is cross-origin isolated. */
export type BuildName = 'simd' | 'simd-threads';

/** Where the WASM files are: a directory URL for the .wasm file, or file name -> URL ('kiln.wasm', 'kiln.js'). */
export type WasmPaths = string | URL | Partial<Record<'kiln.wasm' | 'kiln.js' | 'kiln-simd-threads.wasm' | 'kiln-simd-threads.js' | 'kiln-simd-threads.worker.js', string | URL>>;

export interface SessionOptions {
  /** Check every weight segment's SHA-256 before use (default true; fetched models are checked while downloading). */
  verifyHashes?: boolean;
  /** Called through download, verification and compilation. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Keep a verified copy of a URL model in the Cache API and load it from there next time
   * (default true where the Cache API exists). A string names the cache (default 'kiln-models-v1').
   */
  cache?: boolean | string;
  /** Expected content hash (Session.loadInfo.contentHash): a cached copy with another hash is replaced, a download with another is rejected. */
  sha256?: string;
  /** How many times an interrupted download is resumed with a Range request (default 3). */
  retries?: number;
  /** Aborts the download (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** 'auto' (default) or the build to insist on; see Session.backendInfo. */
  build?: 'auto' | BuildName;
  /** Overrides where the .wasm (and optionally the .js glue) is loaded from; default web/dist/ beside the package. */
  wasmPaths?: WasmPaths;
  /**
   * Threads a run uses, the calling one included: 0 (default) = the machine's cores, at most 4;
   * 1 = single-threaded (the simd build). More than 1 needs the simd-threads build (Node, or a
   * cross-origin isolated page); results are bit-identical for every count.
   */
  numThreads?: number;
  /** false: never load the threaded build (same as numThreads: 1). */
  threads?: boolean;
  /** Run the session in a dedicated Web Worker (browsers): same API, the main thread never blocks. */
  worker?: boolean;
  /** Worker mode: transfer the model bytes to the worker instead of copying them (the caller's buffer is detached). */
  transfer?: boolean;
}

/** Session.create options that apply to the synchronous Interpreter (it has no worker mode). */
export type InterpreterOptions = Omit<SessionOptions, 'worker' | 'transfer'>;

/** Which build runs and why. */
export interface BackendInfo {
  readonly build: BuildName;
  readonly threads: boolean;
  readonly simd: boolean;
  /** Why this build was picked and why the others were not, e.g. "simd: ...; not simd-threads: the page is not cross-origin isolated (...)". */
  readonly reason: string;
  readonly wasmUrl: string;
  readonly crossOriginIsolated: boolean;
  /** True when the session runs in a Web Worker (worker: true). */
  readonly worker: boolean;
  /** Threads this session's runs use (1 with the simd build; fewer than asked when the worker pool is used up). */
  readonly numThreads: number;
}

/** How the model was loaded. */
export interface LoadInfo {
  readonly bytes: number;
  readonly fromCache: boolean;
  /** SHA-256 (hex) of the model's table, which pins every weight segment; null for models given as bytes or paths. */
  readonly contentHash: string | null;
  /** True when the segments were hashed while downloading (so not again in WASM). */
  readonly verifiedWhileLoading: boolean;
}

export interface RunOptions {
  /** Worker mode: transfer the input buffers to the worker instead of copying them (they are detached afterwards). */
  transfer?: boolean;
}

export type Feeds = Record<string, Tensor | TensorLike>;
export type Results = Record<string, Tensor>;

export class Session {
  private constructor();
  static create(source: ModelSource, options?: SessionOptions): Promise<Session>;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly backendInfo: BackendInfo;
  readonly loadInfo: LoadInfo;
  /** Runs the model; every input must be given. Outputs are JS-owned copies. */
  run(feeds: Feeds, options?: RunOptions): Promise<Results>;
  /**
   * A runner that feeds chosen outputs back as inputs of the next run (recurrent state).
   * Throws KilnError ('invalid_argument') when a name is not an output / input.
   */
  stream(options: StreamOptions): SessionStream;
  /** Frees the model's WASM memory (ends the worker in worker mode); later calls throw KilnError. */
  release(): void;
}

export interface StreamOptions {
  /** Output name -> the input it feeds on the next run, e.g. { stateN: 'state' }. */
  carry: Record<string, string>;
  /** Values of carried inputs for the first run (and after reset()); default zeros, symbolic dims as 1. */
  initial?: Record<string, Tensor | TensorLike>;
}

/** Made by Session.stream(). */
export interface SessionStream {
  /** Runs with the carried inputs added to feeds (a carried input in feeds overrides it), then carries the outputs. */
  run(feeds?: Feeds): Promise<Results>;
  /** Forgets the carried values: the next run starts from options.initial (or zeros). */
  reset(): void;
  /** The carried values the next run will feed, by input name. */
  readonly state: Record<string, Tensor | TensorLike>;
}

/** TFLite-style tensor details. shape has -1 where the model's dim is symbolic. */
export interface TensorDetails {
  name: string;
  index: number;
  shape: Int32Array;
  dtype: TensorType | 'string' | 'undefined';
  /** The declared dims with symbolic names kept, as in Session.inputs. */
  dims: Array<number | string>;
}

export class Interpreter {
  private constructor();
  static create(source: ModelSource, options?: InterpreterOptions): Promise<Interpreter>;
  getInputDetails(): TensorDetails[];
  getOutputDetails(): TensorDetails[];
  /**
   * Copies an input into WASM memory. A typed array must match the input's dtype;
   * dims default to the model's shape and are required when it has symbolic dims.
   */
  setTensor(index: number, value: Tensor | TensorLike | AnyTensorData | ReadonlyArray<number | bigint | boolean>, dims?: readonly number[]): void;
  /** Runs on the tensors set so far (they stay set). */
  invoke(): void;
  /** Output of the last invoke() as a JS-owned Tensor. */
  getTensor(index: number): Tensor;
  release(): void;
}

/** One weight segment of a .kiln file: absolute byte range and its SHA-256 (hex). */
export interface SegmentInfo {
  offset: number;
  length: number;
  sha256: string;
}

/** What readModelInfo reports about a .kiln file. */
export interface ModelInfo {
  formatVersion: number;
  producer: string;
  sourceSha256: string;
  opset: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Free key/value pairs, in file order. */
  metadata: Array<[string, string]>;
  /** Bytes of the table at the start of the file; enough for readModelInfo. */
  tableBytes: number;
  segments: SegmentInfo[];
  fileBytes: number;
}

/**
 * Reads a .kiln file's table without WebAssembly (flatc-generated reader). Throws
 * KilnError ('invalid_model') for truncated or foreign bytes. Weight hashes are not
 * checked here; Session.create checks them.
 */
export function readModelInfo(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): ModelInfo;

/** Pixels as ImageData has them (RGBA), or with an explicit channel count (1, 3 or 4). */
export interface PixelData {
  width: number;
  height: number;
  data: ArrayLike<number>;
  channels?: 1 | 3 | 4;
}

/** Browser image sources imageToTensor draws on a canvas (at the target size). */
export type DrawableImage = ImageBitmap | OffscreenCanvas | HTMLCanvasElement | HTMLImageElement | HTMLVideoElement | VideoFrame;

export interface ImageToTensorOptions<D extends 'float32' | 'uint8' = 'float32' | 'uint8'> {
  /** Resize target (default: the source size). Pixel data is resized bilinearly, browser sources by drawing. */
  width?: number;
  height?: number;
  /** 'nchw' (default, [1, C, H, W]) or 'nhwc' ([1, H, W, C]); upper case accepted. */
  layout?: 'nchw' | 'nhwc' | 'NCHW' | 'NHWC';
  /** 3 (default) or 1 (gray: the mean of R, G and B). */
  channels?: 1 | 3;
  /** 'rgb' (default) or 'bgr'. */
  channelOrder?: 'rgb' | 'bgr';
  /** value = (pixel * scale - mean) / std; scale defaults to 1/255, mean to 0, std to 1. */
  scale?: number;
  mean?: number | readonly number[];
  std?: number | readonly number[];
  /** 'float32' (default) or 'uint8' (raw 0..255, no normalization). */
  dtype?: D;
}

/** Image -> tensor with resize, normalization and layout; alpha is ignored. Throws KilnError on bad input. */
export function imageToTensor(source: PixelData | ImageData | DrawableImage, options?: ImageToTensorOptions<'float32'>): Tensor<'float32'>;
export function imageToTensor(source: PixelData | ImageData | DrawableImage, options: ImageToTensorOptions<'uint8'> & { dtype: 'uint8' }): Tensor<'uint8'>;

/** Softmax over the last dimension of a Tensor (each row) or over a whole array. */
export function softmax(input: Tensor | TensorLike | ArrayLike<number>): Float32Array;

/** The k (default 5) largest values of one vector, highest first; labels adds { label } by index. */
export function topK(input: Tensor | TensorLike | ArrayLike<number>, k?: number): Array<{ index: number; value: number }>;
export function topK<L>(input: Tensor | TensorLike | ArrayLike<number>, k: number, labels: ArrayLike<L>): Array<{ index: number; value: number; label: L }>;
