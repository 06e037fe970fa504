// GFLOP/s of the reference f32 GEMM and convolution on shapes taken from the real models
// (the baseline the SIMD microkernels are measured against).
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/reference/reference.h"

namespace {

void fill(std::vector<float>& v) {
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
}

void f32_gemm_reference(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), k = state.range(2);
  std::vector<float> a(m * k), b(k * n), c(m * n);
  fill(a);
  fill(b);
  for (auto _ : state) {
    kiln::f32_gemm_reference(m, n, k, a.data(), k, 1, b.data(), n, 1, c.data(), n, 1.f, 0.f);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOPS"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
// Square sizes, then recognizer attention/MLP shapes (tokens x hidden x hidden).
BENCHMARK(f32_gemm_reference)->Args({256, 256, 256})->Args({512, 512, 512})
    ->Args({40, 120, 120})->Args({40, 240, 120})->Args({40, 6625, 120});

// 1x1 and 3x3 convolutions as they appear in the OCR detector at 320x320 input.
void f32_conv_reference(benchmark::State& state) {
  kiln::ConvGeometry g;
  const int64_t c_in = state.range(0), c_out = state.range(1), hw = state.range(2), k = state.range(3);
  g.group_in = c_in;
  g.group_out = c_out;
  g.rank = 2;
  for (int d = 0; d < 2; ++d) {
    g.in[d] = g.out[d] = hw;
    g.kernel[d] = k;
    g.stride[d] = g.dilation[d] = 1;
    g.pad_begin[d] = k / 2;
  }
  std::vector<float> x(c_in * hw * hw), w(c_out * c_in * k * k), y(c_out * hw * hw), bias(c_out);
  fill(x);
  fill(w);
  for (auto _ : state) {
    kiln::f32_conv_reference(g, x.data(), w.data(), bias.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * c_in * c_out * hw * hw * k * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(f32_conv_reference)->Args({16, 16, 80, 1})->Args({32, 32, 40, 3})->Args({64, 64, 20, 1});

}  // namespace
