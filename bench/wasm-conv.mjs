// WASM NHWC convolution benchmark: every f32 IGEMM and depthwise (f32, and f32-qc8w with
// int8 weights) microkernel of the WASM build on layer shapes from real models (as
// bench/f32-conv-bench.cc), then the op-facing NhwcConvKernels against the NCHW reference convolution the Conv op runs today for
// non-1x1 layers. GFLOP/s. Needs the WASM build (target kiln_kernel_bench_wasm).
// Usage: node bench/wasm-conv.mjs [--seconds=0.3] [--kernels=name,...] [--module=path.js]
// (--kernels=ops runs only the op-facing comparison)
import { args, mod, rate } from './wasm-kernel-bench.mjs';

const only = args.kernels ? new Set(args.kernels.split(',')) : null;

// [H, W, Cin, Cout, groups, K, stride], padding K / 2.
const igemmShapes = [[56, 56, 32, 64, 1, 3, 1], [28, 28, 64, 64, 1, 3, 1], [112, 112, 16, 32, 1, 3, 2], [48, 160, 3, 32, 1, 3, 2]];
const dwShapes = [[112, 112, 32, 32, 32, 3, 1], [56, 56, 128, 128, 128, 3, 1], [112, 112, 64, 64, 64, 3, 2], [28, 28, 120, 120, 120, 5, 1]];
const opShapes = [[56, 56, 32, 64, 1, 3, 1], [112, 112, 32, 32, 32, 3, 1], [28, 28, 120, 120, 120, 5, 1], [28, 28, 64, 64, 4, 3, 1]];

function gflops(kind, kernel, s) {
  const [h, w, cin, cout, groups, k, stride] = s;
  const oh = Math.floor((h + 2 * Math.floor(k / 2) - k) / stride) + 1, ow = Math.floor((w + 2 * Math.floor(k / 2) - k) / stride) + 1;
  const flops = 2 * oh * ow * cout * (cin / groups) * k * k;
  const p = mod._kiln_bench_conv_create(kind, kernel, h, w, cin, cout, groups, k, stride);
  const reps = Math.max(1, Math.round(2e7 / flops));
  const g = (rate((r) => mod._kiln_bench_conv_run(p, r), reps) * flops) / 1e9;
  mod._kiln_bench_conv_destroy(p);
  return g;
}

const label = (s) => s.join('x').padEnd(24);
console.log(`${'kernel'.padEnd(24)} ${'HxWxCinxCoutxGxKxS'.padEnd(24)} GFLOP/s`);
for (let i = 0; i < mod._kiln_bench_igemm_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_igemm_name(i));
  if (only && !only.has(name)) continue;
  for (const s of igemmShapes) console.log(`${name.padEnd(24)} ${label(s)} ${gflops(0, i, s).toFixed(1).padStart(7)}`);
}
for (let i = 0; i < mod._kiln_bench_dwconv_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_dwconv_name(i));
  const taps = mod._kiln_bench_dwconv_taps(i);
  if (only && !only.has(name)) continue;
  for (const s of dwShapes) {
    if (taps !== 0 && taps !== s[5] * s[5]) continue;
    console.log(`${name.padEnd(24)} ${label(s)} ${gflops(1, i, s).toFixed(1).padStart(7)}`);
  }
}
for (let i = 0; i < mod._kiln_bench_qdwconv_count(); ++i) {
  const name = mod.UTF8ToString(mod._kiln_bench_qdwconv_name(i));
  const taps = mod._kiln_bench_qdwconv_taps(i);
  if (only && !only.has(name)) continue;
  for (const s of dwShapes) {
    if (taps !== 0 && taps !== s[5] * s[5]) continue;
    console.log(`${name.padEnd(24)} ${label(s)} ${gflops(4, i, s).toFixed(1).padStart(7)}`);
  }
}
if (!only || only.has('ops')) {
  for (const s of opShapes) {
    const fast = gflops(2, 0, s), ref = gflops(3, 0, s);
    console.log(`${'conv_nhwc_kernels'.padEnd(24)} ${label(s)} ${fast.toFixed(1).padStart(7)}`);
    console.log(`${'conv_nchw_reference'.padEnd(24)} ${label(s)} ${ref.toFixed(1).padStart(7)}  (x${(fast / ref).toFixed(1)})`);
  }
}
