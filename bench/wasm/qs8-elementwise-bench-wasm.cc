// Entry points for bench/wasm-qs8-elementwise.mjs: every qs8-vbinary kernel of the WASM build
// (index count = the reference vmul) and every qs8-gavgpool sums kernel (index count = the
// reference), run `reps` times, so Node can time them.
#include <emscripten/emscripten.h>

#include <vector>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"
#include "kernels/qs8-gavgpool/qs8-gavgpool.h"
#include "kernels/qs8-vbinary/qs8-vbinary.h"

extern "C" {

EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8v_count() { return static_cast<int>(kiln::qs8_vbinary_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8v_name(int i) {
  return i < kiln_bench_qs8v_count() ? kiln::qs8_vbinary_kernels()[i].name : "qs8_vmul_reference";
}
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8v_is_default(int i) {
  if (i >= kiln_bench_qs8v_count()) return 0;
  const kiln::QS8VBinaryKernel& k = kiln::qs8_vbinary_kernels()[i];
  return &kiln::qs8_vbinary_default_kernel(k.op, k.scalar_b) == &k;
}

// Returns a checksum so the calls cannot be dropped.
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8v_run(int i, int n, int reps) {
  static std::vector<int8_t> a, b, y;
  if (a.size() != static_cast<size_t>(n)) {
    a.resize(n), b.resize(n), y.resize(n);
    for (int j = 0; j < n; ++j) a[j] = static_cast<int8_t>(j * 7), b[j] = static_cast<int8_t>(j * 13);
  }
  kiln::QS8VBinaryParams p;
  p.a_scale = 0.021f, p.b_scale = 1.f / 255.f, p.y_scale = 0.019f, p.a_zero = -7, p.b_zero = -128, p.y_zero = 3;
  for (int r = 0; r < reps; ++r) {
    if (i < kiln_bench_qs8v_count())
      kiln::qs8_vbinary_kernels()[i].fn(n, a.data(), b.data(), y.data(), p);
    else
      kiln::qs8_vbinary_reference(kiln::QS8VBinaryOp::kMul, false, n, a.data(), b.data(), y.data(), p);
  }
  return y[n / 2];
}

// qs8-vmulrow kernels (index count = the reference), multipliers around an SE gate's.
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8row_count() { return static_cast<int>(kiln::qs8_vmulrow_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8row_name(int i) {
  return i < kiln_bench_qs8row_count() ? kiln::qs8_vmulrow_kernels()[i].name : "qs8_vmulrow_reference";
}
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8row_run(int i, int n, int reps) {
  static std::vector<int8_t> x, y;
  static std::vector<float> m;
  if (x.size() != static_cast<size_t>(n)) {
    x.resize(n), y.resize(n), m.resize(n);
    for (int j = 0; j < n; ++j) x[j] = static_cast<int8_t>(j * 7), m[j] = static_cast<float>(j % 97) / 97.f;
  }
  const kiln::QS8VMulRowParams p{-7, 3};
  const kiln::QS8VMulRowUkernelFn fn =
      i < kiln_bench_qs8row_count() ? kiln::qs8_vmulrow_kernels()[i].fn : kiln::qs8_vmulrow_reference;
  for (int r = 0; r < reps; ++r) fn(n, x.data(), m.data(), y.data(), p);
  return y[n / 2];
}

// f32-qs8-vcvt kernels (index count = the reference).
EMSCRIPTEN_KEEPALIVE int kiln_bench_vcvt_count() { return static_cast<int>(kiln::f32_qs8_vcvt_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_vcvt_name(int i) {
  return i < kiln_bench_vcvt_count() ? kiln::f32_qs8_vcvt_kernels()[i].name : "f32_qs8_vcvt_reference";
}
EMSCRIPTEN_KEEPALIVE int kiln_bench_vcvt_run(int i, int n, int reps) {
  static std::vector<float> x;
  static std::vector<int8_t> y;
  if (x.size() != static_cast<size_t>(n)) {
    x.resize(n), y.resize(n);
    for (int j = 0; j < n; ++j) x[j] = static_cast<float>((j * 7919) % 2001) / 400.f - 2.5f;
  }
  const kiln::F32QS8CvtParams p{0.019f, -5};
  const kiln::F32QS8VcvtUkernelFn fn = i < kiln_bench_vcvt_count() ? kiln::f32_qs8_vcvt_kernels()[i].fn : kiln::f32_qs8_vcvt_reference;
  for (int r = 0; r < reps; ++r) fn(n, x.data(), y.data(), p);
  return y[n / 2];
}

EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8gap_count() { return static_cast<int>(kiln::qs8_gavgpool_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qs8gap_name(int i) {
  return i < kiln_bench_qs8gap_count() ? kiln::qs8_gavgpool_kernels()[i].name : "qs8_gavgpool_sums_reference";
}
EMSCRIPTEN_KEEPALIVE int kiln_bench_qs8gap_run(int i, int rows, int c, int reps) {
  static std::vector<int8_t> x;
  static std::vector<int32_t> s;
  if (x.size() != static_cast<size_t>(rows * c)) {
    x.resize(rows * c);
    for (int j = 0; j < rows * c; ++j) x[j] = static_cast<int8_t>(j * 7);
  }
  s.assign(c, 0);
  const kiln::QS8GavgpoolSumsFn fn =
      i < kiln_bench_qs8gap_count() ? kiln::qs8_gavgpool_kernels()[i].fn : kiln::qs8_gavgpool_sums_reference;
  for (int r = 0; r < reps; ++r) fn(rows, c, x.data(), c, s.data());
  return s[c / 2];
}

}  // extern "C"
