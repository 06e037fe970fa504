#!/usr/bin/env node
// `npm start`: the end-to-end demo. Converts the real PP-OCRv4 text recognizer
// (ONNX, from npm) to .kiln with the native CLI, runs it with the WASM build of
// kiln under Node on a text-line image, decodes the text and reports latency
// and model size. Run after scripts/setup.sh (npm start does both).
//
//   node scripts/start.mjs [--image file.png] [--runs N]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { ensureModels } from './fetch-models.mjs';
import { decodePNG, preprocessRecognizer, parseKeys, ctcGreedyDecode } from '../web/ocr.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// KILN_CLI overrides the CLI (e.g. a developer's own build dir).
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');
const KILN_MODEL = path.join(ROOT, '.cache/kiln/rec.kiln');

function parseArgs(argv) {
  const opts = { image: path.join(ROOT, 'tests/data/textline.png'), runs: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--image') opts.image = path.resolve(argv[++i] ?? '');
    else if (a === '--runs') opts.runs = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/start.mjs [--image file.png] [--runs N]\n' +
                  'Recognizes the text in a one-line PNG with the PP-OCRv4 recognizer run by kiln (WASM).');
      process.exit(0);
    } else throw new Error(`unknown argument '${a}' (try --help)`);
  }
  if (!(Number.isInteger(opts.runs) && opts.runs >= 1)) throw new Error('--runs must be a positive integer');
  return opts;
}

const mtime = (f) => fs.statSync(f).mtimeMs;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (t) => `${t.toFixed(1)} ms`;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// Converts with the native CLI unless the .kiln is newer than both the model and the CLI.
function convert(onnx) {
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run \`bash scripts/setup.sh\` first`);
  if (fs.existsSync(KILN_MODEL) && mtime(KILN_MODEL) >= Math.max(mtime(onnx), mtime(CLI))) {
    console.log(`  convert    ${path.relative(ROOT, KILN_MODEL)} is up to date`);
    return;
  }
  fs.mkdirSync(path.dirname(KILN_MODEL), { recursive: true });
  const t0 = performance.now();
  let out;
  try {
    out = execFileSync(CLI, ['convert', onnx, '-o', KILN_MODEL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    fs.rmSync(KILN_MODEL, { force: true });
    throw new Error(`kiln convert failed:\n${e.stderr || e.message}`);
  }
  console.log(`  convert    ${out.trim().replace(ROOT + '/', '')} (${ms(performance.now() - t0)})`);
}

// Times onnxruntime-node (a devDependency) on the same input, when installed.
async function timeOnnxRuntime(onnx, input, runs) {
  let ort;
  try { ort = (await import('onnxruntime-node')).default; } catch { return null; }
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const feed = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
  await session.run(feed);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feed);
    times.push(performance.now() - t0);
  }
  await session.release?.();
  return median(times);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  console.log('kiln demo: the PP-OCRv4 text recognizer (ONNX from npm), converted to .kiln and run by kiln\'s WASM build in Node');
  const models = ensureModels({ quiet: true });
  convert(models.recognizer);

  const { Session, Tensor } = await import('kiln');
  const keys = parseKeys(fs.readFileSync(models.recognizerKeys, 'utf8'));
  const image = await decodePNG(fs.readFileSync(opts.image));
  const input = preprocessRecognizer(image);
  console.log(`  image      ${path.relative(process.cwd(), opts.image)} (${image.width}x${image.height}) -> x [${input.dims.join(',')}]`);

  let t0 = performance.now();
  const session = await Session.create(fs.readFileSync(KILN_MODEL));
  const loadTime = performance.now() - t0;
  const inputName = session.inputs[0].name;
  const outputName = session.outputs[0].name;
  const feeds = { [inputName]: new Tensor('float32', input.data, input.dims) };

  t0 = performance.now();
  let out = await session.run(feeds);
  const firstRun = performance.now() - t0;
  const warm = [];
  for (let i = 0; i < opts.runs; i++) {
    t0 = performance.now();
    out = await session.run(feeds);
    warm.push(performance.now() - t0);
  }
  const probs = out[outputName];
  const result = ctcGreedyDecode(probs.data, probs.dims, keys);
  session.release();

  console.log(`  text       "${result.text}"  (confidence ${result.score.toFixed(3)})`);
  console.log(`  latency    load ${ms(loadTime)}, first run ${ms(firstRun)}, warm median ${ms(median(warm))} (${opts.runs} runs, 1 thread)`);
  const ortTime = await timeOnnxRuntime(models.recognizer, input, opts.runs);
  if (ortTime !== null) {
    console.log(`  reference  onnxruntime-node (native, 1 thread) warm median ${ms(ortTime)}`);
  }
  const onnxSize = fs.statSync(models.recognizer).size, kilnSize = fs.statSync(KILN_MODEL).size;
  console.log(`  model size ${mb(onnxSize)} (.onnx) -> ${mb(kilnSize)} (.kiln, ${((100 * kilnSize) / onnxSize).toFixed(0)}%)`);
}

main().catch((e) => {
  console.error(`kiln demo: error: ${e.message}`);
  process.exit(1);
});
