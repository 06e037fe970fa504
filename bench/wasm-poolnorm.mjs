// WASM pooling / softmax / layer-norm benchmark: every microkernel of the WASM build on
// shapes of the target models (as bench/poolnorm-bench.cc), then the op-facing paths
// against the reference kernels they replaced. Million elements per second (for pooling:
// input values read, window taps x channels). Needs the WASM build (target
// kiln_kernel_bench_wasm).
// Usage: node bench/wasm-poolnorm.mjs [--seconds=0.3] [--kernels=name,...] [--module=path.js]
// (--kernels=ops runs only the op-facing comparison)
import { args, mod, rate } from './wasm-kernel-bench.mjs';

const only = args.kernels ? new Set(args.kernels.split(',')) : null;

// Family numbers of bench/wasm/poolnorm-bench-wasm.cc.
const F = { maxpool: 0, avgpool: 1, rmax: 2, rsum: 3, raddstoreexpminusmax: 4, vmulc: 5, layernorm: 6,
  softmaxDefault: 7, softmaxReference: 8, layernormReference: 9, maxpoolReference: 10, avgpoolReference: 11 };
// [H, W, C, K, stride, pad] and [rows, n], as bench/poolnorm-bench.cc.
const poolShapes = [[128, 128, 24, 2, 2, 0], [64, 64, 48, 2, 2, 0], [112, 112, 64, 3, 2, 1], [28, 28, 192, 3, 1, 1], [14, 14, 96, 5, 1, 2]];
const softmaxRows = [[1, 1000], [80, 6625], [64, 40]];
const normRows = [[80, 120], [128, 384], [1024, 64]];
const reduceRows = [[1280, 49], [512, 196], [64, 3136]];

const isPool = (f) => [F.maxpool, F.avgpool, F.maxpoolReference, F.avgpoolReference].includes(f);
function melems(family, kernel, s) {
  let elems;
  if (isPool(family)) {
    const [h, w, c, k, stride, pad] = s;
    const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((w + 2 * pad - k) / stride) + 1;
    elems = oh * ow * k * k * c;
  } else {
    elems = s[0] * s[1];
  }
  const p = mod._kiln_bench_pn_create(family, kernel, ...s, ...new Array(6 - s.length).fill(0));
  const reps = Math.max(1, Math.round(2e6 / elems));
  const r = (rate((n) => mod._kiln_bench_pn_run(p, n), reps) * elems) / 1e6;
  mod._kiln_bench_pn_destroy(p);
  return r;
}

const label = (s) => s.join('x').padEnd(20);
console.log(`${'kernel'.padEnd(36)} ${'shape'.padEnd(20)} Melem/s`);
const families = [[F.maxpool, poolShapes], [F.avgpool, poolShapes], [F.rmax, reduceRows], [F.rsum, reduceRows],
  [F.raddstoreexpminusmax, softmaxRows], [F.vmulc, softmaxRows], [F.layernorm, normRows]];
for (const [family, shapes] of families) {
  for (let i = 0; i < mod._kiln_bench_pn_count(family); ++i) {
    const name = mod.UTF8ToString(mod._kiln_bench_pn_name(family, i));
    if (only && !only.has(name)) continue;
    for (const s of shapes) console.log(`${name.padEnd(36)} ${label(s)} ${melems(family, i, s).toFixed(0).padStart(7)}`);
  }
}
if (!only || only.has('ops')) {
  const pairs = [[F.softmaxDefault, F.softmaxReference, softmaxRows], [F.layernorm, F.layernormReference, normRows],
    [F.maxpool, F.maxpoolReference, poolShapes], [F.avgpool, F.avgpoolReference, poolShapes]];
  const defaults = { [F.layernorm]: 'f32_layernorm_x16_simd', [F.maxpool]: 'f32_maxpool_9p8x_c4_simd',
    [F.avgpool]: 'f32_avgpool_9p8x_c4_simd' };
  for (const [fast, ref, shapes] of pairs) {
    let k = 0;
    for (let i = 0; i < mod._kiln_bench_pn_count(fast); ++i)
      if (mod.UTF8ToString(mod._kiln_bench_pn_name(fast, i)) === defaults[fast]) k = i;
    const name = mod.UTF8ToString(mod._kiln_bench_pn_name(fast, k)), rname = mod.UTF8ToString(mod._kiln_bench_pn_name(ref, 0));
    for (const s of shapes) {
      const a = melems(fast, k, s), b = melems(ref, 0, s);
      console.log(`${name.padEnd(36)} ${label(s)} ${a.toFixed(0).padStart(7)}`);
      console.log(`${rname.padEnd(36)} ${label(s)} ${b.toFixed(0).padStart(7)}  (x${(a / b).toFixed(1)})`);
    }
  }
}
