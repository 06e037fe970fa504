// `kiln compress --int8 --auto-precision DB` end to end on the real classifier: the layers
// whose output SNR against the float model falls below the threshold are kept float, worst
// (own rounding) first, until every int8 layer meets it; the report is printed and stored,
// a threshold the plain int8 model already meets keeps nothing, and the flag without --int8
// is an error. The classifier's int8 layers sit at 30-37 dB, so 33 dB must keep some.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ensureModels } from '../../scripts/fetch-models.mjs';
import { KILN_CLI } from './helpers.mjs';

if (!fs.existsSync(KILN_CLI)) throw new Error(`${KILN_CLI} not found: run \`npm run build:native\``);
const models = ensureModels({ quiet: true });
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-autoprec-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
const cli = (...args) => execFileSync(KILN_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
const inspect = (model) => JSON.parse(cli('inspect', model, '--json'));
const stored = (model) => JSON.parse(inspect(model).metadata['kiln.compression']);
const opCount = (model, op) => inspect(model).ops[op] ?? 0;

describe('kiln compress --int8 --auto-precision (classifier)', () => {
  const full = path.join(TMP, 'cls.kiln'), plain = path.join(TMP, 'cls.int8.kiln');
  const strict = path.join(TMP, 'cls.auto33.kiln'), loose = path.join(TMP, 'cls.auto25.kiln');
  const common = ['--eval-runs', '1', '--latency-runs', '0', '--input-shape', 'x=1,3,48,192', '--eval-count', '4'];
  let strictOut;

  before(() => {
    cli('convert', models.classifier, '-o', full);
    cli('compress', full, '--int8', '--no-eval', '-o', plain);
    strictOut = cli('compress', full, '--int8', '--auto-precision', '33', '-o', strict, ...common);
    cli('compress', full, '--int8', '--auto-precision', '25', '-o', loose, ...common);
  });

  it('keeps the layers below the threshold float and says why', () => {
    const r = stored(strict).auto_precision;
    assert.equal(r.threshold_db, 33);
    assert.ok(r.kept_float.length >= 1 && r.kept_float.length <= 32, JSON.stringify(r));
    assert.equal(r.passes, r.kept_float.length + 1);
    assert.ok(r.worst_layer_snr_db_before < 33, JSON.stringify(r));
    if (r.met) assert.ok(r.worst_layer_snr_db_after >= 33, JSON.stringify(r));
    const printed = strictOut.match(/^ {2}kept float: .*$/gm) ?? [];
    assert.equal(printed.length, r.kept_float.length, strictOut);
    for (const k of r.kept_float) {
      assert.ok(printed.some((line) => line.includes(k.node) && line.includes(k.output)), `${k.node} not printed`);
      assert.ok(Number.isFinite(k.snr_db));
    }
    assert.match(strictOut, /auto precision \(33\.0 dB per layer, 4 text lines/);
    // Each kept layer is one int8 layer fewer than plain --int8, and a bigger file.
    const p = stored(plain), s = stored(strict);
    assert.equal(s.int8_layers_converted, p.int8_layers_converted - r.kept_float.length);
    const quantized = (m) => opCount(m, 'DynamicQuantConv') + opCount(m, 'DynamicQuantMatMul');
    assert.equal(quantized(strict), quantized(plain) - r.kept_float.length);
    assert.ok(fs.statSync(strict).size > fs.statSync(plain).size);
    // And the task still agrees with float on the 4 rendered lines.
    assert.equal(s.task_eval.top1_agreement_pct, 100, JSON.stringify(s.task_eval));
  });

  it('keeps nothing when plain int8 already meets the threshold', () => {
    const r = stored(loose).auto_precision;
    assert.equal(r.met, true);
    assert.deepEqual(r.kept_float, []);
    assert.equal(r.passes, 1);
    assert.ok(r.worst_layer_snr_db_before >= 25);
    assert.equal(stored(loose).int8_layers_converted, stored(plain).int8_layers_converted);
  });

  it('with --int4 chooses int4\'s layers and gives the fragile ones to --int8', () => {
    const all4 = path.join(TMP, 'cls.int4pw.kiln'), auto4 = path.join(TMP, 'cls.int4auto.kiln');
    cli('compress', full, '--int4', '--int4-conv', 'pointwise', '--int8', '--no-eval', '-o', all4);
    const out = cli('compress', full, '--int4', '--int4-conv', 'pointwise', '--int8', '--auto-precision', '30',
      '--auto-max-layers', '3', '-o', auto4, ...common);
    assert.match(out, /auto precision \(30\.0 dB per layer.*worst int4 layer/);
    assert.match(out, /kept int8: \S+ \(output \S+ at -?[0-9.]+ dB/);
    const r = stored(auto4).auto_precision;
    assert.equal(r.mode, 'int4');
    assert.equal(r.kept_as, 'int8');
    assert.equal(r.kept_float.length, 3);  // 30 dB is out of int4's reach: the limit stops it
    assert.equal(r.met, false);
    // The kept layers left int4 (3 fewer BlockQuantMatMul) and went to int8.
    assert.equal(opCount(auto4, 'BlockQuantMatMul'), opCount(all4, 'BlockQuantMatMul') - 3);
    assert.ok(opCount(auto4, 'DynamicQuantConv') + opCount(auto4, 'DynamicQuantMatMul') >
      opCount(all4, 'DynamicQuantConv') + opCount(all4, 'DynamicQuantMatMul'));
  });

  it('rejects the flag without --int8 and a threshold out of range', () => {
    const noInt8 = spawnSync(KILN_CLI, ['compress', full, '--fp16', '--auto-precision', '25', '-o', path.join(TMP, 'x.kiln')], { encoding: 'utf8' });
    assert.notEqual(noInt8.status, 0);
    assert.match(noInt8.stderr, /--auto-precision .*add --int8/);
    const bad = spawnSync(KILN_CLI, ['compress', full, '--int8', '--auto-precision', '500', '-o', path.join(TMP, 'y.kiln')], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /SNR in dB/);
  });
});
