#!/usr/bin/env node
// `npm run bench`: kiln against its peers, in one run on the same inputs. A benchmark: it
// prints and writes a table and asserts nothing about speed (it exits non-zero only when
// it cannot run at all).
//   kiln-WASM (web/index.js in Node)   vs onnxruntime-web (WASM backend, SIMD, 1 and 2 threads)
//   kiln-native (the CLI, kiln run)    vs onnxruntime-node (intra-op threads 1, and its default)
// For every model of ../shared/models.md that kiln runs (bench/peers/models.mjs): convert
// with the CLI once (cached in build/bench/), load every engine and warm it up, then time
// the runs in rounds, one block per engine per round in rotating order, so machine noise
// hits all engines alike. Medians and p90 in ms, ratios kiln / peer against the targets
// (WASM ≤ 0.9×, native ≤ 1.1×), whether the outputs agree, the machine and the .wasm sizes
// go to stdout and to <out>/peers.md (+ peers.json).
//
//   node bench/peers.mjs [--models a,b] [--runs N] [--warmup N] [--quick] [--out DIR]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MODELS } from './peers/models.mjs';
import { engineSlots } from './peers/engines.mjs';
import { COMPARISONS, compare, fastestTable, machine, machineLine, median, p90, resultsTable, sizesTable, wasmSizes } from './peers/report.mjs';
import { KILN_CLI, ROOT, requireBuilt } from '../tests/js/helpers.mjs';

function parseArgs(argv) {
  const o = { models: null, runs: 20, warmup: 3, out: path.join(ROOT, 'build/bench') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--models') o.models = value().split(',').filter(Boolean);
    else if (a === '--runs') o.runs = Number(value());
    else if (a === '--warmup') o.warmup = Number(value());
    else if (a === '--quick') Object.assign(o, { runs: 3, warmup: 1 });
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log('usage: node bench/peers.mjs [--models a,b] [--runs N (20)] [--warmup N (3)] [--quick] [--out DIR (build/bench)]\n' +
                  `models: ${MODELS.map((m) => m.key).join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument '${a}' (try --help)`);
  }
  if (!(Number.isInteger(o.runs) && o.runs >= 1)) throw new Error('--runs must be a positive integer');
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new Error('--warmup must be a non-negative integer');
  const unknown = (o.models ?? []).filter((k) => !MODELS.some((m) => m.key === k));
  if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')} (known: ${MODELS.map((m) => m.key).join(', ')})`);
  return o;
}

const mtime = (f) => fs.statSync(f).mtimeMs;

// build/bench/<key>.kiln, converted again only when the model or the CLI is newer.
function convert(model, out) {
  const file = path.join(out, `${model.key}.kiln`);
  if (fs.existsSync(file) && mtime(file) >= Math.max(mtime(model.source), mtime(KILN_CLI))) return file;
  try {
    execFileSync(KILN_CLI, ['convert', model.source, '-o', file], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600e3 });
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw new Error(`kiln convert ${path.basename(model.source)} failed: ${e.stderr || e.message}`);
  }
  return file;
}

const sanitize = (name) => name.replace(/[^A-Za-z0-9._-]/g, '_');

// Largest |a - b| / max(1, |b|) over the outputs both have (names compared as the CLI writes them).
function disagreement(got, ref) {
  const refs = new Map(Object.entries(ref).map(([n, t]) => [sanitize(n), t]));
  let worst = 0, compared = 0;
  for (const [name, t] of Object.entries(got)) {
    const r = refs.get(sanitize(name));
    if (!r) continue;
    compared++;
    if (r.data.length !== t.data.length) return { worst: Infinity, compared, name };
    for (let i = 0; i < r.data.length; i++) {
      const e = Math.abs(t.data[i] - r.data[i]) / Math.max(1, Math.abs(r.data[i]));
      if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
    }
  }
  return { worst, compared };
}

// Every engine's outputs against the reference: onnxruntime-node (1 thread) for engines
// running the same file, kiln-WASM 1t for kiln engines running a TFLite model the peers
// only have an ONNX twin of. Tolerance 1e-3 relative (threads and kernels reorder sums).
function agreement(model, outputs) {
  const bad = [];
  let checked = 0;
  for (const [id, out] of Object.entries(outputs)) {
    const kiln = id.startsWith('kiln');
    const refId = kiln && model.peer !== model.key ? 'kiln-wasm-1' : 'ort-node-1';
    if (id === refId || !outputs[refId]) continue;
    const { worst, compared } = disagreement(out, outputs[refId]);
    if (compared === 0) bad.push(`${id}: no output in common with ${refId}`);
    else if (worst > 1e-3) bad.push(`${id} vs ${refId}: max rel err ${worst.toExponential(1)}`);
    else checked++;
  }
  return bad.length ? `✗ ${bad.join('; ')}` : `✓ (${checked} engines)`;
}

