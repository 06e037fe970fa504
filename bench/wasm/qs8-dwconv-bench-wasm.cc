// Exports for bench/wasm-qs8-dwconv.mjs: every qs8-qc8w depthwise kernel of the WASM build
// and the default f32 depthwise kernel on the same layer (bench/qs8-dwconv-problem.h).
#include <emscripten/emscripten.h>

#include "../qs8-dwconv-problem.h"

extern "C" {

// Kernel indices: the requantizing kernels, then the activation (HardSwish) kernels.
static int requant_count() { return static_cast<int>(kiln::qs8_dwconv_kernels().size()); }
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8dw_count() {
  return requant_count() + static_cast<int>(kiln::qs8_dwconv_act_kernels().size());
}
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8dw_name(int i) {
  return i < requant_count() ? kiln::qs8_dwconv_kernels()[i].name : kiln::qs8_dwconv_act_kernels()[i - requant_count()].name;
}
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8dw_taps(int i) {
  return static_cast<int>(i < requant_count() ? kiln::qs8_dwconv_kernels()[i].taps
                                              : kiln::qs8_dwconv_act_kernels()[i - requant_count()].taps);
}

// kernel -1: the f32 default depthwise kernel.
EMSCRIPTEN_KEEPALIVE void* kiln_bench_qs8dw_create(int kernel, int h, int w, int c, int k, int stride) {
  if (kernel >= requant_count())
    return new kiln::bench::Qs8DwconvProblem(&kiln::qs8_dwconv_act_kernels()[kernel - requant_count()], h, w, c, k,
                                             stride);
  return new kiln::bench::Qs8DwconvProblem(kernel < 0 ? nullptr : &kiln::qs8_dwconv_kernels()[kernel], h, w, c, k,
                                           stride);
}
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8dw_problem_name(void* p) {
  return static_cast<kiln::bench::Qs8DwconvProblem*>(p)->name();
}
EMSCRIPTEN_KEEPALIVE void kiln_bench_qs8dw_run(void* p, int reps) {
  for (int i = 0; i < reps; ++i) static_cast<kiln::bench::Qs8DwconvProblem*>(p)->run();
}
EMSCRIPTEN_KEEPALIVE void kiln_bench_qs8dw_destroy(void* p) { delete static_cast<kiln::bench::Qs8DwconvProblem*>(p); }

}  // extern "C"
