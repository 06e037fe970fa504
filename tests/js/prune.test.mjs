// `kiln compress --prune` end to end on the real models: magnitude (per layer and global)
// and 2:4 pruning of the classifier, 90% of the recognizer, the report printed and stored,
// the exact sparsity reached, and the pruned models running natively (sparse kernels
// chosen at load) and in WASM with both builds agreeing. Accuracy after pruning without
// fine-tuning is reported, not asserted beyond what the numbers in the README show.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { writeNpy, readNpy } from './npy.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');
const models = ensureModels({ quiet: true });
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-prune-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const cli = (...args) => execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });

// A deterministic image-like input.
function image(dims) {
  const n = dims.reduce((a, b) => a * b, 1), data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i % dims[3]) / 7 + Math.floor(i / dims[3]) / 5) % 2 > 1 ? 0.8 : -0.6;
  return { type: 'float32', data, dims };
}

function runNative(model, input, name) {
  const inFile = path.join(TMP, `${name}.npy`), outDir = path.join(TMP, `${name}-out`);
  writeNpy(inFile, input);
  cli('run', model, '--input', `x=${inFile}`, '--output-dir', outDir);
  const [outFile] = fs.readdirSync(outDir);
  return readNpy(path.join(outDir, outFile));
}

async function runWasm(model, input) {
  // The single-threaded build: results do not depend on the thread count (see README, Threads).
  const session = await Session.create(fs.readFileSync(model), { threads: false });
  try {
    return Object.values(await session.run({ x: new Tensor('float32', input.data, input.dims) }))[0];
  } finally {
    session.release();
  }
}

const stored = (model) => JSON.parse(JSON.parse(cli('inspect', model, '--json')).metadata['kiln.compression']);

describe('kiln compress --prune (classifier)', () => {
  const full = path.join(TMP, 'cls.kiln');
  const modes = { p75: ['0.75'], global: ['0.75', '--prune-global'], nm: ['2:4'] };
  const files = {}, reports = {};

  before(() => {
    cli('convert', models.classifier, '-o', full);
    for (const [name, flags] of Object.entries(modes)) {
      files[name] = path.join(TMP, `cls.${name}.kiln`);
      reports[name] = cli('compress', full, '--prune', ...flags, '--input-shape', 'x=1,3,48,192', '--eval-runs', '2',
        '--latency-runs', '1', '-o', files[name]);
    }
  });

  it('prints what it pruned, the error and the latency', () => {
    for (const r of Object.values(reports)) {
      assert.match(r, /pruned (\d+) weights \((\d+) elements, [0-9.]+% zeros/);
      assert.match(r, /output '.+': max \|err\| [0-9.e+-]+, mean \|err\| [0-9.e+-]+, SNR -?[0-9.]+ dB/);
      assert.match(r, /latency \(native, 1 thread, CPU time, median of 1\): [0-9.]+ ms -> [0-9.]+ ms/);
    }
    assert.match(reports.p75, /75\.0% zeros/);
    assert.match(reports.global, /75\.0% zeros/);
  });

  it('stores the report with the sparsity reached', () => {
    const p = stored(files.p75);
    assert.equal(p.mode, 'prune75');
    assert.equal(p.prune, '0.75');
    assert.ok(p.pruned_layers >= 15, `${p.pruned_layers} layers`);
    assert.ok(Math.abs(p.pruned_sparsity - 0.75) < 1e-3, `sparsity ${p.pruned_sparsity}`);
    assert.ok(p.pruned_layers_sparse_kernels > 0, `${p.pruned_layers_sparse_kernels} layers on the sparse kernels`);
    assert.equal(stored(files.global).prune_global, true);
    const nm = stored(files.nm);
    assert.equal(nm.mode, 'prune2of4');
    // Runs of 4 along input channels; channel counts that are not multiples of 4 keep a little more.
    assert.ok(nm.pruned_sparsity > 0.45 && nm.pruned_sparsity <= 0.5, `2:4 sparsity ${nm.pruned_sparsity}`);
  });

  it('runs natively and in WASM, both builds agreeing', async () => {
    const input = image([1, 3, 48, 192]);
    for (const [name, file] of Object.entries(files)) {
      const native = runNative(file, input, name);
      const wasm = await runWasm(file, input);
      assert.deepEqual(Array.from(wasm.dims, Number), Array.from(native.dims, Number));
      let worst = 0;
      for (let i = 0; i < wasm.data.length; i++) worst = Math.max(worst, Math.abs(wasm.data[i] - native.data[i]));
      assert.ok(worst <= 1e-4, `${name}: native vs WASM max abs diff ${worst}`);
    }
  });

  it('refuses bad --prune values and names the problem', () => {
    for (const bad of ['1.5', '5:4', 'half'])
      assert.throws(() => cli('compress', full, '--prune', bad, '--no-eval', '-o', path.join(TMP, 'bad.kiln')),
        (e) => /--prune/.test(e.stderr), bad);
  });
});

describe('kiln compress --prune (recognizer)', () => {
  it('prunes 90%, runs its MatMuls sparse natively and in WASM, both builds agreeing', async () => {
    const full = path.join(TMP, 'rec.kiln'), nm = path.join(TMP, 'rec.p90.kiln');
    cli('convert', models.recognizer, '-o', full);
    const report = cli('compress', full, '--prune', '0.9', '--no-eval', '-o', nm);
    assert.match(report, /pruned (\d+) weights .* (\d+) sparse enough for the sparse kernels at load/);
    const p = stored(nm);
    assert.ok(p.pruned_layers >= 9 && Math.abs(p.pruned_sparsity - 0.9) < 1e-3, JSON.stringify(p));
    assert.ok(p.pruned_layers_sparse_kernels >= 9, JSON.stringify(p));
    const input = image([1, 3, 48, 320]);
    const native = runNative(nm, input, 'rec');
    const wasm = await runWasm(nm, input);
    let worst = 0;
    for (let i = 0; i < wasm.data.length; i++) worst = Math.max(worst, Math.abs(wasm.data[i] - native.data[i]));
    assert.ok(worst <= 1e-4, `native vs WASM max abs diff ${worst}`);
  });
});
