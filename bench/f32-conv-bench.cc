// GFLOP/s of the NHWC convolution kernels on layer shapes of real models (ResNet /
// MobileNet / PP-OCR style): every f32 IGEMM and depthwise microkernel of this build
// through its driver (names follow the kernels: f32_igemm_4x16_avx2/H/W/Cin/Cout/K/S),
// then the op-facing paths: NhwcConvKernels::run against what the NCHW Conv op does
// today (the reference convolution, or for 1x1 layers transposes around the packed GEMM).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/reference/reference.h"
#include "ops/conv_nhwc_kernels.h"
#include "ops/packed_gemm.h"

namespace {

std::vector<float> data(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
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
  kiln::NhwcConv2dShape shape() const {
    const kiln::ConvGeometry g = geometry();
    kiln::NhwcConv2dShape s;
    s.in_h = h, s.in_w = w, s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
    s.kernel_h = s.kernel_w = k, s.stride_h = s.stride_w = stride, s.pad_top = s.pad_left = k / 2;
    s.pixel_stride = cin;
    return s;
  }
  size_t out_pixels() const { return shape().out_h * shape().out_w; }
  double flops() const { return 2.0 * out_pixels() * cout * (cin / groups) * k * k; }
};

void set_flops(benchmark::State& state, const Layer& l) {
  state.counters["FLOPS"] = benchmark::Counter(l.flops(), benchmark::Counter::kIsIterationInvariantRate);
}

void run_igemm(benchmark::State& state, const kiln::F32IgemmKernel* kern) {
  const Layer l(state);
  const kiln::NhwcConv2dShape s = l.shape();
  const std::vector<float> x = data(l.h * l.w * l.cin, 1), w = data(l.cout * l.cin * l.k * l.k, 2);
  std::vector<float> packed(kiln::f32_igemm_packed_size(kern->nr, l.cout, l.cin, l.k * l.k));
  kiln::f32_igemm_pack(kern->nr, l.cout, l.cin, l.k * l.k, w.data(), nullptr, packed.data());
  const std::vector<float> zero(l.cin, 0.f);
  std::vector<const float*> ind(kiln::nhwc_conv_indirection_size(s, kern->mr));
  kiln::nhwc_conv_indirection_init(s, kern->mr, x.data(), zero.data(), ind.data());
  std::vector<float> y(l.out_pixels() * l.cout);
  kiln::F32IgemmArgs args;
  args.m = l.out_pixels(), args.n = l.cout, args.kc = l.cin, args.ks = l.k * l.k, args.indirection = ind.data();
  args.zero = zero.data(), args.packed_w = packed.data(), args.c = y.data(), args.c_stride = l.cout;
  for (auto _ : state) {
    kiln::f32_igemm(*kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, l);
}

void run_dwconv(benchmark::State& state, const kiln::F32DwconvKernel* kern) {
  const Layer l(state);
  const kiln::NhwcConv2dShape s = l.shape();
  const size_t ks = l.k * l.k;
  const std::vector<float> x = data(l.h * l.w * l.cin, 1), w = data(l.cin * ks, 2);
  std::vector<float> packed(kiln::f32_dwconv_packed_size(kern->ct, l.cin, ks));
  kiln::f32_dwconv_pack(kern->ct, l.cin, ks, w.data(), nullptr, packed.data());
  const std::vector<float> zero(l.cin, 0.f);
  std::vector<const float*> ind(kiln::nhwc_conv_indirection_size(s, 1));
  kiln::nhwc_conv_indirection_init(s, 1, x.data(), zero.data(), ind.data());
  std::vector<float> y(l.out_pixels() * l.cin);
  kiln::F32DwconvArgs args;
  args.pixels = l.out_pixels(), args.channels = l.cin, args.ks = ks, args.indirection = ind.data();
  args.zero = zero.data(), args.packed_w = packed.data(), args.out = y.data(), args.out_stride = l.cin;
  for (auto _ : state) {
    kiln::f32_dwconv(*kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, l);
}

// The same depthwise layers with int8 weights (f32-qc8w-dwconv).
void run_qc8w_dwconv(benchmark::State& state, const kiln::F32QC8WDwconvKernel* kern) {
  const Layer l(state);
  const kiln::NhwcConv2dShape s = l.shape();
  const size_t ks = l.k * l.k;
  const std::vector<float> x = data(l.h * l.w * l.cin, 1), w = data(l.cin * ks, 2), scale(l.cin, 1.f / 250.f);
  std::vector<int8_t> q(w.size());
  for (size_t i = 0; i < w.size(); ++i) q[i] = static_cast<int8_t>(w[i] * 250.f);
  std::vector<int32_t> packed(kiln::f32_qc8w_dwconv_packed_size(kern->ct, l.cin, ks) / 4);
  kiln::f32_qc8w_dwconv_pack(kern->ct, l.cin, ks, q.data(), scale.data(), nullptr, packed.data());
  const std::vector<float> zero(l.cin, 0.f);
  std::vector<const float*> ind(kiln::nhwc_conv_indirection_size(s, 1));
  kiln::nhwc_conv_indirection_init(s, 1, x.data(), zero.data(), ind.data());
  std::vector<float> y(l.out_pixels() * l.cin);
  kiln::F32QC8WDwconvArgs args;
  args.pixels = l.out_pixels(), args.channels = l.cin, args.ks = ks, args.indirection = ind.data();
  args.zero = zero.data(), args.packed_w = packed.data(), args.out = y.data(), args.out_stride = l.cin;
  for (auto _ : state) {
    kiln::f32_qc8w_dwconv(*kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, l);
}

// The op-facing NHWC path, indirection cached after the first call.
void run_nhwc_conv(benchmark::State& state) {
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
  set_flops(state, l);
}

// What the NCHW Conv op runs today: a 1x1 group-1 layer transposes X, multiplies by the
// packed weights and transposes Y back; every other layer is the reference convolution.
void run_nchw_conv_today(benchmark::State& state) {
  const Layer l(state);
  const kiln::ConvGeometry g = l.geometry();
  const std::vector<float> x = data(l.h * l.w * l.cin, 1), w = data(l.cout * (l.cin / l.groups) * l.k * l.k, 2);
  const std::vector<float> bias = data(l.cout, 3);
  std::vector<float> y(l.out_pixels() * l.cout);
  if (l.k == 1 && l.stride == 1 && l.groups == 1) {
    kiln::PackedGemmWeights packed;
    packed.pack(l.cout, l.cin, w.data(), 1, static_cast<ptrdiff_t>(l.cin), 1.f, bias.data(), 1);
    const size_t hw = l.h * l.w;
    std::vector<float> xt(hw * l.cin), yt(hw * l.cout);
    for (auto _ : state) {
      kiln::f32_transpose_reference(l.cin, hw, x.data(), hw, xt.data(), l.cin);
      packed.multiply(hw, xt.data(), l.cin, yt.data(), l.cout);
      kiln::f32_transpose_reference(hw, l.cout, yt.data(), l.cout, y.data(), hw);
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  } else {
    for (auto _ : state) {
      kiln::f32_conv_reference(g, x.data(), w.data(), bias.data(), y.data());
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  }
  set_flops(state, l);
}

// {H, W, Cin, Cout, groups, K, stride}
const std::vector<std::vector<int64_t>> kIgemmShapes = {
    {56, 56, 32, 64, 1, 3, 1},    // 3x3 32 -> 64 at 56x56
    {28, 28, 64, 64, 1, 3, 1},    // ResNet-style 3x3
    {112, 112, 16, 32, 1, 3, 2},  // stem-like 3x3 stride 2
    {48, 160, 3, 32, 1, 3, 2},    // PP-OCR recognizer stem (3 input channels)
};
const std::vector<std::vector<int64_t>> kDwconvShapes = {
    {112, 112, 32, 32, 32, 3, 1},  // MobileNet depthwise 3x3 at 112x112x32
    {56, 56, 128, 128, 128, 3, 1},
    {112, 112, 64, 64, 64, 3, 2},
    {28, 28, 120, 120, 120, 5, 1},  // MobileNetV3 5x5
};
const std::vector<std::vector<int64_t>> kOpShapes = {
    {56, 56, 32, 64, 1, 3, 1}, {112, 112, 32, 32, 32, 3, 1}, {28, 28, 120, 120, 120, 5, 1},
    {56, 56, 64, 128, 1, 1, 1},  // pointwise: GEMM on NHWC rows vs transposes + GEMM
    {28, 28, 64, 64, 4, 3, 1},   // grouped
};

const int kRegistered = [] {
  for (const kiln::F32IgemmKernel& kern : kiln::f32_igemm_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run_igemm, &kern);
    for (const auto& s : kIgemmShapes) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "G", "K", "S"});
  }
  for (const kiln::F32DwconvKernel& kern : kiln::f32_dwconv_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run_dwconv, &kern);
    for (const auto& s : kDwconvShapes)
      if (kern.taps == 0 || kern.taps == static_cast<size_t>(s[5] * s[5])) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "G", "K", "S"});
  }
  for (const kiln::F32QC8WDwconvKernel& kern : kiln::f32_qc8w_dwconv_kernels()) {
    auto* b = benchmark::RegisterBenchmark(kern.name, run_qc8w_dwconv, &kern);
    for (const auto& s : kDwconvShapes)
      if (kern.taps == 0 || kern.taps == static_cast<size_t>(s[5] * s[5])) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "G", "K", "S"});
  }
  using Fn = void (*)(benchmark::State&);
  const std::pair<const char*, Fn> ops[] = {{"conv_nhwc_kernels", run_nhwc_conv}, {"conv_nchw_today", run_nchw_conv_today}};
  for (const auto& [name, fn] : ops) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    for (const auto& s : kOpShapes) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "G", "K", "S"});
  }
  return 0;
}();

}  // namespace
