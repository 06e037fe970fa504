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

/** A .kiln model: Uint8Array / ArrayBuffer bytes, a file path (Node) or a URL (fetched; file: URLs read in Node). */
export type ModelSource = Uint8Array | ArrayBuffer | ArrayBufferView | string | URL;

export interface SessionOptions {
  /** Check every weight segment's SHA-256 before use (default true). */
  verifyHashes?: boolean;
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
  /** Runs the model; every input must be given. Outputs are JS-owned copies. */
  run(feeds: Feeds): Promise<Results>;
  /**
   * A runner that feeds chosen outputs back as inputs of the next run (recurrent state).
   * Throws KilnError ('invalid_argument') when a name is not an output / input.
   */
  stream(options: StreamOptions): SessionStream;
  /** Frees the model's WASM memory; later calls throw KilnError. */
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
  static create(source: ModelSource, options?: SessionOptions): Promise<Interpreter>;
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
