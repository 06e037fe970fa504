// Compiled by `npm run typecheck` (tsc --noEmit), never run: exercises the public types
// of the `kiln` package so a drift between web/index.d.ts and the agreed API fails.
import { Interpreter, KilnError, Session, Tensor, imageToTensor, readModelInfo, softmax, topK } from 'kiln';
import { cropAndResize, detectTextBoxes, parseKeys, recognizeText } from 'kiln/ocr';
import type { RecognizedLine, ScoredTextBox, TextBox } from 'kiln/ocr';
import type {
  BackendInfo, BuildName, InterpreterOptions, KilnErrorCode, LoadInfo, LoadProgress, SessionOptions, SessionStream,
  StreamOptions, TensorDetails, TensorInfo, TensorType,
} from 'kiln';

export async function sessionExample(bytes: Uint8Array, url: URL): Promise<number> {
  const session = await Session.create(bytes, { verifyHashes: true });
  await Session.create(bytes.buffer as ArrayBuffer);
  await Session.create('model.kiln');
  await Session.create(url);

  const inputs: readonly TensorInfo[] = session.inputs;
  const first = inputs[0];
  const dim: number | string = first.dims[0];
  const names: string[] = session.outputNames;

  const x = new Tensor('float32', new Float32Array(6), [2, 3]);
  const f: Float32Array = x.data;
  const ids = new Tensor('int64', new BigInt64Array([1n, 2n]), [2]);
  const i64: BigInt64Array = ids.data;
  const mask = new Tensor('bool', [true, false]);
  const dims: number[] = mask.dims;

  const out = await session.run({ x, ids, mask, raw: { type: 'int32', data: new Int32Array(1), dims: [1] } });
  const y = out['y'];
  const t: TensorType = y.type;
  const n: number = y.size + y.dims.length + f.length + Number(i64[0]) + dims.length + names.length;
  session.release();
  return typeof dim === 'number' ? n + dim : n + t.length;
}

export async function streamExample(session: Session, chunk: Float32Array): Promise<number> {
  const vad: SessionStream = session.stream({ carry: { stateN: 'state' } });
  const options: StreamOptions = { carry: { stateN: 'state' }, initial: { state: new Tensor('float32', new Float32Array(256), [2, 1, 128]) } };
  session.stream(options).reset();
  const out = await vad.run({ input: new Tensor('float32', chunk, [1, chunk.length]) });
  await vad.run();
  vad.reset();
  return Number(out['output'].data[0]) + vad.state['state'].dims.length;
}

export async function interpreterExample(): Promise<Tensor> {
  const interp = await Interpreter.create('model.kiln');
  const details: TensorDetails[] = interp.getInputDetails();
  const shape: Int32Array = details[0].shape;
  const index: number = details[0].index;
  interp.setTensor(index, new Float32Array(shape.reduce((a, b) => a * Math.max(b, 1), 1)));
  interp.setTensor(1, new Tensor('int32', new Int32Array(4), [2, 2]));
  interp.setTensor(2, new Uint8Array(16), [4, 4]);
  interp.invoke();
  const outDetails = interp.getOutputDetails();
  const y = interp.getTensor(outDetails[0].index);
  interp.release();
  return y;
}

export function errorExample(e: unknown): KilnErrorCode | undefined {
  if (e instanceof KilnError) {
    const message: string = e.message;
    return message ? e.code : undefined;
  }
  return undefined;
}

// @ts-expect-error: a float32 tensor needs a Float32Array
new Tensor('float32', new Int32Array(2));
// @ts-expect-error: not a tensor type
new Tensor('complex64', new Float32Array(2));
// @ts-expect-error: sessions come from Session.create
new Session();

export function infoExample(bytes: Uint8Array): string {
  const info: import('kiln').ModelInfo = readModelInfo(bytes);
  const seg: import('kiln').SegmentInfo | undefined = info.segments[0];
  const meta: Array<[string, string]> = info.metadata;
  return `${info.producer} ${info.inputs[0]?.name} ${seg?.sha256} ${meta.length} ${info.tableBytes}`;
}

