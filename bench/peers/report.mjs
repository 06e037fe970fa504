// Statistics, the machine description, .wasm sizes and the markdown tables of `npm run bench`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { ROOT } from '../../tests/js/helpers.mjs';
import { threadedKilnBuild } from './engines.mjs';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Nearest-rank 90th percentile.
export function p90(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)];
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The comparisons the issue sets targets for: kiln engine / peer engine ≤ target. */
export const COMPARISONS = [
  { title: 'WASM 1 thread', kiln: 'kiln-wasm-1', peer: 'ort-web-1', target: 0.9 },
  { title: 'WASM 2 threads', kiln: 'kiln-wasm-2', fallback: 'kiln-wasm-1', peer: 'ort-web-2', target: 0.9 },
  { title: 'native 1 thread', kiln: 'kiln-native-1', peer: 'ort-node-1', target: 1.1 },
  { title: 'native, peer default threads', kiln: 'kiln-native-2', fallback: 'kiln-native-1', peer: 'ort-node-default', target: 1.1 },
];

/**
 * One comparison for one model's results ({engineId: {median, min} | {missing} | {error}}),
 * on the median or another statistic: { ratio, met, note } or { na } when a side has no number.
 */
export function compare(results, c, stat = 'median') {
  let kiln = results[c.kiln];
  let note = '';
  if (kiln?.[stat] === undefined && c.fallback && results[c.fallback]?.[stat] !== undefined) {
    kiln = results[c.fallback];
    note = ` (${c.fallback.endsWith('-1') ? '1t' : c.fallback})`;
  }
  const peer = results[c.peer];
  if (kiln?.[stat] === undefined || peer?.[stat] === undefined) return { na: true };
  const ratio = kiln[stat] / peer[stat];
  return { ratio, met: ratio <= c.target, note };
}

function cell(r) {
  if (!r) return 'n/a';
  if (r.missing) return r.missing;
  if (r.error) return `error: ${r.error.split('\n')[0].slice(0, 60)}`;
  return `${fmt(r.median)} (${r.p90 === undefined ? '–' : fmt(r.p90)})`;
}

function ratioCell(cmp) {
  return cmp.na ? 'n/a' : `${cmp.ratio.toFixed(2)}×${cmp.note} ${cmp.met ? '✓' : '✗'}`;
}

/** The results table: one row per model, median (p90) ms per engine, then the four ratios. */
export function resultsTable(rows, slots) {
  const head = ['model', 'input', ...slots.map((s) => s.label),
                ...COMPARISONS.map((c) => `${c.kiln.replace(/-\d$/, '')} / ${c.peer} (≤ ${c.target})`), 'outputs agree'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) {
    const cells = [row.label, row.input, ...slots.map((s) => cell(row.results[s.id])),
                   ...COMPARISONS.map((c) => ratioCell(compare(row.results, c))), row.agreement];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * The fastest run of each engine and the ratios on those: on a loaded machine a run is
 * often preempted, which costs long runs more than short ones; the fastest run is the
 * closest this run gets to the engines' unloaded speed.
 */
export function fastestTable(rows, slots) {
  const live = slots.filter((s) => !s.missing);
  const head = ['model', ...live.map((s) => s.label), ...COMPARISONS.map((c) => `${c.kiln.replace(/-\d$/, '')} / ${c.peer}`)];
  const lines = [`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`];
  for (const row of rows) {
    const mins = live.map((s) => (row.results[s.id]?.min === undefined ? 'n/a' : fmt(row.results[s.id].min)));
    const ratios = COMPARISONS.map((c) => ratioCell(compare(row.results, c, 'min')));
    lines.push(`| ${[row.key, ...mins, ...ratios].join(' | ')} |`);
  }
  return lines.join('\n');
}

function gzipSize(file) {
  return zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
}

/** Raw and gzipped sizes of the files each WASM runtime loads in Node. */
export function wasmSizes() {
  const kilnFiles = ['web/dist/kiln.wasm', 'web/dist/kiln.js'];
  const threaded = threadedKilnBuild();
  if (threaded) kilnFiles.push(`web/dist/${threaded.wasm}`, `web/dist/${threaded.js}`);
  // What `import 'onnxruntime-web'` loads under Node: its node entry, the Emscripten glue and the .wasm.
  const ortDir = 'node_modules/onnxruntime-web/dist';
  const ortFiles = [`${ortDir}/ort-wasm-simd-threaded.wasm`, `${ortDir}/ort-wasm-simd-threaded.mjs`, `${ortDir}/ort.node.min.mjs`];
  const rows = [];
  for (const [who, files] of [['kiln', kilnFiles], ['onnxruntime-web', ortFiles]]) {
    for (const f of files) {
      const abs = path.join(ROOT, f);
      if (fs.existsSync(abs)) rows.push({ who, file: f, raw: fs.statSync(abs).size, gzip: gzipSize(abs) });
    }
  }
  return rows;
}

export function sizesTable(rows) {
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  const lines = ['| runtime | file | raw | gzip -9 |', '|---|---|---:|---:|'];
  for (const who of ['kiln', 'onnxruntime-web']) {
    const mine = rows.filter((r) => r.who === who);
    for (const r of mine) lines.push(`| ${who} | ${path.basename(r.file)} | ${kib(r.raw)} | ${kib(r.gzip)} |`);
    const sum = (k) => mine.reduce((a, r) => a + r[k], 0);
    lines.push(`| ${who} | **total** | ${kib(sum('raw'))} | ${kib(sum('gzip'))} |`);
  }
  return lines.join('\n');
}

const version = (pkg) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
};

/** CPU, cores, memory, load, Node and peer versions, kiln's commit. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() named it.
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // Not a git checkout.
  }
  return {
    cpu, cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`,
    node: process.version, onnxruntimeWeb: version('onnxruntime-web'), onnxruntimeNode: version('onnxruntime-node'),
    commit, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), loadBefore: os.loadavg()[0],
  };
}

export function machineLine(m, loadAfter) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; onnxruntime-web ${m.onnxruntimeWeb}, ` +
    `onnxruntime-node ${m.onnxruntimeNode}; kiln ${m.commit}; ${m.date}; load average ${m.loadBefore.toFixed(1)} before, ` +
    `${loadAfter.toFixed(1)} after`;
}
