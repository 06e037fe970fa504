// WASM elementwise benchmark: every f32-vunary microkernel of the WASM build (references
// included) on n = 4096 (cache-resident) and n = 1M, in Melem/s and GB/s (8 bytes per
// element); * marks the kernel the config table picks. Needs the WASM build (target
// kiln_kernel_bench_wasm). Usage: node bench/wasm-vunary.mjs [--seconds=0.3] [--ops=sigmoid,gelu]
import { args, mod, rate } from './wasm-kernel-bench.mjs';

const ops = args.ops ? args.ops.split(',') : null;

const sizes = [4096, 1 << 20];
console.log(`${'kernel'.padEnd(30)} ${sizes.map((n) => `n=${n} Melem/s   GB/s`.padStart(26)).join('')}`);
for (let i = 0; i < mod._kiln_bench_vunary_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_vunary_name(i));
  if (ops && !ops.some((op) => name.startsWith(`f32_v${op}_`))) continue;
  const cols = sizes.map((n) => {
    const reps = Math.max(1, Math.round(2e6 / n));
    const elems = rate((r) => mod._kiln_bench_vunary_run(i, n, r), reps) * n;
    return `${(elems / 1e6).toFixed(0).padStart(16)} ${((elems * 8) / 1e9).toFixed(2).padStart(8)}`;
  });
  console.log(`${(name + (mod._kiln_bench_vunary_is_default(i) ? ' *' : '')).padEnd(30)} ${cols.join('')}`);
}
