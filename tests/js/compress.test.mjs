// `kiln compress --fp16` end to end on the real recognizer: the file roughly halves, the
// report is printed and stored in the file (kiln inspect shows it), and the compressed
// model still reads the text line, natively and in WASM, with both builds agreeing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Session, Tensor } from 'kiln';
import { ensureModels } from '../../scripts/fetch-models.mjs';
import { decodePNG, preprocessRecognizer, parseKeys, ctcGreedyDecode } from '../../web/ocr.js';
import { writeNpy, readNpy } from './npy.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = process.env.KILN_CLI ? path.resolve(process.env.KILN_CLI) : path.join(ROOT, 'build/native/tools/kiln');
const models = ensureModels({ quiet: true });
const keys = parseKeys(fs.readFileSync(models.recognizerKeys, 'utf8'));
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-compress-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const cli = (...args) => execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
const decode = (t) => ctcGreedyDecode(t.data, Array.from(t.dims, Number), keys).text;

describe('kiln compress --fp16 (recognizer)', () => {
  const full = path.join(TMP, 'rec.kiln'), half = path.join(TMP, 'rec.fp16.kiln');
  let report, input;

  before(async () => {
    cli('convert', models.recognizer, '-o', full);
    report = cli('compress', full, '--fp16', '--input-shape', 'x=1,3,48,320', '--eval-runs', '2', '--latency-runs', '1');
    const x = preprocessRecognizer(await decodePNG(fs.readFileSync(path.join(ROOT, 'tests/data/textline.png'))));
    input = { type: 'float32', data: x.data, dims: x.dims };
  });

  it('halves the file and reports size, error and latency', () => {
    const ratio = fs.statSync(full).size / fs.statSync(half).size;
    assert.ok(ratio > 1.9 && ratio < 2.05, `size ratio ${ratio}`);
    assert.match(report, /tensors converted/);
    assert.match(report, /weights by dtype:.*float32.*->.*float16/);
    assert.match(report, /output '.+': max \|err\| [0-9.e+-]+, mean \|err\| [0-9.e+-]+, SNR [0-9.]+ dB/);
    assert.match(report, /latency \(native, 1 thread, CPU time, median of 1\): [0-9.]+ ms -> [0-9.]+ ms/);
    assert.match(report, new RegExp(`written to ${half.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('stores the report in the file, shown by kiln inspect', () => {
    const info = JSON.parse(cli('inspect', half, '--json'));
    const stored = JSON.parse(info.metadata['kiln.compression']);
    assert.equal(stored.mode, 'fp16');
    assert.ok(stored.tensors_converted > 10);
    assert.ok(stored.weights_after.float16 > 0);
    assert.ok(stored.outputs[0].snr_db > 30, `SNR ${stored.outputs[0].snr_db}`);
    assert.ok(stored.latency_ms_before > 0 && stored.latency_ms_after > 0);
    assert.deepEqual([stored.latency_clock, stored.latency_threads, stored.latency_runs], ['thread_cpu', 1, 1]);
  });

  it('still reads the text line natively and in WASM, and both builds agree', async () => {
    const inFile = path.join(TMP, 'x.npy'), outDir = path.join(TMP, 'out');
    writeNpy(inFile, input);
    cli('run', half, '--input', `x=${inFile}`, '--output-dir', outDir);
    const [outFile] = fs.readdirSync(outDir);
    const native = readNpy(path.join(outDir, outFile));
    assert.equal(decode(native), 'kiln runs models in the browser');
    const session = await Session.create(fs.readFileSync(half));
    try {
      const out = Object.values(await session.run({ x: new Tensor('float32', input.data, input.dims) }))[0];
      assert.equal(decode(out), 'kiln runs models in the browser');
      let worst = 0;
      for (let i = 0; i < out.data.length; i++) worst = Math.max(worst, Math.abs(out.data[i] - native.data[i]));
      assert.ok(worst <= 1e-4, `native vs WASM max abs diff ${worst}`);
    } finally {
      session.release();
    }
  });

  it('refuses a missing mode and names it', () => {
    assert.throws(() => cli('compress', full), (e) => /choose a compression mode: --fp16/.test(e.stderr));
  });
});
