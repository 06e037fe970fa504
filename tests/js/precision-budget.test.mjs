// `kiln compress --int4 --target-ratio R` end to end on the real classifier: every layer int4
// or int8 can take gets int4 / int4-min / int8 / float (float16 with --fp16) by its measured
// output SNR under the budget input / R; the file meets the ratio, the printed report and the
// stored metadata list every layer's choice (and they agree with the graph's ops), a ratio
// nothing reaches is reported as missed, the mixed model runs the same natively and in WASM,
// and the flag's misuses are errors naming it. (The
// classifier is small: its graph and float biases cap it near 3.5x, so 3x leaves room to choose.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { KILN_CLI, randomFloats } from './helpers.mjs';
import { writeNpy, readNpy } from './npy.mjs';

if (!fs.existsSync(KILN_CLI)) throw new Error(`${KILN_CLI} not found: run \`npm run build:native\``);
const models = ensureModels({ quiet: true });
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-budget-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
const cli = (...args) => execFileSync(KILN_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
const inspect = (model) => JSON.parse(cli('inspect', model, '--json'));
const stored = (model) => JSON.parse(inspect(model).metadata['kiln.compression']);

describe('kiln compress --int4 --target-ratio (classifier)', () => {
  const full = path.join(TMP, 'cls.kiln'), out = path.join(TMP, 'cls.r3.kiln'), far = path.join(TMP, 'cls.r50.kiln');
  const common = ['--eval-runs', '1', '--latency-runs', '0', '--eval-count', '4'];
  let printed, farPrinted;

  before(() => {
    cli('convert', models.classifier, '-o', full);
    printed = cli('compress', full, '--int4', '--target-ratio', '3', '--fp16', '-o', out, ...common);
    farPrinted = cli('compress', full, '--int4', '--target-ratio', '50', '--fp16', '--no-eval', '-o', far);
  });

  it('meets the ratio and lists each layer\'s precision, printed and stored', () => {
    const before = fs.statSync(full).size, after = fs.statSync(out).size;
    assert.ok(before / after >= 3, `${before} / ${after} = ${(before / after).toFixed(2)}x`);
    const r = stored(out).precision_budget;
    assert.equal(r.target_ratio, 3);
    assert.equal(r.met, true);
    assert.equal(r.budget_bytes, Math.floor(before / 3));
    assert.ok(r.bytes_before_report <= r.budget_bytes);
    assert.ok(r.layers.length >= 10, JSON.stringify(r.layers.length));
    const kinds = new Set(r.layers.map((l) => l.precision));
    for (const k of kinds) assert.ok(['int4', 'int4-min', 'int8', 'float'].includes(k), k);
    assert.ok(kinds.has('int4') || kinds.has('int4-min'), [...kinds].join());
    for (const l of r.layers) {
      assert.match(printed, new RegExp(`^  ${l.node.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${l.precision} \\(`, 'm'));
      assert.ok(l.bytes > 0, l.node);
      if (l.precision !== 'float') assert.ok(Number.isFinite(l.output_snr_db_alone?.[l.precision]), JSON.stringify(l));
    }
    assert.match(printed, /target ratio 3\.00x: budget .* -> \d+ int4, \d+ int4-min, \d+ int8, \d+ float \(float16\)/);
    // The graph holds what the report says: one int4 op per int4 layer, a W_min input per int4-min one.
    const g = inspect(out);
    const count = (p) => r.layers.filter((l) => l.precision === p).length;
    const ops = (name) => g.ops[name] ?? 0;
    assert.equal(ops('BlockQuantMatMul') + ops('BlockQuantConv'), count('int4') + count('int4-min'));
    assert.equal(ops('DynamicQuantConv') + ops('DynamicQuantMatMul'), count('int8'));
    // And the task: top-1 agreement with float on the 4 rendered lines.
    assert.equal(stored(out).task_eval.top1_agreement_pct, 100, JSON.stringify(stored(out).task_eval));
  });

  it('runs the same natively and in WASM', async () => {
    // The mix (int4, int4-min, int8 and float16 layers side by side) through kiln.wasm's kernels.
    const dims = [1, 3, 48, 192];
    const data = randomFloats(dims.reduce((a, b) => a * b), 5);  // in [-1, 1)
    const inFile = path.join(TMP, 'x.npy'), outDir = path.join(TMP, 'out');
    writeNpy(inFile, { type: 'float32', data, dims });
    cli('run', out, '--input', `x=${inFile}`, '--output-dir', outDir);
    const nat = readNpy(path.join(outDir, fs.readdirSync(outDir)[0]));
    const session = await Session.create(fs.readFileSync(out), { numThreads: 1 });
    let wasm;
    try {
      wasm = Object.values(await session.run({ x: new Tensor('float32', data, dims) }))[0];
    } finally {
      session.release();
    }
    assert.equal(wasm.data.length, nat.data.length);
    let diff = 0;
    for (let i = 0; i < nat.data.length; i++) diff = Math.max(diff, Math.abs(nat.data[i] - wasm.data[i]));
    // Same int4 / int8 codes in both builds; only float summation order and the int8
    // rounding of activations it moves differ.
    assert.ok(diff < 0.05, `native vs WASM max probability difference ${diff}`);  // 0.003 measured
  });

  it('says so when even the cheapest mix misses the ratio', () => {
    const r = stored(far).precision_budget;
    assert.equal(r.met, false);
    assert.ok(r.layers.every((l) => l.precision === 'int4' || l.precision === 'int8'), JSON.stringify(r.layers));
    assert.match(farPrinted, /over the budget/);
  });

  it('rejects misuse with a message naming the flag', () => {
    for (const [args, re] of [
      [['--fp16', '--target-ratio', '6'], /add --int4/],
      [['--int4', '--target-ratio', '0.5'], /--target-ratio must be in/],
      [['--int4', '--int4-min', '--target-ratio', '6'], /drop --int4-min/],
      [['--int4', '--target-ratio', '6', '--auto-precision', '25'], /choose one/],
    ]) {
      const r = spawnSync(KILN_CLI, ['compress', full, ...args, '--no-eval', '-o', path.join(TMP, 'x.kiln')], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, re);
    }
  });
});
