// Exports for bench/wasm-qs8-dwconv.mjs: every qs8-qc8w depthwise kernel of the WASM build
// and the default f32 depthwise kernel on the same layer (bench/qs8-dwconv-problem.h).
#include <emscripten/emscripten.h>

#include "../qs8-dwconv-problem.h"

extern "C" {

EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8dw_count() { return static_cast<int>(kiln::qs8_dwconv_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8dw_name(int i) { return kiln::qs8_dwconv_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8dw_taps(int i) { return static_cast<int>(kiln::qs8_dwconv_kernels()[i].taps); }

// kernel -1: the f32 default depthwise kernel.
EMSCRIPTEN_KEEPALIVE void* kiln_bench_qs8dw_create(int kernel, int h, int w, int c, int k, int stride) {
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
