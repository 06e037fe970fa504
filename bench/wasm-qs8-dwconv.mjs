// WASM int8 depthwise benchmark: every qs8-qc8w depthwise kernel of the WASM build against
// the default f32 depthwise kernel on the same MobileNet-style layers (as
// bench/qs8-dwconv-bench.cc), one thread, GOP/s (2 x multiply-adds per second) and the
// ratio to f32 measured in the same run. Needs the WASM build (target kiln_kernel_bench_wasm).
// Usage: node bench/wasm-qs8-dwconv.mjs [--seconds=0.3] [--shapes=rec] [--only=name-part] [--rounds=1]
//   [--module=path.js]
import { args, mod, rate } from './wasm-kernel-bench.mjs';

// [H, W, C, K, stride], padding K / 2.
const mobilenet = [[112, 112, 32, 3, 1], [56, 56, 128, 3, 1], [112, 112, 64, 3, 2], [28, 28, 120, 5, 1], [14, 14, 480, 3, 1]];
// --shapes=rec: depthwise layers like the PP-OCRv4 recognizer's (PPLCNetV3 x0.95 at 48x320, HardSwish; its
// stride-(2,1) layers approximated with stride 1 at the output size).
const rec = [[24, 160, 32, 3, 1], [12, 160, 64, 3, 1], [12, 160, 128, 3, 1], [12, 80, 128, 5, 1], [6, 80, 240, 5, 1], [6, 80, 480, 5, 1], [3, 80, 480, 5, 1]];
const shapes = args.shapes === 'rec' ? rec : mobilenet;
const only = args.only;
const rounds = Number(args.rounds ?? 1);

function gops(kernel, s) {
  const [h, w, c, k, stride] = s;
  const oh = Math.floor((h + 2 * Math.floor(k / 2) - k) / stride) + 1, ow = Math.floor((w + 2 * Math.floor(k / 2) - k) / stride) + 1;
  const ops = 2 * oh * ow * c * k * k;
  const p = mod._kiln_bench_qs8dw_create(kernel, h, w, c, k, stride);
  const name = mod.UTF8ToString(mod._kiln_bench_qs8dw_problem_name(p));
  const reps = Math.max(1, Math.round(2e7 / ops));
  const g = (rate((r) => mod._kiln_bench_qs8dw_run(p, r), reps) * ops) / 1e9;
  mod._kiln_bench_qs8dw_destroy(p);
  return { name, g };
}

console.log(`${'kernel'.padEnd(40)} ${'HxWxCxKxS'.padEnd(16)} GOP/s   vs f32`);
for (let round = 0; round < rounds; ++round) for (const s of shapes) {
  const f32 = gops(-1, s);
  console.log(`${f32.name.padEnd(40)} ${s.join('x').padEnd(16)} ${f32.g.toFixed(1).padStart(6)}`);
  for (let i = 0; i < mod._kiln_bench_qs8dw_count(); ++i) {
    const taps = mod._kiln_bench_qs8dw_taps(i);
    if (taps !== 0 && taps !== s[3] * s[3]) continue;
    if (only && !mod.UTF8ToString(mod._kiln_bench_qs8dw_name(i)).includes(only)) continue;
    const q = gops(i, s);
    console.log(`${q.name.padEnd(40)} ${s.join('x').padEnd(16)} ${q.g.toFixed(1).padStart(6)}  ${(q.g / f32.g).toFixed(2)}x`);
  }
}
