// WASM benchmark of the int8 GEMM families (qd8-f32-qc8w and the int4-block qd8-f32-qb4w:
// f32 in, int8 compute, f32 out)
// against kiln's own default f32 GEMM microkernel on the same shapes, in one run: prints
// GOP/s (2*M*N*K per second; the int8 side includes quantizing A's rows) and the speedup.
// Needs the WASM build (target kiln_kernel_bench_wasm).
// Usage: node bench/wasm-qd8-gemm.mjs [--kernels=name,...] [--shapes=MxNxK,...] [--seconds=0.3]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const modPath = path.resolve(args.module ?? `${root}build/wasm/bench/wasm/kiln_kernel_bench.js`);
const seconds = Number(args.seconds ?? 0.3);
const shapes = (args.shapes ?? '256x256x256,40x120x120,40x360x120,40x120x240,160x480x120,160x256x480,80x6625x120')
  .split(',').map((s) => s.split('x').map(Number));

const require = createRequire(import.meta.url);
const createKernelBench = require(modPath);
const mod = await createKernelBench({ wasmBinary: readFileSync(modPath.replace(/\.js$/, '.wasm')) });

// Best calls-per-second over a few timed rounds, after warm-up calls (V8 tier-up).
function rate(fn, reps) {
  for (let i = 0; i < 5; ++i) fn(reps);
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

const f32Default = mod.UTF8ToString(mod._kiln_bench_default_kernel());
let f32Index = -1;
for (let i = 0; i < mod._kiln_bench_kernel_count(); ++i)
  if (mod.UTF8ToString(mod._kiln_bench_kernel_name(i)) === f32Default) f32Index = i;
const qd8Default = mod.UTF8ToString(mod._kiln_bench_qd8_default_kernel());
const only = args.kernels ? new Set(args.kernels.split(',')) : null;

function gops(create, run, destroy, kernel, [m, n, k]) {
  const p = create(kernel, m, n, k);
  const ops = 2 * m * n * k;
  const g = (rate((r) => run(p, r), Math.max(1, Math.round(2e7 / ops))) * ops) / 1e9;
  destroy(p);
  return g;
}

console.log(`${'kernel'.padEnd(32)} ${'M x N x K'.padEnd(14)}   GOP/s  vs ${f32Default}`);
for (const shape of shapes) {
  const f32 = gops(mod._kiln_bench_gemm_create, mod._kiln_bench_gemm_run, mod._kiln_bench_gemm_destroy, f32Index, shape);
  console.log(`${f32Default.padEnd(32)} ${shape.join('x').padEnd(14)} ${f32.toFixed(1).padStart(7)}`);
  for (let i = 0; i < mod._kiln_bench_qd8_kernel_count(); ++i) {
    const name = mod.UTF8ToString(mod._kiln_bench_qd8_kernel_name(i));
    if (only && !only.has(name)) continue;
    const g = gops(mod._kiln_bench_qd8_create, mod._kiln_bench_qd8_run, mod._kiln_bench_qd8_destroy, i, shape);
    const mark = name === qd8Default ? ' (default)' : '';
    console.log(`${name.padEnd(32)} ${shape.join('x').padEnd(14)} ${g.toFixed(1).padStart(7)}  ${(g / f32).toFixed(2)}x${mark}`);
  }
  // The int4-block family (qd8-f32-qb4w), same data; absent from older module builds.
  for (let i = 0; mod._kiln_bench_qb4w_kernel_count && i < mod._kiln_bench_qb4w_kernel_count(); ++i) {
    const name = mod.UTF8ToString(mod._kiln_bench_qb4w_kernel_name(i));
    if (only && !only.has(name)) continue;
    const g = gops(mod._kiln_bench_qb4w_create, mod._kiln_bench_qb4w_run, mod._kiln_bench_qb4w_destroy, i, shape);
    console.log(`${name.padEnd(32)} ${shape.join('x').padEnd(14)} ${g.toFixed(1).padStart(7)}  ${(g / f32).toFixed(2)}x`);
  }
}
