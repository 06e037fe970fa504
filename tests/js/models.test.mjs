// Whole-model correctness on the real models (fetched from npm, SHA-256
// verified): each is converted with the native CLI, run natively (`kiln run` on
// .npy files) and in WASM (the 'kiln' package under Node) on fixed inputs, and
// compared with onnxruntime-node (1 thread) as the oracle:
//   |kiln - ort| <= 1e-4 * max(1, |ort|) for every value of every output.
// A model that fails to convert or run fails its tests; nothing is skipped.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ort from 'onnxruntime-node';
import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { decodePNG, preprocessDetector, preprocessRecognizer, parseKeys, ctcGreedyDecode } from '../../web/ocr.js';
import { writeNpy, readNpy } from './npy.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// KILN_CLI overrides the CLI (e.g. a developer's own build dir).
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');
const TEXTLINE = path.join(ROOT, 'tests/data/textline.png');
const EXPECTED_TEXT = 'kiln runs models in the browser';
const TOLERANCE = 1e-4;

const models = ensureModels({ quiet: true });
const keys = parseKeys(fs.readFileSync(models.recognizerKeys, 'utf8'));
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-models-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

// Deterministic inputs: mulberry32, uniform in [lo, hi).
function uniform(dims, seed, lo = -1, hi = 1) {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return { type: 'float32', data, dims };
}

// The text line, preprocessed as PaddleOCR does for each model: the detector
// sees [1,3,64,512], the recognizer [1,3,48,520].
async function textlineInput(preprocess) {
  const x = preprocess(await decodePNG(fs.readFileSync(TEXTLINE)));
  return { type: 'float32', data: x.data, dims: x.dims };
}

const CASES = [
  { key: 'classifier', feeds: async () => ({ x: uniform([1, 3, 48, 192], 1) }) },
  // Random noise gives the detector an all-but-zero probability map (max 1e-3), which
  // would hide errors under the tolerance; a real text line gives values up to 1.
  { key: 'detector', feeds: async () => ({ x: await textlineInput(preprocessDetector) }) },
  { key: 'recognizer', feeds: async () => ({ x: await textlineInput(preprocessRecognizer) }), text: EXPECTED_TEXT },
  { key: 'blazeface', feeds: async () => ({ 'input:0': uniform([1, 128, 128, 3], 4) }) },
  {
    key: 'silero',
    feeds: async () => ({
      input: uniform([1, 512], 5, -0.5, 0.5),
      sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
      state: { type: 'float32', data: new Float32Array(2 * 1 * 128), dims: [2, 1, 128] },
    }),
  },
  // The other Silero exports: LSTM nodes inside If branches (12 to 25 Ifs), sr as an input
  // or not. 576 samples: a 512-sample chunk after the 64 samples of context v5 expects.
  ...['silero16kOp15', 'sileroV5', 'sileroHalf'].map((key, i) => ({
    key,
    feeds: async () => ({
      input: uniform([1, 576], 6 + i, -0.5, 0.5),
      ...(key === 'sileroHalf' ? {} : { sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] } }),
      state: uniform([2, 1, 128], 9 + i, -0.5, 0.5),
    }),
  })),
];

// Same names as the CLI's files: <output-dir>/<sanitized name>.npy.
const sanitize = (name) => {
  const r = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return r === '' || r === '.' || r === '..' ? 'output' + r : r;
};

// Checks one output against the reference; returns the error summary.
function compare(label, got, ref) {
  assert.ok(got, `${label}: missing`);
  assert.deepEqual(Array.from(got.dims, Number), Array.from(ref.dims, Number), `${label}: dims`);
  assert.equal(got.type, ref.type, `${label}: dtype`);
  assert.equal(got.data.length, ref.data.length, `${label}: element count`);
  if (typeof ref.data[0] === 'bigint') {
    for (let i = 0; i < ref.data.length; i++) assert.equal(got.data[i], ref.data[i], `${label}[${i}]`);
    return { maxAbs: 0, maxRel: 0 };
  }
  let maxAbs = 0, maxRel = 0, worst = -1, bad = 0, firstBad = -1;
  for (let i = 0; i < ref.data.length; i++) {
    const a = Number(got.data[i]), b = Number(ref.data[i]);
    const abs = Math.abs(a - b);
    const rel = abs / Math.max(1, Math.abs(b));
    if (!(rel <= TOLERANCE)) { bad++; if (firstBad < 0) firstBad = i; }  // NaN counts as bad
    if (!(abs <= maxAbs)) { maxAbs = abs; worst = i; }
    if (rel > maxRel) maxRel = rel;
  }
  assert.equal(bad, 0, `${label}: ${bad} of ${ref.data.length} values off by more than ${TOLERANCE}·max(1,|ref|); ` +
    `first at ${firstBad}: kiln ${got.data[firstBad]} vs onnxruntime ${ref.data[firstBad]}; ` +
    `max abs err ${maxAbs} at ${worst}`);
  return { maxAbs, maxRel };
}

