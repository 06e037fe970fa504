// f32 SpMM microkernels (through the driver) against the default dense f32 GEMM on the
// same shapes, at 50 / 75 / 90% unstructured sparsity. FLOPS counts the *dense* work
// (2·M·N·K) for both, so the ratio of the two counters is the speed-up of going sparse.
// Names: f32_spmm_32x1_avx2/M/N/K/S (S = sparsity in %), dense_f32_gemm_default/M/N/K/S.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-spmm/f32-spmm.h"

namespace {

struct Problem {
  size_t m, n, k;
  std::vector<float> a, w, c;
};

Problem make(const benchmark::State& state) {
  Problem p{static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)), {}, {}, {}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::uniform_int_distribution<int> pct(0, 99);
  p.a.resize(p.m * p.k);
  for (float& x : p.a) x = dist(rng);
  p.w.resize(p.k * p.n);
  for (float& x : p.w) x = pct(rng) < state.range(3) ? 0.f : dist(rng);
  p.c.resize(p.m * p.n);
  return p;
}

void flops(benchmark::State& state, const Problem& p) {
  state.counters["FLOPS"] = benchmark::Counter(2.0 * p.m * p.n * p.k, benchmark::Counter::kIsIterationInvariantRate);
}

void run_spmm(benchmark::State& state, const kiln::F32SpmmKernel* kern) {
  Problem p = make(state);
  const kiln::F32SpmmPacked w = kiln::f32_spmm_pack(kern->mr, p.n, p.k, p.w.data(), static_cast<ptrdiff_t>(p.n), 1, nullptr, 0);
  std::vector<float> ws(kiln::f32_spmm_workspace_size(*kern, w));
  kiln::F32SpmmArgs args;
  args.m = p.m, args.a = p.a.data(), args.a_stride = p.k, args.w = &w, args.c = p.c.data(), args.c_stride = p.n;
  const size_t tiles = kiln::f32_spmm_row_tiles(*kern, p.m);
  for (auto _ : state) {
    kiln::f32_spmm_tiles(*kern, args, 0, tiles, ws.data());
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  flops(state, p);
}

void run_dense(benchmark::State& state) {
  Problem p = make(state);
  const kiln::F32GemmKernel& kern = kiln::f32_gemm_default_kernel();
  std::vector<float> packed(kiln::f32_gemm_packed_size(kern.nr, p.n, p.k));
  kiln::f32_gemm_pack(kern.nr, p.n, p.k, p.w.data(), static_cast<ptrdiff_t>(p.n), 1, nullptr, 0, packed.data());
  kiln::F32GemmArgs args;
  args.m = p.m, args.n = p.n, args.k = p.k, args.a = p.a.data(), args.a_stride = p.k;
  args.packed_w = packed.data(), args.c = p.c.data(), args.c_stride = p.n;
  for (auto _ : state) {
    kiln::f32_gemm(kern, args);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  flops(state, p);
}

// M x N x K from the real models: squares, recognizer MatMuls (tokens x hidden), 1x1
// convolutions of the classifier / detector (pixels x Cout x Cin), one row (batch-1 FC).
const std::vector<std::vector<int64_t>> kShapes = {{256, 256, 256}, {40, 360, 120}, {160, 480, 120},
                                                   {784, 128, 64},  {3072, 32, 16}, {1, 512, 256}};

const int kRegistered = [] {
  auto add = [](benchmark::internal::Benchmark* b) {
    for (const auto& s : kShapes)
      for (int64_t sparsity : {50, 75, 90}) b->Args({s[0], s[1], s[2], sparsity});
    b->ArgNames({"M", "N", "K", "S"});
  };
  add(benchmark::RegisterBenchmark("dense_f32_gemm_default", run_dense));
  for (const kiln::F32SpmmKernel& kern : kiln::f32_spmm_kernels())
    add(benchmark::RegisterBenchmark(kern.name, run_spmm, &kern));
  return 0;
}();

}  // namespace
