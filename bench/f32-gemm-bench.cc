// GFLOP/s of every f32 GEMM microkernel of this build (through the driver, packed
// weights) on square sizes and on MatMul / 1x1-conv shapes of the PP-OCRv4 recognizer.
// Names follow the kernels: f32_gemm_6x16_avx2/M/N/K.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"

namespace {

void run_gemm(benchmark::State& state, const kiln::F32GemmKernel* kern) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 127) / 127.f - 0.5f;
  std::vector<float> packed(kiln::f32_gemm_packed_size(kern->nr, n, k));
  kiln::f32_gemm_pack(kern->nr, n, k, b.data(), static_cast<ptrdiff_t>(n), 1, nullptr, 0, packed.data());
  kiln::F32GemmArgs args;
  args.m = m, args.n = n, args.k = k, args.a = a.data(), args.a_stride = k;
  args.packed_w = packed.data(), args.c = c.data(), args.c_stride = n;
  for (auto _ : state) {
    kiln::f32_gemm(*kern, args);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}

// M x N x K: squares, then recognizer MatMuls (tokens x hidden) and pointwise convs
// (pixels x Cout x Cin).
const std::vector<std::vector<int64_t>> kShapes = {
    {256, 256, 256}, {512, 512, 512}, {40, 120, 120}, {40, 360, 120}, {40, 240, 120}, {40, 120, 240},
    {160, 480, 120}, {80, 6625, 120}, {160, 256, 480}};

const int kRegistered = [] {
  for (const kiln::F32GemmKernel& kern : kiln::f32_gemm_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run_gemm, &kern);
    for (const auto& s : kShapes) b->Args(s);
    b->ArgNames({"M", "N", "K"});
  }
  return 0;
}();

}  // namespace
