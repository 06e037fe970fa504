// Pooling, softmax and layer-norm kernels on shapes of the target models (BlazeFace max
// pooling, classifier global pooling / 1000-way softmax, OCR recognizer softmax over 6625
// classes and layer norms over 120 / 384 features): every microkernel of this build (names
// follow the kernels), then the op-facing path against the reference kernel it replaced.
// Counter "B/s" / "elems/s": input bytes / elements processed per second.
#include <benchmark/benchmark.h>

#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-layernorm/f32-layernorm.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/reference/reference.h"
#include "ops/nhwc_pool_kernels.h"

namespace {

std::vector<float> data(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
  return v;
}

// {H, W, C, K, stride, pad}: square windows, symmetric padding.
kiln::PoolGeometry pool_geometry(const benchmark::State& s) {
  kiln::PoolGeometry g;
  g.planes = 1, g.rank = 2;
  for (size_t d = 0; d < 2; ++d) {
    g.in[d] = s.range(d), g.kernel[d] = s.range(3), g.stride[d] = s.range(4), g.dilation[d] = 1;
    g.pad_begin[d] = g.pad_end[d] = s.range(5);
    g.out[d] = (g.in[d] + 2 * g.pad_begin[d] - g.kernel[d]) / g.stride[d] + 1;
  }
  return g;
}

void set_pool_rate(benchmark::State& state, const kiln::PoolGeometry& g, size_t c) {
  const double reads = static_cast<double>(g.out[0] * g.out[1] * g.kernel[0] * g.kernel[1]) * c;
  state.counters["elems/s"] = benchmark::Counter(reads, benchmark::Counter::kIsIterationInvariantRate);
}

// kind 0: the op driver (NhwcPoolKernels, max); 1: its average; 2 / 3: the NHWC references.
void run_pool_op(benchmark::State& state, int kind) {
  const kiln::PoolGeometry g = pool_geometry(state);
  const size_t c = static_cast<size_t>(state.range(2));
  const std::vector<float> x = data(static_cast<size_t>(g.in[0] * g.in[1]) * c, 1);
  std::vector<float> y(static_cast<size_t>(g.out[0] * g.out[1]) * c);
  kiln::NhwcPoolKernels op;
  for (auto _ : state) {
    switch (kind) {
      case 0: op.max_pool(g, c, x.data(), y.data()); break;
      case 1: op.average_pool(g, c, false, x.data(), y.data()); break;
      case 2: kiln::f32_maxpool_nhwc_reference(g, c, x.data(), y.data()); break;
      default: kiln::f32_avgpool_nhwc_reference(g, c, false, x.data(), y.data()); break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_pool_rate(state, g, c);
}

template <class K>
void run_pool_kernel(benchmark::State& state, const K* kern) {
  const kiln::PoolGeometry g = pool_geometry(state);
  const size_t c = static_cast<size_t>(state.range(2));
  const std::vector<float> x = data(static_cast<size_t>(g.in[0] * g.in[1]) * c, 1);
  std::vector<float> y(static_cast<size_t>(g.out[0] * g.out[1]) * c);
  // The microkernel alone, through an indirection buffer built once.
  kiln::NhwcConv2dShape s;
  s.in_h = static_cast<size_t>(g.in[0]), s.in_w = static_cast<size_t>(g.in[1]);
  s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = s.kernel_w = static_cast<size_t>(g.kernel[0]), s.stride_h = s.stride_w = static_cast<size_t>(g.stride[0]);
  s.pad_top = s.pad_left = g.pad_begin[0], s.pixel_stride = c;
  std::vector<float> pad(c, 0.f), mult(s.out_h * s.out_w, 1.f / static_cast<float>(g.kernel[0] * g.kernel[1]));
  std::vector<const float*> ind(kiln::nhwc_conv_indirection_size(s, 1));
  kiln::nhwc_conv_indirection_init(s, 1, x.data(), pad.data(), ind.data());
  kiln::F32PoolArgs a;
  a.pixels = s.out_h * s.out_w, a.channels = c, a.ks = s.kernel_h * s.kernel_w, a.indirection = ind.data();
  a.pad = pad.data(), a.multiplier = mult.data(), a.out = y.data(), a.out_stride = c;
  for (auto _ : state) {
    if constexpr (std::is_same_v<K, kiln::F32MaxPoolKernel>) kiln::f32_maxpool_pixels(*kern, a, 0, a.pixels);
    else kiln::f32_avgpool_pixels(*kern, a, 0, a.pixels);
    benchmark::DoNotOptimize(y.data());
  }
  set_pool_rate(state, g, c);
}

// Rows x n: {rows, n}.
void set_row_rate(benchmark::State& state) {
  state.counters["elems/s"] = benchmark::Counter(static_cast<double>(state.range(0) * state.range(1)),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void run_rmax(benchmark::State& state, const kiln::F32RmaxKernel* k) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 2);
  std::vector<float> y(rows);
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r) k->fn(n, x.data() + r * n, &y[r]);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}

void run_rsum(benchmark::State& state, const kiln::F32RsumKernel* k) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 2);
  std::vector<float> y(rows);
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r) k->fn(n, x.data() + r * n, &y[r], 1.f);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}

void run_raddstore(benchmark::State& state, const kiln::F32RaddstoreexpminusmaxKernel* k) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 3);
  std::vector<float> y(rows * n);
  float sum;
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r) k->fn(n, x.data() + r * n, 0.5f, y.data() + r * n, &sum);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}

