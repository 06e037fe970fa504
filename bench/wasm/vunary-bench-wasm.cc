// Entry points for bench/wasm-vunary.mjs: every f32-vunary microkernel of the WASM build
// (references included) run `reps` times over n elements, so Node can time them.
#include <emscripten/emscripten.h>

#include <vector>

#include "kernels/f32-vunary/f32-vunary.h"

extern "C" {

EMSCRIPTEN_KEEPALIVE int kiln_bench_vunary_count() { return static_cast<int>(kiln::f32_vunary_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_vunary_name(int i) { return kiln::f32_vunary_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_vunary_is_default(int i) {
  const kiln::F32VunaryKernel& k = kiln::f32_vunary_kernels()[i];
  return &kiln::f32_vunary_default_kernel(k.op) == &k;
}

// Inputs spread over [-10, 10] (each op's useful range); returns a checksum so the calls
// cannot be dropped.
EMSCRIPTEN_KEEPALIVE float kiln_bench_vunary_run(int i, int n, int reps) {
  static std::vector<float> x, y;
  if (x.size() != static_cast<size_t>(n)) {
    x.resize(n), y.resize(n);
    for (int j = 0; j < n; ++j) x[j] = static_cast<float>((j * 7919) % 2001) / 100.f - 10.f;
  }
  const kiln::F32VunaryKernel& k = kiln::f32_vunary_kernels()[i];
  const kiln::F32VunaryParams p{0.2f, 0.5f};
  for (int r = 0; r < reps; ++r) k.fn(n, x.data(), y.data(), &p);
  return y[n / 2];
}

}  // extern "C"
