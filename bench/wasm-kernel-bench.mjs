// What every WASM kernel benchmark script shares: the command line (--name=value pairs),
// the kernel benchmark module (target kiln_kernel_bench_wasm, or --module=path.js) and the
// timing loop.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
export const seconds = Number(args.seconds ?? 0.3);

const modPath = path.resolve(args.module ?? `${root}build/wasm/bench/wasm/kiln_kernel_bench.js`);
const createKernelBench = createRequire(import.meta.url)(modPath);
export const mod = await createKernelBench({ wasmBinary: readFileSync(modPath.replace(/\.js$/, '.wasm')) });

// Best calls-per-second over a few rounds after warm-up (V8 tiers the code up).
export function rate(fn, reps) {
  for (let i = 0; i < 3; ++i) fn(reps);
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
