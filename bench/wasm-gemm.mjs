// WASM kernel benchmark: measures this machine's WASM SIMD128 f32 peak with chains of
// dependent mul+add (bench/wasm/kernel-bench-wasm.cc), then every f32 GEMM microkernel
// of the WASM build on the same shapes as bench/f32-gemm-bench.cc, and prints GFLOP/s and
// the fraction of peak. Needs the WASM build (target kiln_kernel_bench_wasm).
// Usage: node bench/wasm-gemm.mjs [--kernels=name,...] [--shapes=MxNxK,...] [--seconds=0.3] [--module=path.js]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")));
const modPath = path.resolve(args.module ?? `${root}build/wasm/bench/wasm/kiln_kernel_bench.js`);
const seconds = Number(args.seconds ?? 0.3);
const shapes = (args.shapes ?? '256x256x256,512x512x512,40x120x120,40x360x120,40x240x120,40x120x240,160x480x120,80x6625x120,160x256x480')
  .split(',').map((s) => s.split('x').map(Number));

const require = createRequire(import.meta.url);
const createKernelBench = require(modPath);
const mod = await createKernelBench({ wasmBinary: readFileSync(modPath.replace(/\.js$/, '.wasm')) });

// Repeats fn(reps) until `seconds` elapse (after warm-up calls that let V8 tier the code
// up) and returns the best calls-per-second over a few timed rounds.
function rate(fn, reps) {
  for (let i = 0; i < 5; ++i) fn(reps);  // warm-up: baseline tier -> optimized tier
  let best = 0;
  for (let round = 0; round < 5; ++round) {
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < (seconds * 1000) / 5) { fn(reps); calls += reps; t = performance.now(); }
    best = Math.max(best, calls / ((t - t0) / 1000));
  }
  return best;
}

let peak = 0;
const peakIters = 100000;
for (const chains of [4, 8, 12, 16]) {
  const flops = peakIters * chains * 4 * 2;
  const g = (rate((reps) => { for (let r = 0; r < reps; ++r) mod._kiln_bench_peak(chains, peakIters, 1 + r); }, 10) * flops) / 1e9;
  console.log(`peak mul+add, ${String(chains).padStart(2)} chains: ${g.toFixed(1)} GFLOP/s`);
  peak = Math.max(peak, g);
}
console.log(`WASM SIMD128 f32 peak: ${peak.toFixed(1)} GFLOP/s\n`);

const names = [];
for (let i = 0; i < mod._kiln_bench_kernel_count(); ++i) names.push(mod.UTF8ToString(mod._kiln_bench_kernel_name(i)));
const chosen = mod.UTF8ToString(mod._kiln_bench_default_kernel());
const only = args.kernels ? new Set(args.kernels.split(',')) : null;
console.log(`${'kernel'.padEnd(22)} ${'M x N x K'.padEnd(16)} GFLOP/s  of peak`);
for (let i = 0; i < names.length; ++i) {
  if (only && !only.has(names[i])) continue;
  for (const [m, n, k] of shapes) {
    const p = mod._kiln_bench_gemm_create(i, m, n, k);
    const flops = 2 * m * n * k;
    const reps = Math.max(1, Math.round(2e7 / flops));
    const g = (rate((r) => mod._kiln_bench_gemm_run(p, r), reps) * flops) / 1e9;
    mod._kiln_bench_gemm_destroy(p);
    const mark = names[i] === chosen ? ' (default)' : '';
    console.log(`${names[i].padEnd(22)} ${`${m}x${n}x${k}`.padEnd(16)} ${g.toFixed(1).padStart(7)}  ${(100 * g / peak).toFixed(0).padStart(4)}%${mark}`);
  }
}