function compareAll(t, where, key, outputs, reference) {
  for (const [name, ref] of Object.entries(reference)) {
    const { maxAbs, maxRel } = compare(`${key} (${where}) output '${name}'`, outputs[name], ref);
    t.diagnostic(`${key} ${where} '${name}' [${ref.dims}]: max abs err ${maxAbs.toExponential(2)}, ` +
                 `max rel err ${maxRel.toExponential(2)}`);
  }
}

function decodeText(out) {
  const [probs] = Object.values(out);
  return ctcGreedyDecode(probs.data, Array.from(probs.dims, Number), keys).text;
}

for (const c of CASES) {
  describe(`model ${c.key}`, () => {
    const kilnFile = path.join(TMP, `${c.key}.kiln`);
    let feeds, reference;

    before(async () => {
      assert.ok(fs.existsSync(CLI), `${path.relative(ROOT, CLI)} is missing: run \`bash scripts/setup.sh\``);
      try {
        execFileSync(CLI, ['convert', models[c.key], '-o', kilnFile], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
      } catch (e) {
        assert.fail(`kiln convert ${path.basename(models[c.key])} failed: ${e.stderr || e.message}`);
      }
      feeds = await c.feeds();
      const session = await ort.InferenceSession.create(models[c.key], { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new ort.Tensor(f.type, f.data, f.dims)]));
      const out = await session.run(ortFeeds);
      reference = Object.fromEntries(Object.entries(out).map(([n, t]) => [n, { type: t.type, data: t.data, dims: t.dims }]));
      await session.release?.();
      // The inputs must exercise the model: some output has to vary by more than the
      // tolerance, or a kiln that returned zeros would pass.
      const ranges = Object.values(reference).map((r) => {
        if (typeof r.data[0] === 'bigint') return Infinity;
        let lo = Infinity, hi = -Infinity;
        for (const v of r.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        return hi - lo;
      });
      assert.ok(Math.max(...ranges) > 0.1, `${c.key}: the reference outputs hardly vary (ranges ${ranges}): pick other inputs`);
      if (c.text) assert.equal(decodeText(reference), c.text, 'onnxruntime-node itself decodes the text line');
    });

    it('native CLI (kiln run) matches onnxruntime-node', (t) => {
      const dir = path.join(TMP, `${c.key}-native`);
      const args = ['run', kilnFile, '--output-dir', path.join(dir, 'out')];
      fs.mkdirSync(dir, { recursive: true });
      for (const [name, f] of Object.entries(feeds)) {
        const file = path.join(dir, `in-${sanitize(name)}.npy`);
        writeNpy(file, f);
        args.push('--input', `${name}=${file}`);
      }
      try {
        execFileSync(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
      } catch (e) {
        assert.fail(`kiln run ${c.key} failed: ${e.stderr || e.message}`);
      }
      const outputs = {};
      for (const name of Object.keys(reference)) {
        const file = path.join(dir, 'out', `${sanitize(name)}.npy`);
        assert.ok(fs.existsSync(file), `kiln run wrote no ${path.basename(file)} for output '${name}'`);
        outputs[name] = readNpy(file);
      }
      compareAll(t, 'native', c.key, outputs, reference);
      if (c.text) assert.equal(decodeText(outputs), c.text);
    });

    it('WASM (kiln package) matches onnxruntime-node', async (t) => {
      const session = await Session.create(fs.readFileSync(kilnFile));
      try {
        const out = await session.run(Object.fromEntries(
          Object.entries(feeds).map(([n, f]) => [n, new Tensor(f.type, f.data, f.dims)])));
        compareAll(t, 'wasm', c.key, out, reference);
        if (c.text) assert.equal(decodeText(out), c.text);
      } finally {
        session.release();
      }
    });
  });
}
