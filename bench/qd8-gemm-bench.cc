// GOP/s of every qd8-f32-qc8w GEMM microkernel of this build at the f32 GEMM benchmark's
// shapes (bench/f32-gemm-bench.cc), so the two compare directly. Each iteration includes
// the per-row quantization of A (part of every kiln.DynamicQuantMatMul run).
// Names follow the kernels: qd8_f32_qc8w_gemm_4x16c2_avx2/M/N/K.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace {

void run_qd8_gemm(benchmark::State& state, const kiln::QD8GemmKernel* kern) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2), kp = kiln::qd8_padded_k(k);
  std::vector<float> a(m * k), b(k * n), w_scale(n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 104729) % 127) / 127.f - 0.5f;
  std::vector<int8_t> qw(k * n), qa(m * kp);
  std::vector<kiln::QD8RowParams> params(m);
  kiln::qc8w_quantize_columns(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, qw.data(), w_scale.data());
  std::vector<int32_t> packed((kiln::qd8_gemm_packed_size(kern->nr, n, k) + 3) / 4);
  kiln::qd8_gemm_pack(kern->nr, n, k, qw.data(), static_cast<ptrdiff_t>(n), 1, w_scale.data(), nullptr, packed.data());
  kiln::QD8GemmArgs args;
  args.m = m, args.n = n, args.k = k, args.qa = qa.data(), args.qa_stride = kp, args.row_params = params.data();
  args.packed_w = packed.data(), args.c = c.data(), args.c_stride = n;
  for (auto _ : state) {
    kiln::qd8_quantize_rows(m, k, a.data(), k, qa.data(), kp, params.data());
    kiln::qd8_gemm(*kern, args);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["OPS"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}

const std::vector<std::vector<int64_t>> kShapes = {
    {256, 256, 256}, {512, 512, 512}, {40, 120, 120}, {40, 360, 120}, {40, 240, 120}, {40, 120, 240},
    {160, 480, 120}, {80, 6625, 120}, {160, 256, 480}};

const int kRegistered = [] {
  for (const kiln::QD8GemmKernel& kern : kiln::qd8_gemm_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run_qd8_gemm, &kern);
    for (const auto& s : kShapes) b->Args(s);
    b->ArgNames({"M", "N", "K"});
  }
  return 0;
}();

}  // namespace
