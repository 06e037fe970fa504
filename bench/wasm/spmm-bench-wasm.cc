// Entry points for bench/wasm-spmm.mjs: one M x N x K problem with weights pruned to a
// given sparsity, run either by an f32 SpMM microkernel (through its driver) or by the
// default dense f32 GEMM on the same (dense-stored) weights, so Node can time both.
#include <emscripten/emscripten.h>

#include <random>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-spmm/f32-spmm.h"

namespace {

struct SpmmProblem {
  const kiln::F32SpmmKernel* spmm = nullptr;  // null: the dense default GEMM
  size_t m = 0, n = 0, k = 0;
  std::vector<float> a, packed, c, ws;
  kiln::F32SpmmPacked sparse;
};

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE int kiln_bench_spmm_count() { return static_cast<int>(kiln::f32_spmm_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_spmm_name(int i) { return kiln::f32_spmm_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_spmm_default() { return kiln::f32_spmm_default_kernel().name; }

// kernel < 0: dense default GEMM. sparsity_pct: percent of weights zeroed at random.
EMSCRIPTEN_KEEPALIVE SpmmProblem* kiln_bench_spmm_create(int kernel, int m, int n, int k, int sparsity_pct) {
  auto* p = new SpmmProblem;
  p->m = m, p->n = n, p->k = k;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::uniform_int_distribution<int> pct(0, 99);
  p->a.resize(static_cast<size_t>(m) * k);
  for (float& x : p->a) x = dist(rng);
  std::vector<float> w(static_cast<size_t>(k) * n);
  for (float& x : w) x = pct(rng) < sparsity_pct ? 0.f : dist(rng);
  p->c.resize(static_cast<size_t>(m) * n);
  if (kernel < 0) {
    const kiln::F32GemmKernel& g = kiln::f32_gemm_default_kernel();
    p->packed.resize(kiln::f32_gemm_packed_size(g.nr, n, k));
    kiln::f32_gemm_pack(g.nr, n, k, w.data(), n, 1, nullptr, 0, p->packed.data());
  } else {
    p->spmm = &kiln::f32_spmm_kernels()[kernel];
    p->sparse = kiln::f32_spmm_pack(p->spmm->mr, n, k, w.data(), n, 1, nullptr, 0);
    p->ws.resize(kiln::f32_spmm_workspace_size(*p->spmm, p->sparse));
  }
  return p;
}

EMSCRIPTEN_KEEPALIVE float kiln_bench_spmm_run(SpmmProblem* p, int reps) {
  for (int r = 0; r < reps; ++r) {
    if (p->spmm) {
      kiln::F32SpmmArgs args;
      args.m = p->m, args.a = p->a.data(), args.a_stride = p->k, args.w = &p->sparse, args.c = p->c.data();
      args.c_stride = p->n;
      kiln::f32_spmm_tiles(*p->spmm, args, 0, kiln::f32_spmm_row_tiles(*p->spmm, p->m), p->ws.data());
    } else {
      kiln::F32GemmArgs args;
      args.m = p->m, args.n = p->n, args.k = p->k, args.a = p->a.data(), args.a_stride = p->k;
      args.packed_w = p->packed.data(), args.c = p->c.data(), args.c_stride = p->n;
      kiln::f32_gemm(kiln::f32_gemm_default_kernel(), args);
    }
  }
  return p->c[0];
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_spmm_destroy(SpmmProblem* p) { delete p; }

}  // extern "C"
