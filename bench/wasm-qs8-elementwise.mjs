// WASM benchmark of the static int8 elementwise kernels: every qs8-vbinary, qs8-vmulrow and
// f32-qs8-vcvt (QuantizeLinear) kernel of the WASM build (and the scalar references) on n = 27648 (24x48x24, an SE block of the PP-OCR
// classifier) and 1M, and every qs8-gavgpool sums kernel on 24x48 rows x 24 and 12x24 rows x
// 96 channels, in ns per element; * marks the kernel the config table picks. Needs the WASM
// build (target kiln_kernel_bench_wasm). Usage: node bench/wasm-qs8-elementwise.mjs [--seconds=0.3]
import { mod, rate } from './wasm-kernel-bench.mjs';

const ns = (callsPerSec, elems) => (1e9 / (callsPerSec * elems)).toFixed(3).padStart(12);

const sizes = [27648, 1 << 20];
console.log(`${'kernel'.padEnd(30)} ${sizes.map((n) => `n=${n} ns/elem`.padStart(20)).join('')}`);
for (let i = 0; i <= mod._kiln_bench_qs8v_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_qs8v_name(i)) + (mod._kiln_bench_qs8v_is_default(i) ? ' *' : '');
  const cols = sizes.map((n) => ns(rate((r) => mod._kiln_bench_qs8v_run(i, n, r), Math.max(1, Math.round(2e6 / n))), n).padStart(20));
  console.log(`${name.padEnd(30)} ${cols.join('')}`);
}
for (let i = 0; i <= mod._kiln_bench_qs8row_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_qs8row_name(i));
  const cols = sizes.map((n) => ns(rate((r) => mod._kiln_bench_qs8row_run(i, n, r), Math.max(1, Math.round(2e6 / n))), n).padStart(20));
  console.log(`${name.padEnd(30)} ${cols.join('')}`);
}
for (let i = 0; i <= mod._kiln_bench_vcvt_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_vcvt_name(i));
  const cols = sizes.map((n) => ns(rate((r) => mod._kiln_bench_vcvt_run(i, n, r), Math.max(1, Math.round(2e6 / n))), n).padStart(20));
  console.log(`${name.padEnd(30)} ${cols.join('')}`);
}
const shapes = [[24 * 48, 24], [12 * 24, 96]];
console.log(`${'kernel'.padEnd(30)} ${shapes.map(([r, c]) => `${r}x${c} ns/elem`.padStart(20)).join('')}`);
for (let i = 0; i <= mod._kiln_bench_qs8gap_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_qs8gap_name(i));
  const cols = shapes.map(([r, c]) => ns(rate((k) => mod._kiln_bench_qs8gap_run(i, r, c, k), 50), r * c).padStart(20));
  console.log(`${name.padEnd(30)} ${cols.join('')}`);
}
