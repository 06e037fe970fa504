// The qd8-f32-qb4w family (int4 blocks of 32) for bench/wasm-qd8-gemm.mjs: the same shapes
// and data as the qd8-f32-qc8w problems in kernel-bench-wasm.cc, A quantized in every call.
#include <emscripten/emscripten.h>

#include <vector>

#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace {
struct QB4WProblem {
  const kiln::QB4WGemmKernel* kern;
  std::vector<float> a, c;
  std::vector<int8_t> qa;
  std::vector<kiln::QD8RowParams> params;
  std::vector<int32_t> packed;
  kiln::QD8GemmArgs args;
};
}  // namespace

extern "C" {
EMSCRIPTEN_KEEPALIVE int kiln_bench_qb4w_kernel_count() { return static_cast<int>(kiln::qb4w_gemm_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_qb4w_kernel_name(int i) { return kiln::qb4w_gemm_kernels()[i].name; }

EMSCRIPTEN_KEEPALIVE QB4WProblem* kiln_bench_qb4w_create(int kernel, int m, int n, int k) {
  auto* p = new QB4WProblem;
  p->kern = &kiln::qb4w_gemm_kernels()[kernel];
  const size_t kp = kiln::qb4w_padded_k(k);
  p->a.resize(static_cast<size_t>(m) * k);
  std::vector<float> b(static_cast<size_t>(k) * n);
  for (size_t i = 0; i < p->a.size(); ++i) p->a[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 127) / 127.f - 0.5f;
  std::vector<uint8_t> nib(static_cast<size_t>(n) * kiln::qb4w_row_bytes(k));
  std::vector<uint16_t> scale(static_cast<size_t>(n) * kiln::qb4w_blocks(k));
  kiln::qb4w_quantize_blocks(n, k, b.data(), n, 1, nib.data(), scale.data());
  p->packed.resize((kiln::qb4w_gemm_packed_size(p->kern->nr, n, k) + 3) / 4);
  kiln::qb4w_gemm_pack(p->kern->nr, n, k, nib.data(), scale.data(), nullptr, p->packed.data());
  p->qa.resize(static_cast<size_t>(m) * kp);
  p->params.resize(m);
  p->c.resize(static_cast<size_t>(m) * n);
  p->args.m = m, p->args.n = n, p->args.k = k;
  p->args.qa = p->qa.data(), p->args.qa_stride = kp, p->args.row_params = p->params.data();
  p->args.packed_w = p->packed.data(), p->args.c = p->c.data(), p->args.c_stride = n;
  return p;
}

EMSCRIPTEN_KEEPALIVE float kiln_bench_qb4w_run(QB4WProblem* p, int reps) {
  const size_t m = p->args.m, k = p->args.k;
  for (int r = 0; r < reps; ++r) {
    kiln::qd8_quantize_rows(m, k, p->a.data(), k, p->qa.data(), p->args.qa_stride, p->params.data());
    kiln::qb4w_gemm(*p->kern, p->args);
  }
  return p->c[0];
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_qb4w_destroy(QB4WProblem* p) { delete p; }
}
