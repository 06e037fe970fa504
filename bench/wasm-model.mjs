// Times Session.run of a .kiln model in WASM under Node: warm-up runs, then the median of
// --repeat runs, on the PP-OCR text line for the recognizer or uniform noise otherwise.
// Usage: node bench/wasm-model.mjs model.kiln [--repeat=5] [--web=path/to/web/index.js]
//        [--threads=N] [--shape=1,3,640,640]
// (--web lets you time another checkout's build, e.g. before/after a change; --threads is
// Session.create's numThreads: 1 = the single-threaded build; --shape fixes symbolic dims.)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/wasm-model.mjs model.kiln [--repeat=5] [--web=web/index.js]');
  process.exit(2);
}
const opts = Object.fromEntries(rest.map((a) => a.replace(/^--/, '').split('=')));
const repeat = Number(opts.repeat ?? 5);
const web = opts.web ? pathToFileURL(path.resolve(opts.web)).href : pathToFileURL(path.join(ROOT, 'web/index.js')).href;
const { Session, Tensor } = await import(web);
const { decodePNG, preprocessRecognizer } = await import(pathToFileURL(path.join(ROOT, 'web/ocr.js')).href);

const createOptions = opts.threads === undefined ? {} : { numThreads: Number(opts.threads) };
const session = await Session.create(fs.readFileSync(file), createOptions);
const shape = opts.shape ? opts.shape.split(',').map(Number) : null;
const feeds = {};
for (const input of session.inputs) {
  if (!shape && input.dims.length === 4 && input.dims[1] === 3 && input.dims[2] === 48) {
    const x = preprocessRecognizer(await decodePNG(fs.readFileSync(path.join(ROOT, 'tests/data/textline.png'))));
    feeds[input.name] = new Tensor('float32', x.data, x.dims);
  } else {
    const dims = shape ?? input.dims.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
    feeds[input.name] = new Tensor('float32', data, dims);
  }
}
for (let i = 0; i < 2; ++i) await session.run(feeds);  // warm-up: V8 tiers the code up
const times = [];
for (let i = 0; i < repeat; ++i) {
  const t0 = performance.now();
  await session.run(feeds);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`${path.basename(file)}: median ${times[times.length >> 1].toFixed(1)} ms over ${repeat} runs ` +
  `(min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}; ${session.backendInfo.build}, ` +
  `${session.backendInfo.numThreads} thread${session.backendInfo.numThreads === 1 ? '' : 's'})`);
session.release();
