// WASM benchmark of the qs8-qc8w IGEMM (int8 in, int8 out: kiln.QLinearNhwcConv's group-1
// kernel) against the default f32 IGEMM and the default qd8 IGEMM on the same layers
// (MobileNet-like 3x3 and 1x1, as bench/qs8-conv-bench.cc). GOP/s = 2 * multiply-adds / s;
// the kinds alternate per shape and round so machine noise hits all alike.
// Needs the WASM build (target kiln_kernel_bench_wasm).
// Usage: node bench/wasm-qs8-conv.mjs [--seconds=0.3] [--rounds=2] [--shapes=rec] [--only=name-part] [--module=path.js]
import { args, mod, rate } from './wasm-kernel-bench.mjs';

const rounds = Number(args.rounds ?? 2);

// [H, W, Cin, Cout, K, stride], padding K / 2, group 1.
const mobilenet = [[56, 56, 32, 64, 3, 1], [28, 28, 64, 64, 3, 1], [112, 112, 3, 32, 3, 2], [56, 56, 64, 128, 1, 1], [14, 14, 256, 256, 1, 1]];
// --shapes=rec: the 1x1 HardSwish layers of the PP-OCRv4 recognizer (PPLCNetV3 x0.95) at 48x320.
const rec = [[24, 160, 16, 32, 1, 1], [24, 160, 64, 64, 1, 1], [12, 160, 128, 128, 1, 1], [12, 80, 240, 240, 1, 1], [6, 80, 240, 480, 1, 1], [6, 80, 480, 480, 1, 1]];
const shapes = args.shapes === 'rec' ? rec : mobilenet;
const count = mod._kiln_bench_qs8_igemm_kernel_count();
const kinds = Array.from({ length: count + 2 }, (_, i) => mod.UTF8ToString(mod._kiln_bench_qs8_igemm_kind_name(i)));
const qs8Default = mod.UTF8ToString(mod._kiln_bench_qs8_igemm_default_kernel());

function gops(kind, [h, w, cin, cout, k, s]) {
  const p = mod._kiln_bench_qs8_conv_create(kind, h, w, cin, cout, k, s);
  const oh = Math.floor((h + 2 * Math.floor(k / 2) - k) / s) + 1, ow = Math.floor((w + 2 * Math.floor(k / 2) - k) / s) + 1;
  const ops = 2 * oh * ow * cout * cin * k * k;
  const g = (rate((r) => mod._kiln_bench_qs8_conv_run(p, r), Math.max(1, Math.round(2e7 / ops))) * ops) / 1e9;
  mod._kiln_bench_qs8_conv_destroy(p);
  return g;
}

console.log(`${'kernel'.padEnd(32)} ${'HxWxCinxCoutxKxS'.padEnd(18)}  GOP/s per round   vs f32 default`);
for (const shape of shapes) {
  const results = kinds.map(() => []);
  // --only: just the qs8 kernels whose name holds that text (the f32 baseline always runs).
  const skip = (i) => args.only && i < count && !kinds[i].includes(args.only);
  for (let r = 0; r < rounds; ++r) kinds.forEach((_, i) => results[i].push(skip(i) ? NaN : gops(i, shape)));
  const f32 = Math.max(...results[count]);
  kinds.forEach((name, i) => {
    if (skip(i)) return;
    const mark = name === qs8Default ? ' (default)' : '';
    const best = Math.max(...results[i]);
    console.log(`${name.padEnd(32)} ${shape.join('x').padEnd(18)} ${results[i].map((g) => g.toFixed(1).padStart(6)).join(' ')}   ${(best / f32).toFixed(2)}x${mark}`);
  });
}
