// WASM f32 SpMM benchmark: every SpMM microkernel of the WASM build against the default
// dense f32 GEMM on the same shapes (taken from the real models) at 50 / 75 / 90% random
// sparsity. GFLOP/s count the dense work (2·M·N·K) for both, so the last column is the
// speed-up of running the pruned layer sparse. Runs are alternated per shape (dense, then
// each sparse kernel) so machine noise hits all alike. Needs the WASM build (target
// kiln_kernel_bench_wasm).
// Usage: node bench/wasm-spmm.mjs [--seconds=0.3] [--kernels=name,...] [--shapes=MxNxK,...]
//        [--sparsity=50,75,90] [--module=path.js]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const modPath = path.resolve(args.module ?? `${root}build/wasm/bench/wasm/kiln_kernel_bench.js`);
const seconds = Number(args.seconds ?? 0.3);
const only = args.kernels ? new Set(args.kernels.split(',')) : null;
// Recognizer MatMuls (tokens x hidden), classifier / detector 1x1 convs (pixels x Cout x Cin), a square, one row.
const shapes = (args.shapes ?? '256x256x256,40x360x120,160x480x120,784x128x64,3072x32x16,1x512x256')
  .split(',').map((s) => s.split('x').map(Number));
const sparsities = (args.sparsity ?? '50,75,90').split(',').map(Number);

const require = createRequire(import.meta.url);
const createKernelBench = require(modPath);
const mod = await createKernelBench({ wasmBinary: readFileSync(modPath.replace(/\.js$/, '.wasm')) });

// Best calls-per-second over a few rounds after warm-up (V8 tiers the code up).
function rate(fn, reps) {
  for (let i = 0; i < 5; ++i) fn(reps);
  let best = 0;
  for (let round = 0; round < 3; ++round) {
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < (seconds * 1000) / 3) { fn(reps); calls += reps; t = performance.now(); }
    best = Math.max(best, calls / ((t - t0) / 1000));
  }
  return best;
}

function gflops(kernel, [m, n, k], s) {
  const flops = 2 * m * n * k;
  const p = mod._kiln_bench_spmm_create(kernel, m, n, k, s);
  const reps = Math.max(1, Math.round(1e7 / flops));
  const g = (rate((r) => mod._kiln_bench_spmm_run(p, r), reps) * flops) / 1e9;
  mod._kiln_bench_spmm_destroy(p);
  return g;
}

const kernels = [];
for (let i = 0; i < mod._kiln_bench_spmm_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_spmm_name(i));
  if (!only || only.has(name)) kernels.push([i, name]);
}
const chosen = mod.UTF8ToString(mod._kiln_bench_spmm_default());
console.log(`${'kernel'.padEnd(22)} ${'M x N x K'.padEnd(14)} sparse  GFLOP/s(dense-equiv)  vs dense`);
for (const shape of shapes) {
  for (const s of sparsities) {
    const dense = gflops(-1, shape, s);
    console.log(`${'dense default'.padEnd(22)} ${shape.join('x').padEnd(14)} ${`${s}%`.padStart(6)}  ${dense.toFixed(1).padStart(8)}`);
    for (const [i, name] of kernels) {
      const g = gflops(i, shape, s);
      const mark = name === chosen ? ' (default)' : '';
      console.log(`${name.padEnd(22)} ${shape.join('x').padEnd(14)} ${`${s}%`.padStart(6)}  ${g.toFixed(1).padStart(8)}  ${(g / dense).toFixed(2).padStart(8)}x${mark}`);
    }
  }
}
