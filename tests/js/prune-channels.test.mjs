// `kiln compress --prune-channels 0.3` end to end on the real classifier: the report
// (layers, channels, params, MACs before -> after, residual groups, bias compensation)
// printed and stored, a smaller file with fewer parameters and MACs than before residual
// groups were followed, and the pruned model running natively and in WASM with both builds
// agreeing; combined with --fp16 and with --prune-sensitivity too. Accuracy is reported in
// the README (kiln eval), not asserted here.
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
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-chprune-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const cli = (...args) => execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
const stored = (model) => JSON.parse(JSON.parse(cli('inspect', model, '--json')).metadata['kiln.compression']);

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
  const session = await Session.create(fs.readFileSync(model), { threads: false });
  try {
    return Object.values(await session.run({ x: new Tensor('float32', input.data, input.dims) }))[0];
  } finally {
    session.release();
  }
}

describe('kiln compress --prune-channels (classifier)', () => {
  const full = path.join(TMP, 'cls.kiln');
  const files = {
    ch30: path.join(TMP, 'cls.ch30.kiln'),
    ch30fp16: path.join(TMP, 'cls.ch30fp16.kiln'),
    ch30sens: path.join(TMP, 'cls.ch30sens.kiln'),
  };
  let sensReport;
  let report;

  before(() => {
    cli('convert', models.classifier, '-o', full);
    report = cli('compress', full, '--prune-channels', '0.3', '--input-shape', 'x=1,3,48,192', '--eval-runs', '2',
      '--latency-runs', '1', '-o', files.ch30);
    cli('compress', full, '--prune-channels', '0.3', '--fp16', '--input-shape', 'x=1,3,48,192', '--no-eval',
      '-o', files.ch30fp16);
    sensReport = cli('compress', full, '--prune-channels', '0.3', '--prune-sensitivity', '--calib-count', '4',
      '--input-shape', 'x=1,3,48,192', '--no-eval', '-o', files.ch30sens);
  });

  it('prints layers, channels, params and MACs before -> after, and what it left alone', () => {
    assert.match(report, /channel-pruned (\d+) layers in \d+ channel sets \(channels \d+ -> \d+; \d+ left alone\), params \d+ -> \d+, MACs \d+ -> \d+/);
    assert.match(report, /pruned .+: \d+ -> \d+ channels/);
    assert.match(report, /pruned .+: \d+ -> \d+ channels \(residual group of \d+ layers\)/);
    assert.match(report, /bias compensation: channel means over 8 calibration inputs folded into [1-9]\d* consumers/);
    assert.match(sensReport, /sensitivity \(output SNR with each set pruned alone at 0.3 -> its fraction\): .*-> 0\.00;/);
    assert.match(report, /latency \(native, 1 thread, CPU time, median of 1\): [0-9.]+ ms -> [0-9.]+ ms/);
  });

  it('stores the report; the file, params and MACs are smaller', () => {
    const p = stored(files.ch30);
    assert.equal(p.mode, 'chprune30');
    // Before residual groups were followed: 17 layers, 127 K -> 87 K parameters.
    assert.ok(p.channel_pruned_layers >= 20, JSON.stringify(p));
    assert.ok(p.channel_sets < p.channel_pruned_layers);
    assert.ok(p.params_after < 0.65 * p.params_before, `${p.params_after} of ${p.params_before}`);
    assert.equal(p.calibration_samples, 8);
    assert.ok(p.bias_compensated_consumers > 0);
    assert.ok(stored(files.ch30sens).prune_sensitivity.length >= 10);
    assert.ok(p.channels_after < p.channels_before);
    assert.ok(p.params_after < p.params_before);
    assert.ok(p.macs_after < p.macs_before);
    assert.ok(fs.statSync(files.ch30).size < fs.statSync(full).size);
    assert.equal(stored(files.ch30fp16).mode, 'chprune30+fp16');
    assert.ok(fs.statSync(files.ch30fp16).size < fs.statSync(files.ch30).size * 0.7);
  });

  it('runs natively and in WASM, both builds agreeing', async () => {
    const input = image([1, 3, 48, 192]);
    for (const [name, file] of Object.entries(files)) {
      const native = runNative(file, input, name);
      const wasm = await runWasm(file, input);
      assert.deepEqual(Array.from(wasm.dims, Number), [1, 2]);
      assert.deepEqual(Array.from(native.dims, Number), [1, 2]);
      let worst = 0;
      for (let i = 0; i < wasm.data.length; i++) worst = Math.max(worst, Math.abs(wasm.data[i] - native.data[i]));
      assert.ok(worst <= 1e-4, `${name}: native vs WASM max abs diff ${worst}`);
    }
  });

  it('refuses bad --prune-channels / --prune-sensitivity use and names the problem', () => {
    for (const bad of ['1.5', '0', 'half'])
      assert.throws(() => cli('compress', full, '--prune-channels', bad, '--no-eval', '-o', path.join(TMP, 'bad.kiln')),
        (e) => /--prune-channels/.test(e.stderr), bad);
    assert.throws(() => cli('compress', full, '--fp16', '--prune-sensitivity', '-o', path.join(TMP, 'bad.kiln')),
      (e) => /--prune-sensitivity goes with --prune-channels/.test(e.stderr));
    assert.throws(() => cli('compress', full, '--prune-channels', '0.3', '--prune-sensitivity', '--calib-count', '0',
      '--no-eval', '-o', path.join(TMP, 'bad.kiln')), (e) => /needs calibration inputs/.test(e.stderr));
  });
});
