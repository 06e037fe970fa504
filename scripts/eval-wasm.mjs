#!/usr/bin/env node
// The WebAssembly half of `kiln eval`'s latency: times an original and a compressed .kiln
// in kiln's WASM build (web/dist, single-threaded SIMD, as a page without cross-origin
// isolation runs it), runs interleaved so a noisy machine slows both alike, after warm-up
// runs (V8 tiers WASM code up only across calls; see /work/shared/toolchain.md).
//
//   node scripts/eval-wasm.mjs original.kiln compressed.kiln [--runs N] [--warmup N]
//        [--input-shape name=d,d,...] [--threads N] [--json]
//
// Open input dims default as kiln eval's do: an image input [N,3,H,W] gets 48x320 for a
// recognizer ([N,T,C] output), 48x192 for a classifier ([N,K]), 320x320 otherwise; other
// open dims are 1. Input values are a fixed ramp (latency does not depend on them).
import fs from 'node:fs';
import { Session, Tensor } from 'kiln';

function usage(msg) {
  if (msg) console.error(`eval-wasm: ${msg}`);
  console.error('usage: node scripts/eval-wasm.mjs original.kiln compressed.kiln [--runs N] [--warmup N] ' +
                '[--input-shape name=d,d,...] [--threads N] [--json]');
  process.exit(msg ? 1 : 0);
}

const args = process.argv.slice(2);
const files = [];
const shapes = {};
let runs = 10, warmup = 3, threads = 1, json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => { if (i + 1 >= args.length) usage(`${a} needs a value`); return args[++i]; };
  const int = (v, lo) => { const n = Number(v); if (!Number.isInteger(n) || n < lo) usage(`${a} ${v}: expected an integer >= ${lo}`); return n; };
  if (a === '--help' || a === '-h') usage();
  else if (a === '--runs') runs = int(next(), 1);
  else if (a === '--warmup') warmup = int(next(), 0);
  else if (a === '--threads') threads = int(next(), 0);
  else if (a === '--json') json = true;
  else if (a === '--input-shape') {
    const m = /^([^=]+)=(\d+(?:,\d+)*)$/.exec(next());
    if (!m) usage(`--input-shape ${args[i]}: expected name=d,d,...`);
    shapes[m[1]] = m[2].split(',').map(Number);
  } else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else files.push(a);
}
if (files.length !== 2) usage('give the original and the compressed .kiln file');

function defaultDims(info, outputs) {
  if (shapes[info.name]) return shapes[info.name];
  const d = info.dims.map((v) => (typeof v === 'number' && v >= 0 ? v : -1));
  if (d.length === 4 && d[1] === 3) {
    const outRank = outputs[0]?.dims.length;
    const [h, w] = outRank === 3 ? [48, 320] : outRank === 2 ? [48, 192] : [320, 320];
    if (d[2] < 0) d[2] = h;
    if (d[3] < 0) d[3] = w;
  }
  return d.map((v) => (v < 0 ? 1 : v));
}

function makeFeeds(session) {
  const feeds = {};
  for (const info of session.inputs) {
    const dims = defaultDims(info, session.outputs);
    const n = dims.reduce((p, v) => p * v, 1);
    if (info.type !== 'float32') throw new Error(`input '${info.name}' is ${info.type}; this script feeds float32 inputs only`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i % 251) / 250;
    feeds[info.name] = new Tensor('float32', data, dims);
  }
  return feeds;
}

const median = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];

const sessions = [];
try {
  for (const f of files) sessions.push(await Session.create(fs.readFileSync(f), { numThreads: threads }));
  const feeds = makeFeeds(sessions[0]);
  for (let i = 0; i < warmup; i++) for (const s of sessions) await s.run(feeds);
  // Wall clock and the process's CPU time (user + system): on a loaded machine the wall
  // clock carries the scheduler's share, the CPU time of a single-threaded run does not.
  const wall = sessions.map(() => []), cpu = sessions.map(() => []);
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];  // swapped each round, so noise hits both alike
    for (const k of order) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      await sessions[k].run(feeds);
      const c = process.cpuUsage(c0);
      wall[k].push(performance.now() - t0);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
  const [a, b] = wall.map(median), [ca, cb] = cpu.map(median);
  const build = sessions[0].backendInfo.build, n = sessions[0].backendInfo.numThreads;
  if (json) {
    console.log(JSON.stringify({ original: files[0], compressed: files[1], build, threads: n, runs, warmup,
                                 latency_ms: { original: a, compressed: b },
                                 cpu_ms: { original: ca, compressed: cb } }, null, 2));
  } else {
    console.log(`${files[0]} vs ${files[1]}`);
    console.log(`latency (WASM ${build}, ${n} thread(s), median of ${runs} after ${warmup} warm-up): ` +
                `wall ${a.toFixed(2)} ms -> ${b.toFixed(2)} ms, CPU ${ca.toFixed(2)} ms -> ${cb.toFixed(2)} ms`);
  }
} catch (e) {
  console.error(`eval-wasm: ${e.message}`);
  process.exitCode = 1;
} finally {
  for (const s of sessions) s.release();
}