async function benchModel(model, slots, opts) {
  const dir = path.join(opts.out, 'inputs', model.key);
  fs.mkdirSync(dir, { recursive: true });
  const kilnFile = convert(model, opts.out);
  const feeds = await model.feeds();
  const ctx = { kilnFile, feeds, peerFeeds: model.peerFeeds(feeds), warmup: opts.warmup, dir };

  const results = {}, live = [], outputs = {};
  for (const slot of slots) {
    if (slot.missing) { results[slot.id] = { missing: slot.missing }; continue; }
    const engine = slot.make();
    try {
      const opened = await engine.open(model, ctx);
      outputs[slot.id] = opened.outputs;
      results[slot.id] = { samples: [], info: opened.info };
      live.push({ slot, engine });
    } catch (e) {
      results[slot.id] = { error: e.message };
      await engine.close().catch(() => {});
    }
  }
  // Rounds of blocks, rotating who goes first; at most 5 rounds so blocks stay long
  // enough for the CLI (whose samples are per-block medians).
  const rounds = Math.min(opts.runs, 5);
  const block = Math.ceil(opts.runs / rounds);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < live.length; k++) {
      const { slot, engine } = live[(k + r) % live.length];
      const res = results[slot.id];
      if (res.error) continue;
      try {
        const { samples, min } = await engine.time(block);
        res.samples.push(...samples);
        res.min = Math.min(res.min ?? Infinity, min);
      } catch (e) {
        Object.assign(res, { error: e.message });
      }
    }
  }
  for (const { slot, engine } of live) {
    await engine.close().catch(() => {});
    const res = results[slot.id];
    if (res.error) continue;
    res.median = median(res.samples);
    // The CLI's samples are block medians, too few and too smoothed for a p90.
    if (!slot.id.startsWith('kiln-native')) res.p90 = p90(res.samples);
  }
  return { key: model.key, label: model.label, input: model.input, results, agreement: agreement(model, outputs) };
}

function summary(rows) {
  const lines = [];
  for (const c of COMPARISONS) {
    const missed = [], met = [], na = [];
    for (const row of rows) {
      const cmp = compare(row.results, c);
      (cmp.na ? na : cmp.met ? met : missed).push(cmp.na ? row.key : `${row.key} ${cmp.ratio.toFixed(2)}×${cmp.note}`);
    }
    lines.push(`- ${c.title} (${c.kiln} / ${c.peer} ≤ ${c.target}×): met ${met.length ? met.join(', ') : 'by none'}; ` +
               `missed ${missed.length ? missed.join(', ') : 'by none'}${na.length ? `; no number for ${na.join(', ')}` : ''}`);
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  requireBuilt();
  fs.mkdirSync(opts.out, { recursive: true });
  const models = MODELS.filter((m) => !opts.models || opts.models.includes(m.key));
  for (const m of models)
    for (const f of [m.source, m.peerSource])
      if (!fs.existsSync(f)) throw new Error(`${path.relative(ROOT, f)} is missing: run \`npm run fetch-models\``);

  const slots = engineSlots();
  const mach = machine();
  const rows = [];
  for (const model of models) {
    process.stderr.write(`bench: ${model.key}…\n`);
    rows.push(await benchModel(model, slots, opts));
  }
  const sizes = wasmSizes();
  const loadAfter = os.loadavg()[0];
  const md = [
    `### kiln vs onnxruntime: median (p90) ms per run, ${opts.runs} runs per engine after ${opts.warmup} warm-up runs`,
    '',
    `Machine: ${machineLine(mach, loadAfter)}.`,
    '',
    resultsTable(rows, slots),
    '',
    summary(rows),
    '',
    'kiln-native cells are the median of the CLI\'s per-block medians (`kiln run --repeat`), so they have no p90. ' +
      'A ratio marked (1t) compares kiln\'s single-threaded engine with the 2-thread peer because kiln has no threaded one here.',
    '',
    '### Fastest run (ms) and ratios on it',
    '',
    fastestTable(rows, slots),
    '',
    '### .wasm sizes (files each runtime loads in Node)',
    '',
    sizesTable(sizes),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(opts.out, 'peers.md'), md);
  const json = { options: opts, machine: { ...mach, loadAfter }, engines: slots.map(({ id, label, missing }) => ({ id, label, missing })),
                 comparisons: COMPARISONS, models: rows, sizes };
  fs.writeFileSync(path.join(opts.out, 'peers.json'), JSON.stringify(json, null, 1));
  console.log(md);
}

main().then(() => process.exit(0), (e) => {
  console.error(`bench: error: ${e.message}`);
  process.exit(1);
});
