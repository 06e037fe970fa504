// `npm run bench` (bench/peers.mjs) end to end in --quick mode on the smallest real model:
// the table's structure, that every engine produced a number or an explicit n/a, that the
// outputs agreed, and the size and machine sections. No timing is asserted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { ROOT, requireBuilt } from './helpers.mjs';
import { COMPARISONS, compare, median, p90 } from '../../bench/peers/report.mjs';
import { engineSlots } from '../../bench/peers/engines.mjs';

const run = promisify(execFile);
const SCRIPT = path.join(ROOT, 'bench/peers.mjs');
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-'));
after(() => fs.rmSync(OUT, { recursive: true, force: true }));

const NUMBER_CELL = /^\d+(\.\d+)? \((\d+(\.\d+)?|–)\)$/;
const RATIO_CELL = /^\d+\.\d\d×( \(1t\))? [✓✗]$/;
const cells = (line) => line.split('|').slice(1, -1).map((c) => c.trim());

describe('bench/peers.mjs --quick on Silero VAD', () => {
  let stdout, md, json;
  before(async () => {
    requireBuilt();
    ({ stdout } = await run(process.execPath, [SCRIPT, '--quick', '--models', 'silero', '--out', OUT],
                            { cwd: ROOT, timeout: 600e3, maxBuffer: 1 << 24 }));
    md = fs.readFileSync(path.join(OUT, 'peers.md'), 'utf8');
    json = JSON.parse(fs.readFileSync(path.join(OUT, 'peers.json'), 'utf8'));
  });

  it('prints what it writes to peers.md', () => {
    assert.equal(stdout.trim(), md.trim());
  });

  it('has one row per model with a number or an explicit n/a for every engine', () => {
    const lines = md.split('\n');
    const h = lines.findIndex((l) => l.startsWith('| model | input |'));
    assert.ok(h >= 0, 'no results table');
    const head = cells(lines[h]);
    const slots = engineSlots();
    assert.deepEqual(head.slice(2, 2 + slots.length), slots.map((s) => s.label));
    assert.equal(head.length, 2 + slots.length + COMPARISONS.length + 1);
    assert.equal(head.at(-1), 'outputs agree');
    const end = lines.findIndex((l, i) => i > h && !l.startsWith('|'));
    const rows = lines.slice(h + 2, end);
    assert.equal(rows.length, 1);
    const row = cells(rows[0]);
    assert.equal(row.length, head.length);
    assert.equal(row[0], 'Silero VAD op18 ifless');
    slots.forEach((s, i) => {
      const c = row[2 + i];
      if (s.missing) assert.match(c, /^n\/a \(.+\)$/, `${s.label}: ${c}`);
      else assert.match(c, NUMBER_CELL, `${s.label}: ${c}`);
    });
    // Single-threaded comparisons always have both sides; the others may be n/a only with a missing engine.
    COMPARISONS.forEach((c, i) => {
      const v = row[2 + slots.length + i];
      if (v !== 'n/a') assert.match(v, RATIO_CELL, `${c.title}: ${v}`);
      else assert.ok(slots.some((s) => s.missing && (s.id === c.kiln || s.id === c.peer)), `${c.title}: n/a without a missing engine`);
    });
    assert.match(row.at(-1), /^✓ \(\d+ engines\)$/);
  });

  it('says how each target fared, describes the machine and reports the .wasm sizes', () => {
    for (const c of COMPARISONS) assert.ok(md.includes(`- ${c.title} (`), `no summary line for ${c.title}`);
    assert.match(md, /^Machine: .+, \d+ cores, .*Node v\d+.*onnxruntime-web \d+\.\d+\.\d+, onnxruntime-node \d+\.\d+\.\d+; kiln /m);
    assert.match(md, /### Fastest run \(ms\) and ratios on it\n\n\| model \|.*\n\|---\|.*\n\| silero \| \d/);
    for (const f of ['kiln.wasm', 'kiln.js', 'ort-wasm-simd-threaded.wasm'])
      assert.match(md, new RegExp(`\\| ${f.replace(/\./g, '\\.')} \\| \\d+ KiB \\| \\d+ KiB \\|`), f);
  });

  it('writes the same results as JSON, with every sample of every engine', () => {
    const [model] = json.models;
    assert.equal(model.key, 'silero');
    for (const e of json.engines) {
      const r = model.results[e.id];
      if (e.missing) assert.equal(r.missing, e.missing);
      else {
        assert.ok(r.samples.length >= 1 && r.samples.every((t) => t > 0), `${e.id}: samples ${r.samples}`);
        assert.equal(r.median, median(r.samples));
        assert.ok(r.min > 0 && r.min <= r.median, `${e.id}: min ${r.min}, median ${r.median}`);
      }
    }
  });

  it('rejects an unknown model by name', async () => {
    await assert.rejects(run(process.execPath, [SCRIPT, '--models', 'nope', '--out', OUT], { cwd: ROOT }),
                         (e) => /unknown model\(s\) nope/.test(e.stderr));
  });
});

describe('bench engine detection', () => {
  // engines.mjs reads KILN_CLI when imported, so each case runs in a fresh process.
  const detect = (cli) => run(process.execPath, ['--input-type=module', '-e',
    "import { cliHasThreads } from './bench/peers/engines.mjs'; console.log(cliHasThreads());"],
    { cwd: ROOT, env: { ...process.env, KILN_CLI: cli } }).then(({ stdout }) => stdout.trim());

  it('uses --threads only when `kiln run --help` lists it', async () => {
    const fake = path.join(OUT, 'fake-kiln.sh');
    fs.writeFileSync(fake, '#!/bin/sh\necho "  --repeat INT   Run N times"\necho "  --threads INT  Worker threads"\n', { mode: 0o755 });
    assert.equal(await detect(fake), 'true');
    fs.writeFileSync(fake, '#!/bin/sh\necho "  --repeat INT   Run N times"\necho "  --threadsafe   not the flag"\n', { mode: 0o755 });
    assert.equal(await detect(fake), 'false');
  });
});

describe('bench statistics', () => {
  it('median and nearest-rank p90', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 9);
    assert.equal(p90([5, 1, 9]), 9);
  });

  it('falls back to the single-threaded kiln engine, and says so', () => {
    const c = COMPARISONS.find((x) => x.fallback);
    const results = { [c.kiln]: { missing: 'n/a' }, [c.fallback]: { median: 9 }, [c.peer]: { median: 10 } };
    assert.deepEqual(compare(results, c), { ratio: 0.9, met: true, note: ' (1t)' });
    assert.deepEqual(compare({ ...results, [c.fallback]: { error: 'x' } }, c), { na: true });
    assert.equal(compare({ ...results, [c.kiln]: { median: 12 } }, c).met, false);
  });
});
