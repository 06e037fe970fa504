// `kiln compress --int8-static DIR` end to end on the PP-OCR classifier: a calibration set
// written by `kiln eval --write-inputs`, the report (calibration method, tensors calibrated,
// layers quantized, fuse_qdq's int8 ops), the stored graph (kiln.QLinearNhwcConv /
// kiln.QLinearMatMul, int8 weights), and the int8 model agreeing with float natively
// (kiln run) and in WASM (the kiln package) on inputs the calibration did not see.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { KILN_CLI, requireBuilt } from './helpers.mjs';
import { readNpy } from './npy.mjs';

requireBuilt();
const models = ensureModels({ quiet: true });
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-int8static-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
const cli = (...args) => execFileSync(KILN_CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300e3 });

function runNative(model, file, tag) {
  const outDir = path.join(TMP, `${tag}-out`);
  cli('run', model, '--input', `x=${file}`, '--output-dir', outDir);
  const [f] = fs.readdirSync(outDir);
  return readNpy(path.join(outDir, f)).data;
}

const argmax = (a) => (a[0] >= a[1] ? 0 : 1);

describe('kiln compress --int8-static (classifier)', () => {
  const full = path.join(TMP, 'cls.kiln'), int8 = path.join(TMP, 'cls.int8static.kiln');
  const calib = path.join(TMP, 'calib'), test = path.join(TMP, 'test');
  let report;

  before(() => {
    cli('convert', models.classifier, '-o', full);
    cli('eval', full, '--count', '16', '--seed', '7', '--write-inputs', calib);
    cli('eval', full, '--count', '8', '--seed', '3', '--write-inputs', test);  // unseen by calibration
    report = cli('compress', full, '--int8-static', calib, '--calibration', 'minmax', '-o', int8,
                 '--eval-runs', '1', '--latency-runs', '0', '--input-shape', 'x=1,3,48,192');
  });

  it('reports the calibration and the int8 layers, and stores an int8 graph', () => {
    const m = report.match(/static int8 \(calibration minmax on 16 samples, (\d+) tensors calibrated\): (\d+) Conv\/MatMul\/Gemm layers quantized \((\d+) left float\), (\d+) activation tensors int8/);
    assert.ok(m, report);
    assert.ok(Number(m[1]) >= 80, `${m[1]} tensors calibrated`);
    assert.equal(Number(m[2]), 54, report);  // 53 convolutions and the MatMul
    assert.equal(Number(m[3]), 0, report);
    const fused = report.match(/QLinearNhwcConv ×(\d+), QLinearNhwcConv \(depthwise\) ×(\d+)/);
    assert.ok(fused, report);
    assert.equal(Number(fused[1]) + Number(fused[2]), 53, report);
    assert.match(report, /QLinearMatMul ×1/);
    assert.match(report, /int8 NhwcMaxPool ×1/);
    const info = JSON.parse(cli('inspect', int8, '--json'));
    assert.equal(info.ops['kiln.QLinearNhwcConv'] ?? info.ops.QLinearNhwcConv, 53, JSON.stringify(info.ops));
    assert.equal(info.ops.NhwcConv ?? info.ops['kiln.NhwcConv'], undefined, JSON.stringify(info.ops));
    assert.ok(info.bytes_by_dtype.int8 > 100e3, JSON.stringify(info.bytes_by_dtype));
    const stored = JSON.parse(info.metadata['kiln.compression']);
    assert.equal(stored.mode, 'int8-static');
    assert.equal(stored.int8_static_calibration, 'minmax');
    assert.equal(stored.int8_static_samples, 16);
    assert.equal(stored.int8_static_nodes_quantized, 54);
    assert.ok(fs.statSync(int8).size < 0.5 * fs.statSync(full).size, 'at least 2x smaller');
  });

  it('fails with a message on a bad calibration set or conflicting flags', () => {
    const fails = (args, re) => {
      try {
        cli('compress', full, ...args, '-o', path.join(TMP, 'bad.kiln'), '--no-eval');
      } catch (e) {
        assert.match(e.stderr, re);
        return;
      }
      assert.fail(`kiln compress ${args.join(' ')} succeeded`);
    };
    const empty = path.join(TMP, 'empty');
    fs.mkdirSync(empty);
    fails(['--int8-static', empty], /calibration set .*empty holds no \.npy or \.png file/);
    fails(['--int8-static', path.join(TMP, 'missing')], /is not a directory/);
    fails(['--int8-static', calib, '--int8'], /--int8 and --int8-static both quantize/);
    fails(['--int8-static', calib, '--exclude', '*'], /no convolution, MatMul or Gemm could be quantized/);
  });

  it('agrees with float natively and in WASM on unseen inputs', async () => {
    const files = fs.readdirSync(test).sort().map((f) => path.join(test, f));
    const session = await Session.create(fs.readFileSync(int8), { numThreads: 1 });
    let agreeNative = 0, agreeWasm = 0, worst = 0, worstWasmNative = 0;
    try {
      for (const [i, f] of files.entries()) {
        const ref = runNative(full, f, `f32-${i}`);
        const nat = runNative(int8, f, `int8-${i}`);
        const x = readNpy(f);
        const out = await session.run({ x: new Tensor('float32', x.data, x.dims) });
        const wasm = Object.values(out)[0].data;
        agreeNative += argmax(nat) === argmax(ref);
        agreeWasm += argmax(wasm) === argmax(ref);
        for (let k = 0; k < 2; ++k) {
          worst = Math.max(worst, Math.abs(nat[k] - ref[k]), Math.abs(wasm[k] - ref[k]));
          worstWasmNative = Math.max(worstWasmNative, Math.abs(nat[k] - wasm[k]));
        }
      }
    } finally {
      session.release();
    }
    // 256 inputs: 99.2% top-1 agreement (README); on these 8 every answer agrees.
    assert.equal(agreeNative, files.length, `native top-1 agreement ${agreeNative}/${files.length}`);
    assert.equal(agreeWasm, files.length, `wasm top-1 agreement ${agreeWasm}/${files.length}`);
    assert.ok(worst < 0.3, `softmax moved by up to ${worst}`);
    assert.ok(worst > 0, 'bit-identical to float: nothing was quantized');
    // The same integer kernels: native and WASM agree closely (requantization rounding only).
    assert.ok(worstWasmNative < 0.05, `wasm vs native: ${worstWasmNative}`);
  });
});