export async function loaderExample(url: string, response: Response): Promise<string> {
  const phases: Array<LoadProgress['phase']> = [];
  const controller = new AbortController();
  const session = await Session.create(url, {
    onProgress: (p: LoadProgress) => {
      phases.push(p.phase);
      const fraction: number = p.total ? p.loaded / p.total : 0;
      const cached: boolean = p.fromCache;
      void fraction;
      void cached;
    },
    cache: 'my-models',
    sha256: 'ab'.repeat(32),
    retries: 2,
    signal: controller.signal,
    build: 'auto',
    wasmPaths: 'https://cdn.example/kiln/',
  });
  await Session.create(response, { cache: false, wasmPaths: { 'kiln.wasm': new URL('https://cdn.example/k.wasm') } });
  const worker = await Session.create(new URL(url), { worker: true, transfer: true });
  const x = new Tensor('float32', new Float32Array(4), [1, 4]);
  await worker.run({ x }, { transfer: true });
  const backend: BackendInfo = session.backendInfo;
  const build: BuildName = backend.build;
  const load: LoadInfo = worker.loadInfo;
  const hash: string | null = load.contentHash;
  const options: SessionOptions = { verifyHashes: false, numThreads: 2 };
  await Session.create(url, { threads: false, wasmPaths: { 'kiln-simd-threads.worker.js': 'https://cdn.example/w.js' } });
  const threadCount: number = backend.numThreads;
  await Interpreter.create(url, options as InterpreterOptions);
  return `${build} ${backend.reason} ${backend.threads} ${threadCount} ${load.fromCache} ${hash} ${phases.join()}`;
}

// @ts-expect-error: the Interpreter has no worker mode
Interpreter.create('model.kiln', { worker: true });
// @ts-expect-error: not a build
Session.create('model.kiln', { build: 'avx512' });
// @ts-expect-error: onProgress receives one LoadProgress
Session.create('model.kiln', { onProgress: (a: number, b: number) => a + b });

export function imageExample(canvas: HTMLCanvasElement, bitmap: ImageBitmap, data: ImageData): number {
  const a: Tensor<'float32'> = imageToTensor(data, { width: 224, height: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const b: Tensor<'uint8'> = imageToTensor(bitmap, { layout: 'NHWC', dtype: 'uint8' });
  const c = imageToTensor({ width: 2, height: 1, channels: 1, data: [0, 255] }, { channels: 1 });
  const probs: Float32Array = softmax(a);
  const best = topK(probs, 3, ['cat', 'dog', 'fish']);
  const label: string = best[0].label;
  const plain: number = topK(imageToTensor(canvas))[0].index;
  return b.data.length + c.size + label.length + plain;
}

// @ts-expect-error: layout is nchw or nhwc
imageToTensor({ width: 1, height: 1, data: [0, 0, 0] }, { layout: 'chw' });

export async function ocrPipelineExample(detector: Session, recognizer: Session, keyText: string, data: ImageData): Promise<string> {
  const keys: string[] = parseKeys(keyText);
  const lines: RecognizedLine[] = await recognizeText({ detector, recognizer, keys }, data, { limitSideLen: 960, unclipRatio: 1.6 });
  await recognizeText({ detector, recognizer, keys: keyText }, { width: 1, height: 1, data: [255] });
  const boxes: ScoredTextBox[] = detectTextBoxes(new Float32Array(4), [1, 1, 2, 2], { threshold: 0.3, imageWidth: 4, imageHeight: 4 });
  const box: TextBox = lines[0].box;
  const x = cropAndResize(data, box, 48, { channelOrder: 'rgb' });
  return lines.map((l) => `${l.text} ${l.confidence} ${l.score}`).join('\n') + boxes.length + x.dims.length;
}
// @ts-expect-error: recognizeText needs both sessions
recognizeText({ detector: {} as Session, keys: [] }, { width: 1, height: 1, data: [0] });
