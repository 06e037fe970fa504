// The WASM conformance runner: runs the ONNX backend node tests that the native runner
// exported (`kiln_conformance --export DIR`: model.kiln + .npy data sets + manifest.tsv)
// through the npm package (web/index.js, the WASM build) in Node, with the same tolerance
// and line format as the native runner, and prints
//   conformance wasm: N passed, N failed, N skipped
// Exits non-zero only when a test not listed in known_failures.txt fails.
//
//   node tests/conformance/run-wasm.mjs [--dir DIR] [--slice] [--filter S] [--peer ort] [--quiet]
// --slice runs every 4th in-scope test (sorted by name) instead of all; --peer ort also
// runs onnxruntime-node on each model.onnx with the same data and prints its counts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, Tensor } from '../../web/index.js';
import { decodeNpy } from '../js/npy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const dir = path.resolve(opt('--dir', path.join(root, 'build/conformance')));
const dataDir = opt('--data', '/usr/share/libonnx-testdata/data/node');
const filter = opt('--filter', '');
const peer = opt('--peer', '');
const slice = args.includes('--slice');
const quiet = args.includes('--quiet');

/** known_failures.txt: "name: reason" or "name [wasm]: reason" / "name [native]: reason". */
function readKnown(file) {
  const known = new Map();
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const [name, tag] = line.slice(0, colon).trim().split(/\s+/);
    if (tag !== '[native]') known.set(name, line.slice(colon + 1).trim());
  }
  return known;
}

const isFloat = (t) => t === 'float32' || t === 'float64' || t === 'float16';
function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
const num = (t, v) => (t === 'float16' ? halfToFloat(v) : Number(v));

/** Empty string when got matches want: |a-b| <= 1e-7 + 1e-3|b| for floats, exact otherwise. */
export function compare(got, want) {
  const dims = (d) => `[${Array.from(d).join(',')}]`;
  if (got.type !== want.type || dims(got.dims) !== dims(want.dims))
    return `got ${got.type}${dims(got.dims)}, want ${want.type}${dims(want.dims)}`;
  let bad = 0, worst = -1, worstErr = 0;
  for (let i = 0; i < want.data.length; i++) {
    let ok, err = 0;
    if (isFloat(want.type)) {
      const a = num(got.type, got.data[i]), b = num(want.type, want.data[i]);
      ok = (Number.isNaN(a) && Number.isNaN(b)) || a === b;
      if (!ok) {
        err = Math.abs(a - b);
        ok = err <= 1e-7 + 1e-3 * Math.abs(b);
        if (Number.isNaN(err)) err = Infinity;
      }
    } else {
      ok = got.data[i] === want.data[i];
      if (!ok) err = Math.abs(Number(got.data[i]) - Number(want.data[i]));
    }
    if (!ok) {
      bad++;
      if (worst < 0 || err > worstErr) [worst, worstErr] = [i, err];
    }
  }
  if (!bad) return '';
  return `${bad} of ${want.data.length} elements differ, max err ${worstErr.toPrecision(7)} at index ${worst} ` +
    `(got ${num(got.type, got.data[worst])}, want ${num(want.type, want.data[worst])})`;
}

/** The data sets of an exported test: [{name, inputs: [{type,data,dims}], outputs: [...]}]. */
function readSets(testDir) {
  const sets = [];
  for (const set of fs.readdirSync(testDir).filter((n) => n.startsWith('test_data_set_')).sort()) {
    const files = fs.readdirSync(path.join(testDir, set));
    const load = (kind) => files.filter((f) => f.startsWith(kind + '_')).sort((a, b) => parseInt(a.slice(kind.length + 1)) - parseInt(b.slice(kind.length + 1)))
      .map((f) => decodeNpy(fs.readFileSync(path.join(testDir, set, f))));
    sets.push({ name: set, inputs: load('input'), outputs: load('output') });
  }
  return sets;
}

async function runKiln(testDir, names, sets) {
  const session = await Session.create(new Uint8Array(fs.readFileSync(path.join(testDir, 'model.kiln'))));
  try {
    for (const set of sets) {
      const feeds = {};
      set.inputs.forEach((t, i) => { feeds[names.inputs[i]] = new Tensor(t.type, t.data, t.dims); });
      let out;
      try { out = await session.run(feeds); } catch (e) { return `${set.name} run: ${e.message}`; }
      for (let i = 0; i < set.outputs.length; i++) {
        const got = out[names.outputs[i]];
        if (!got) return `${set.name} output ${i} '${names.outputs[i]}' missing`;
        const diff = compare(got, set.outputs[i]);
        if (diff) return `${set.name} output ${i} '${names.outputs[i]}': ${diff}`;
      }
    }
    return '';
  } finally {
    session.release();
  }
}