void run_vmulc(benchmark::State& state, const kiln::F32VopcKernel* k) {
  const size_t rows = state.range(0), n = state.range(1);
  std::vector<float> y = data(rows * n, 4);
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r) k->fn(n, y.data() + r * n, 1.0001f, y.data() + r * n);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}

void run_layernorm(benchmark::State& state, const kiln::F32LayerNormKernel* k) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 5), gamma = data(n, 6), beta = data(n, 7);
  std::vector<float> y(rows * n);
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r)
      k->fn(n, x.data() + r * n, gamma.data(), beta.data(), 1e-5f, y.data() + r * n, nullptr, nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}

// The op paths: default kernels vs the reference each replaced.
void run_softmax_default(benchmark::State& state) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 8);
  std::vector<float> y(rows * n);
  const kiln::F32SoftmaxKernels& k = kiln::f32_softmax_default_kernels();
  for (auto _ : state) {
    for (size_t r = 0; r < rows; ++r) kiln::f32_softmax_row(k, n, x.data() + r * n, y.data() + r * n, false);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}
void run_softmax_reference(benchmark::State& state) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 8);
  std::vector<float> y(rows * n);
  for (auto _ : state) {
    kiln::f32_softmax_reference(rows, n, 1, x.data(), y.data(), false);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}
void run_layernorm_reference(benchmark::State& state) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 5), gamma = data(n, 6), beta = data(n, 7);
  std::vector<float> y(rows * n);
  for (auto _ : state) {
    kiln::f32_layernorm_reference(rows, n, x.data(), gamma.data(), beta.data(), 1e-5f, y.data(), nullptr, nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}
void run_global_avg_reference(benchmark::State& state) {
  const size_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = data(rows * n, 2);
  std::vector<float> y(rows);
  for (auto _ : state) {
    kiln::f32_global_avgpool_reference(rows, n, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_row_rate(state);
}

const std::vector<std::vector<int64_t>> kPoolShapes = {
    {128, 128, 24, 2, 2, 0},  // BlazeFace max pool 2x2/2 before a channel-padded block
    {64, 64, 48, 2, 2, 0},
    {112, 112, 64, 3, 2, 1},  // ResNet stem max pool 3x3/2
    {28, 28, 192, 3, 1, 1},   // Inception-style average pool 3x3/1
    {14, 14, 96, 5, 1, 2},    // 25 taps: three passes
};
// {rows, n}
const std::vector<std::vector<int64_t>> kSoftmaxRows = {{1, 1000}, {80, 6625}, {64, 40}};
const std::vector<std::vector<int64_t>> kNormRows = {{80, 120}, {128, 384}, {1024, 64}};
const std::vector<std::vector<int64_t>> kReduceRows = {{1280, 49}, {512, 196}, {64, 3136}};

template <class K, class Fn>
void register_rows(const std::span<const K>& kernels, Fn fn, const std::vector<std::vector<int64_t>>& shapes) {
  for (const K& k : kernels) {
    auto* b = benchmark::RegisterBenchmark(k.name, fn, &k);
    for (const auto& s : shapes) b->Args(s);
    b->ArgNames({"rows", "n"});
  }
}

const int kRegistered = [] {
  for (const kiln::F32MaxPoolKernel& k : kiln::f32_maxpool_kernels()) {
    auto* b = benchmark::RegisterBenchmark(k.name, run_pool_kernel<kiln::F32MaxPoolKernel>, &k);
    for (const auto& s : kPoolShapes) b->Args(s);
    b->ArgNames({"H", "W", "C", "K", "S", "P"});
  }
  for (const kiln::F32AvgPoolKernel& k : kiln::f32_avgpool_kernels()) {
    auto* b = benchmark::RegisterBenchmark(k.name, run_pool_kernel<kiln::F32AvgPoolKernel>, &k);
    for (const auto& s : kPoolShapes) b->Args(s);
    b->ArgNames({"H", "W", "C", "K", "S", "P"});
  }
  const std::pair<const char*, int> pool_ops[] = {{"nhwc_maxpool_op", 0}, {"nhwc_avgpool_op", 1},
                                                  {"nhwc_maxpool_reference", 2}, {"nhwc_avgpool_reference", 3}};
  for (const auto& [name, kind] : pool_ops) {
    auto* b = benchmark::RegisterBenchmark(name, run_pool_op, kind);
    for (const auto& s : kPoolShapes) b->Args(s);
    b->ArgNames({"H", "W", "C", "K", "S", "P"});
  }
  register_rows(kiln::f32_rmax_kernels(), run_rmax, kReduceRows);
  register_rows(kiln::f32_rsum_kernels(), run_rsum, kReduceRows);
  register_rows(kiln::f32_raddstoreexpminusmax_kernels(), run_raddstore, kSoftmaxRows);
  register_rows(kiln::f32_vmulc_kernels(), run_vmulc, kSoftmaxRows);
  register_rows(kiln::f32_layernorm_kernels(), run_layernorm, kNormRows);
  using Fn = void (*)(benchmark::State&);
  const std::tuple<const char*, Fn, const std::vector<std::vector<int64_t>>*> ops[] = {
      {"softmax_default", run_softmax_default, &kSoftmaxRows},
      {"softmax_reference", run_softmax_reference, &kSoftmaxRows},
      {"layernorm_reference", run_layernorm_reference, &kNormRows},
      {"global_avgpool_reference", run_global_avg_reference, &kReduceRows}};
  for (const auto& [name, fn, shapes] : ops) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    for (const auto& s : *shapes) b->Args(s);
    b->ArgNames({"rows", "n"});
  }
  return 0;
}();

}  // namespace
