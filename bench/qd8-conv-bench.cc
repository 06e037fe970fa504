// int8 convolution (kiln.DynamicQuantConv) against float (kiln.NhwcConv) on the layer
// shapes of bench/f32-conv-bench.cc: every qd8-f32-qc8w IGEMM microkernel (image already
// quantized), then the op-facing paths with the quantization included, QD8ConvKernels vs
// NhwcConvKernels, depthwise layers too (the measurement behind keeping depthwise float).
// Names: qd8_f32_qc8w_igemm_4x16c2_avx2/H/W/Cin/Cout/G/K/S, conv_qd8_kernels/..., conv_f32_kernels/...
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"
#include "ops/conv_nhwc_kernels.h"
#include "ops/qd8_conv_kernels.h"

namespace {

std::vector<float> data(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
  return v;
}

std::vector<int8_t> qdata(size_t n, size_t salt) {
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(static_cast<int>((i * 7919 + salt) % 255) - 127);
  return v;
}

// {H, W, Cin, Cout, groups, K, stride}; padding K / 2 on every side.
struct Layer {
  size_t h, w, cin, cout, groups, k, stride;
  explicit Layer(const benchmark::State& s)
      : h(s.range(0)), w(s.range(1)), cin(s.range(2)), cout(s.range(3)), groups(s.range(4)), k(s.range(5)),
        stride(s.range(6)) {}
  kiln::ConvGeometry geometry() const {
    kiln::ConvGeometry g;
    g.groups = groups, g.group_in = cin / groups, g.group_out = cout / groups, g.rank = 2;
    const size_t in[2] = {h, w};
    for (size_t d = 0; d < 2; ++d) {
      g.in[d] = static_cast<int64_t>(in[d]), g.kernel[d] = static_cast<int64_t>(k);
      g.stride[d] = static_cast<int64_t>(stride), g.dilation[d] = 1, g.pad_begin[d] = static_cast<int64_t>(k / 2);
      g.out[d] = static_cast<int64_t>((in[d] + 2 * (k / 2) - k) / stride + 1);
    }
    return g;
  }
  size_t out_pixels() const {
    const kiln::ConvGeometry g = geometry();
    return static_cast<size_t>(g.out[0] * g.out[1]);
  }
  double ops() const { return 2.0 * out_pixels() * cout * (cin / groups) * k * k; }
};

void set_ops(benchmark::State& state, const Layer& l) {
  state.counters["OPS"] = benchmark::Counter(l.ops(), benchmark::Counter::kIsIterationInvariantRate);
}

// One microkernel over a quantized image (group 1), indirection built once.
void run_qd8_igemm(benchmark::State& state, const kiln::QD8IgemmKernel* kern) {
  const Layer l(state);
  const kiln::ConvGeometry g = l.geometry();
  const size_t ks = l.k * l.k;
  std::vector<int8_t> x = qdata(l.h * l.w * l.cin + 16, 1), qw = qdata(l.cout * l.cin * ks, 2);
  const std::vector<float> scale(l.cout, 0.01f), bias = data(l.cout, 3);
  std::vector<int8_t> zero(kiln::qd8_padded_k(l.cin), 3);
  kiln::NhwcConv2dShape s;
  s.in_h = l.h, s.in_w = l.w, s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = s.kernel_w = l.k, s.stride_h = s.stride_w = l.stride, s.pad_top = s.pad_left = l.k / 2;
  s.pixel_stride = l.cin;
  std::vector<const int8_t*> ind(kiln::nhwc_conv_indirection_size(s, kern->mr));
  kiln::nhwc_conv_indirection_init(s, kern->mr, x.data(), zero.data(), ind.data());
  std::vector<int32_t> packed((kiln::qd8_igemm_packed_size(kern->nr, l.cout, l.cin, ks) + 3) / 4);
  kiln::qd8_igemm_pack(kern->nr, l.cout, l.cin, ks, qw.data(), scale.data(), bias.data(), packed.data());
  std::vector<float> y(l.out_pixels() * l.cout);
  kiln::QD8IgemmArgs args;
  args.m = l.out_pixels(), args.n = l.cout, args.kc = l.cin, args.ks = ks, args.indirection = ind.data();
  args.zero = zero.data(), args.quant.zero_point = 3, args.quant.scale = 0.02f, args.packed_w = packed.data();
  args.c = y.data(), args.c_stride = l.cout;
  for (auto _ : state) {
    kiln::qd8_igemm(*kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, l);
}

// kiln.DynamicQuantConv's kernels, quantizing the image every run.
void run_qd8_conv(benchmark::State& state) {
  const Layer l(state);
  const kiln::ConvGeometry g = l.geometry();
  const size_t per = (l.cin / l.groups) * l.k * l.k;
  const std::vector<float> x = data(l.h * l.w * l.cin, 1), bias = data(l.cout, 3), scale(l.cout, 0.01f);
  const std::vector<int8_t> qw = qdata(l.cout * per, 2);
  kiln::QD8ConvKernels kernels;
  kernels.pack(l.groups, l.cin / l.groups, l.cout / l.groups, l.k, l.k, qw.data(), scale.data(), bias.data());
  std::vector<float> y(l.out_pixels() * l.cout);
  for (auto _ : state) {
    kernels.run(g, x.data(), y.data(), kiln::F32MinMax());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, l);
}

// kiln.NhwcConv's kernels on the same layer (float weights).
void run_f32_conv(benchmark::State& state) {
  const Layer l(state);
  const kiln::ConvGeometry g = l.geometry();
  const std::vector<float> x = data(l.h * l.w * l.cin, 1), w = data(l.cout * (l.cin / l.groups) * l.k * l.k, 2);
  const std::vector<float> bias = data(l.cout, 3);
  kiln::NhwcConvKernels kernels;
  if (!kernels.pack(l.groups, l.cin / l.groups, l.cout / l.groups, l.k, l.k, w.data(), bias.data())) {
    state.SkipWithError("no fast kernel");
    return;
  }
  std::vector<float> y(l.out_pixels() * l.cout);
  for (auto _ : state) {
    kernels.run(g, x.data(), y.data(), kiln::F32MinMax());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_ops(state, l);
}

// {H, W, Cin, Cout, groups, K, stride}
const std::vector<std::vector<int64_t>> kIgemmShapes = {
    {56, 56, 32, 64, 1, 3, 1},    // 3x3 32 -> 64 at 56x56
    {28, 28, 64, 64, 1, 3, 1},    // ResNet-style 3x3
    {112, 112, 16, 32, 1, 3, 2},  // stem-like 3x3 stride 2
    {48, 160, 3, 32, 1, 3, 2},    // PP-OCR recognizer stem (3 input channels)
};
const std::vector<std::vector<int64_t>> kOpShapes = {
    {56, 56, 32, 64, 1, 3, 1},      {28, 28, 64, 64, 1, 3, 1}, {56, 56, 64, 128, 1, 1, 1},  // pointwise
    {28, 28, 64, 64, 4, 3, 1},                                                              // grouped
    {112, 112, 32, 32, 32, 3, 1},  {28, 28, 120, 120, 120, 5, 1},                           // depthwise
};

const int kRegistered = [] {
  for (const kiln::QD8IgemmKernel& kern : kiln::qd8_igemm_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run_qd8_igemm, &kern);
    for (const auto& s : kIgemmShapes) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "G", "K", "S"});
  }
  using Fn = void (*)(benchmark::State&);
  const std::pair<const char*, Fn> ops[] = {{"conv_qd8_kernels", run_qd8_conv}, {"conv_f32_kernels", run_f32_conv}};
  for (const auto& [name, fn] : ops) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    for (const auto& s : kOpShapes) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "G", "K", "S"});
  }
  return 0;
}();

}  // namespace