async function runOrt(ort, modelPath, names, sets) {
  let session;
  try { session = await ort.InferenceSession.create(modelPath); } catch (e) { return `create: ${e.message.split('\n')[0]}`; }
  try {
    for (const set of sets) {
      const feeds = {};
      set.inputs.forEach((t, i) => { feeds[names.inputs[i]] = new ort.Tensor(t.type, t.data, t.dims); });
      let out;
      try { out = await session.run(feeds); } catch (e) { return `${set.name} run: ${e.message.split('\n')[0]}`; }
      for (let i = 0; i < set.outputs.length; i++) {
        const got = out[names.outputs[i]];
        if (!got) return `${set.name} output ${i} missing`;
        const diff = compare({ type: got.type, data: got.data, dims: got.dims }, set.outputs[i]);
        if (diff) return `${set.name} output ${i}: ${diff}`;
      }
    }
    return '';
  } finally {
    await session.release?.();
  }
}

async function main() {
  const manifestPath = path.join(dir, 'manifest.tsv');
  if (!fs.existsSync(manifestPath)) {
    console.error(`run-wasm: no ${manifestPath}; run kiln_conformance --export ${dir} first`);
    process.exit(2);
  }
  const known = readKnown(path.join(here, 'known_failures.txt'));
  let rows = fs.readFileSync(manifestPath, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [name, status, ...rest] = l.split('\t');
    return { name, status, detail: rest.join('\t') };
  }).filter((r) => !filter || r.name.includes(filter)).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (slice) {
    let k = 0;
    rows = rows.filter((r) => r.status === 'skip' || k++ % 4 === 0);
  }
  const ort = peer === 'ort' ? (await import('onnxruntime-node')).default : null;
  let passed = 0, failed = 0, skipped = 0, peerPassed = 0, peerFailed = 0;
  const unexpected = [], nowPassing = [];
  const t0 = performance.now();
  for (const r of rows) {
    if (r.status === 'skip') {
      skipped++;
      console.log(`SKIP ${r.name}: ${r.detail}`);
      continue;
    }
    const testDir = path.join(dir, r.name);
    let result, sets = null, names = null;
    try {
      names = JSON.parse(fs.readFileSync(path.join(testDir, 'names.json'), 'utf8'));
      sets = readSets(testDir);
    } catch (e) {
      sets = null;
    }
    if (!fs.existsSync(path.join(testDir, 'model.kiln'))) {
      result = r.detail || 'no model.kiln exported';  // conversion is native: same failure
    } else {
      try { result = await runKiln(testDir, names, sets); } catch (e) { result = `${e.name}: ${e.message}`; }
    }
    if (ort) {
      let p;
      if (!sets) p = 'test data not exported';
      else try { p = await runOrt(ort, path.join(dataDir, r.name, 'model.onnx'), names, sets); } catch (e) { p = e.message; }
      if (p) { peerFailed++; console.log(`PEER-FAIL ${r.name}: ${p}`); } else peerPassed++;
    }
    const isKnown = known.has(r.name);
    if (!result) {
      passed++;
      if (!quiet) console.log(`PASS ${r.name}`);
      if (isKnown) nowPassing.push(r.name);
      continue;
    }
    failed++;
    console.log(`FAIL ${r.name}: ${result}${isKnown ? ` [known: ${known.get(r.name)}]` : ''}`);
    if (!isKnown) unexpected.push(r.name);
  }
  for (const n of nowPassing) console.log(`NOTE ${n} now passes in WASM: remove it from known_failures.txt`);
  for (const n of unexpected) console.log(`UNEXPECTED ${n}`);
  console.log(`time: ${((performance.now() - t0) / 1000).toFixed(1)} s${slice ? ' (slice: every 4th in-scope test)' : ''}`);
  if (ort) console.log(`peer onnxruntime-node on the same ${peerPassed + peerFailed} tests: ${peerPassed} passed, ${peerFailed} failed`);
  console.log(`conformance wasm: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exitCode = unexpected.length ? 1 : 0;
}

await main();
