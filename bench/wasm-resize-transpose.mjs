// WASM Resize / Transpose benchmark: every resize and transposition microkernel of the
// WASM build through the op-facing drivers (ResizeKernels, TransposeNdPlan), against the
// reference resize kernel and an element-by-element strided copy (what the ops ran
// before). Output GB/s. Needs the WASM build (target kiln_kernel_bench_wasm).
// Usage: node bench/wasm-resize-transpose.mjs [--seconds=0.3] [--module=path.js]
import { mod, rate } from './wasm-kernel-bench.mjs';

function gbps(create, run, bytes, destroy) {
  const p = create();
  const b = bytes(p);
  const reps = Math.max(1, Math.round(2e7 / b));
  const g = (rate((r) => run(p, r), reps) * b) / 1e9;
  destroy(p);
  return g;
}

// [nhwc, linear, H, W, C, scale x 10]: the PP-OCR detector neck (NHWC nearest x2 / x8) and
// bilinear layers.
const resizeShapes = {
  2: [[1, 0, 20, 20, 96, 20], [1, 0, 40, 40, 96, 20], [1, 0, 20, 20, 24, 80], [0, 0, 40, 40, 96, 20]],
  0: [[1, 1, 56, 56, 64, 20], [1, 1, 80, 80, 24, 20], [1, 1, 64, 64, 32, 15]],
  1: [[0, 1, 56, 56, 64, 20], [0, 1, 80, 80, 24, 20], [0, 1, 64, 64, 32, 15]],
};
const kinds = { 2: 'nearest', 0: 'linear NHWC', 1: 'linear NCHW' };

function resize(kind, kernel, s) {
  return gbps(() => mod._kiln_bench_resize_create(kind, kernel, ...s), mod._kiln_bench_resize_run,
    mod._kiln_bench_resize_bytes, mod._kiln_bench_resize_destroy);
}

console.log(`${'resize kernel'.padEnd(28)} ${'nhwc,linear,H,W,C,scale*10'.padEnd(28)} GB/s   vs reference`);
for (const kind of [2, 0, 1]) {
  for (const s of resizeShapes[kind]) {
    const ref = resize(kind, -1, s);
    console.log(`${`reference (${kinds[kind]})`.padEnd(28)} ${s.join(',').padEnd(28)} ${ref.toFixed(2).padStart(6)}`);
    for (let i = 0; i < mod._kiln_bench_resize_kernel_count(kind); ++i) {
      const name = mod.UTF8ToString(mod._kiln_bench_resize_kernel_name(kind, i));
      const g = resize(kind, i, s);
      console.log(`${name.padEnd(28)} ${s.join(',').padEnd(28)} ${g.toFixed(2).padStart(6)}   ${(g / ref).toFixed(1)}x`);
    }
  }
}

const shapes = ['NCHW->NHWC 1x3x640x640', 'NHWC->NCHW 1x80x80x96', 'matrix 1024x1024', 'heads 1x64x8x40 (0,2,1,3)'];
function transpose(kernel, es, shape) {
  return gbps(() => mod._kiln_bench_transpose_create(kernel, es, shape), mod._kiln_bench_transpose_run,
    mod._kiln_bench_transpose_bytes, mod._kiln_bench_transpose_destroy);
}
console.log(`\n${'transpose kernel'.padEnd(28)} ${'shape'.padEnd(28)} GB/s   vs strided copy`);
for (let shape = 0; shape < shapes.length; ++shape) {
  const ref = transpose(-2, 4, shape);
  console.log(`${'strided copy (x32)'.padEnd(28)} ${shapes[shape].padEnd(28)} ${ref.toFixed(2).padStart(6)}`);
  for (let i = 0; i < mod._kiln_bench_transposec_count(); ++i) {
    const es = mod._kiln_bench_transposec_element_size(i);
    if (es !== 4) continue;
    const g = transpose(i, 4, shape);
    const name = mod.UTF8ToString(mod._kiln_bench_transposec_name(i));
    console.log(`${name.padEnd(28)} ${shapes[shape].padEnd(28)} ${g.toFixed(2).padStart(6)}   ${(g / ref).toFixed(1)}x`);
  }
}
