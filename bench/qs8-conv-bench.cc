// int8-in/int8-out convolution (qs8-qc8w IGEMM, what kiln.QLinearNhwcConv runs for group-1
// layers) against the float and the dynamically quantized paths on the same layers:
//  * kernels: every qs8-qc8w IGEMM microkernel, the default f32 IGEMM and the default qd8
//    IGEMM, indirection built once, one image (names qs8_qc8w_igemm_4x16c2_avx2/H/W/...,
//    igemm_f32_default/..., igemm_qd8_default/...);
//  * op paths: QS8ConvNhwc::run (int8 image in, int8 out), NhwcConvKernels (f32) and
//    QD8ConvKernels (f32 in, quantizing the image each run), names conv_qs8_nhwc/...,
//    conv_f32_nhwc/..., conv_qd8_nhwc/...
// Shapes: MobileNet-like 3x3 layers and 1x1 layers. OPS = 2 * multiply-adds.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"
#include "ops/conv_nhwc_kernels.h"
#include "ops/qd8_conv_kernels.h"
#include "ops/qs8_conv_nhwc.h"

namespace {

std::vector<float> fdata(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
  return v;
}

std::vector<int8_t> qdata(size_t n, size_t salt) {
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(static_cast<int>((i * 7919 + salt) % 255) - 127);
  return v;
}

// {H, W, Cin, Cout, K, stride}; padding K / 2 on every side; group 1.
struct Layer {
  size_t h, w, cin, cout, k, stride;
  explicit Layer(const benchmark::State& s)
      : h(s.range(0)), w(s.range(1)), cin(s.range(2)), cout(s.range(3)), k(s.range(4)), stride(s.range(5)) {}
  kiln::ConvGeometry geometry() const {
    kiln::ConvGeometry g;
    g.groups = 1, g.group_in = cin, g.group_out = cout, g.rank = 2;
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
    s.kernel_h = s.kernel_w = k, s.stride_h = s.stride_w = stride;
    s.pad_top = s.pad_left = static_cast<ptrdiff_t>(k / 2), s.pixel_stride = cin;
    return s;
  }
  size_t out_pixels() const {
    const kiln::ConvGeometry g = geometry();
    return static_cast<size_t>(g.out[0] * g.out[1]);
  }
  double ops() const { return 2.0 * out_pixels() * cout * cin * k * k; }
};

void finish(benchmark::State& state, const Layer& l) {
  state.counters["OPS"] = benchmark::Counter(l.ops(), benchmark::Counter::kIsIterationInvariantRate);
}

void run_qs8_igemm(benchmark::State& state, const kiln::QS8IgemmKernel* kern) {
  const Layer l(state);
  const size_t ks = l.k * l.k;
  const std::vector<int8_t> x = qdata(l.h * l.w * l.cin, 1), w = qdata(l.cout * l.cin * ks, 2);
  const std::vector<float> scale(l.cout, 0.0005f);
  const std::vector<int32_t> bias(l.cout, 100);
  const std::vector<int8_t> zero(l.cin, 3);
  const kiln::NhwcConv2dShape s = l.shape();
  std::vector<const int8_t*> ind(kiln::nhwc_conv_indirection_size(s, kern->mr));
  kiln::nhwc_conv_indirection_init(s, kern->mr, x.data(), zero.data(), ind.data());
  std::vector<int32_t> packed((kiln::qs8_igemm_packed_size(kern->nr, l.cout, l.cin, ks) + 3) / 4);
  kiln::qs8_igemm_pack(kern->nr, l.cout, l.cin, ks, 3, w.data(), scale.data(), bias.data(), packed.data());
  std::vector<int8_t> y(l.out_pixels() * l.cout);
  kiln::QS8IgemmArgs args;
  args.m = l.out_pixels(), args.n = l.cout, args.kc = l.cin, args.ks = ks, args.indirection = ind.data();
  args.zero = zero.data(), args.packed_w = packed.data(), args.c = y.data(), args.c_stride = l.cout;
  for (auto _ : state) {
    kiln::qs8_igemm(*kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  finish(state, l);
}

void run_f32_igemm(benchmark::State& state) {
  const Layer l(state);
  const kiln::F32IgemmKernel& kern = kiln::f32_igemm_default_kernel();
  const size_t ks = l.k * l.k;
  const std::vector<float> x = fdata(l.h * l.w * l.cin, 1), w = fdata(l.cout * l.cin * ks, 2), bias = fdata(l.cout, 3);
  const std::vector<float> zero(l.cin, 0.f);
  const kiln::NhwcConv2dShape s = l.shape();
  std::vector<const float*> ind(kiln::nhwc_conv_indirection_size(s, kern.mr));
  kiln::nhwc_conv_indirection_init(s, kern.mr, x.data(), zero.data(), ind.data());
  std::vector<float> packed(kiln::f32_igemm_packed_size(kern.nr, l.cout, l.cin, ks));
  kiln::f32_igemm_pack(kern.nr, l.cout, l.cin, ks, w.data(), bias.data(), packed.data());
  std::vector<float> y(l.out_pixels() * l.cout);
  kiln::F32IgemmArgs args;
  args.m = l.out_pixels(), args.n = l.cout, args.kc = l.cin, args.ks = ks, args.indirection = ind.data();
  args.zero = zero.data(), args.packed_w = packed.data(), args.c = y.data(), args.c_stride = l.cout;
  for (auto _ : state) {
    kiln::f32_igemm(kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  finish(state, l);
}

void run_qd8_igemm(benchmark::State& state) {
  const Layer l(state);
  const kiln::QD8IgemmKernel& kern = kiln::qd8_igemm_default_kernel();
  const size_t ks = l.k * l.k;
  const std::vector<int8_t> x = qdata(l.h * l.w * l.cin + 16, 1), qw = qdata(l.cout * l.cin * ks, 2);
  const std::vector<float> scale(l.cout, 0.01f), bias = fdata(l.cout, 3);
  const std::vector<int8_t> zero(kiln::qd8_padded_k(l.cin) + 8, 3);
  const kiln::NhwcConv2dShape s = l.shape();
  std::vector<const int8_t*> ind(kiln::nhwc_conv_indirection_size(s, kern.mr));
  kiln::nhwc_conv_indirection_init(s, kern.mr, x.data(), zero.data(), ind.data());
  std::vector<int32_t> packed((kiln::qd8_igemm_packed_size(kern.nr, l.cout, l.cin, ks) + 3) / 4);
  kiln::qd8_igemm_pack(kern.nr, l.cout, l.cin, ks, qw.data(), scale.data(), bias.data(), packed.data());
  std::vector<float> y(l.out_pixels() * l.cout);
  kiln::QD8IgemmArgs args;
  args.m = l.out_pixels(), args.n = l.cout, args.kc = l.cin, args.ks = ks, args.indirection = ind.data();
  args.zero = zero.data(), args.quant.zero_point = 3, args.quant.scale = 0.02f, args.packed_w = packed.data();
  args.c = y.data(), args.c_stride = l.cout;
  for (auto _ : state) {
    kiln::qd8_igemm(kern, args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  finish(state, l);
}

void run_qs8_conv(benchmark::State& state) {
  const Layer l(state);
  const std::vector<int8_t> x = qdata(l.h * l.w * l.cin, 1), w = qdata(l.cout * l.cin * l.k * l.k, 2);
  const std::vector<float> w_scale(l.cout, 0.004f);
  const std::vector<int32_t> bias(l.cout, 100);
  kiln::QS8ConvQuant q;
  q.x_scale = 0.05f, q.x_zero_point = 3, q.y_scale = 0.5f, q.y_zero_point = -2;
  kiln::QS8ConvNhwc conv;
  if (!conv.pack(l.cout, l.cin, l.k, l.k, w.data(), w_scale.data(), w_scale.size(), bias.data(), q).ok()) {
    state.SkipWithError("pack failed");
    return;
  }
  std::vector<int8_t> y(l.out_pixels() * l.cout);
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.run(l.geometry(), x.data(), y.data()).ok());
    benchmark::ClobberMemory();
  }
  finish(state, l);
}

void run_f32_conv(benchmark::State& state) {
  const Layer l(state);
  const std::vector<float> x = fdata(l.h * l.w * l.cin, 1), w = fdata(l.cout * l.cin * l.k * l.k, 2);
  const std::vector<float> bias = fdata(l.cout, 3);
  kiln::NhwcConvKernels kernels;
  if (!kernels.pack(1, l.cin, l.cout, l.k, l.k, w.data(), bias.data())) {
    state.SkipWithError("no fast kernel");
    return;
  }
  std::vector<float> y(l.out_pixels() * l.cout);
  for (auto _ : state) {
    kernels.run(l.geometry(), x.data(), y.data(), kiln::F32MinMax());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  finish(state, l);
}

void run_qd8_conv(benchmark::State& state) {
  const Layer l(state);
  const std::vector<float> x = fdata(l.h * l.w * l.cin, 1), bias = fdata(l.cout, 3), scale(l.cout, 0.01f);
  const std::vector<int8_t> qw = qdata(l.cout * l.cin * l.k * l.k, 2);
  kiln::QD8ConvKernels kernels;
  kernels.pack(1, l.cin, l.cout, l.k, l.k, qw.data(), scale.data(), bias.data());
  std::vector<float> y(l.out_pixels() * l.cout);
  for (auto _ : state) {
    kernels.run(l.geometry(), x.data(), y.data(), kiln::F32MinMax());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  finish(state, l);
}

// {H, W, Cin, Cout, K, stride}
const std::vector<std::vector<int64_t>> kShapes = {
    {56, 56, 32, 64, 3, 1},    // 3x3 32 -> 64 at 56x56
    {28, 28, 64, 64, 3, 1},    // 3x3 64 -> 64 at 28x28
    {112, 112, 3, 32, 3, 2},   // MobileNet stem (3 input channels)
    {56, 56, 64, 128, 1, 1},   // 1x1 (MobileNet pointwise)
    {14, 14, 256, 256, 1, 1},  // 1x1, deep
};

const int kRegistered = [] {
  auto shapes = [](benchmark::internal::Benchmark* b) {
    for (const auto& s : kShapes) b->Args(s);
    b->ArgNames({"H", "W", "Cin", "Cout", "K", "S"});
  };
  for (const kiln::QS8IgemmKernel& kern : kiln::qs8_igemm_kernels())
    shapes(benchmark::RegisterBenchmark(kern.name, run_qs8_igemm, &kern));
  using Fn = void (*)(benchmark::State&);
  const std::pair<const char*, Fn> fns[] = {{"igemm_f32_default", run_f32_igemm}, {"igemm_qd8_default", run_qd8_igemm},
                                            {"conv_qs8_nhwc", run_qs8_conv},      {"conv_f32_nhwc", run_f32_conv},
                                            {"conv_qd8_nhwc", run_qd8_conv}};
  for (const auto& [name, fn] : fns) shapes(benchmark::RegisterBenchmark(name, fn));
  return 0;
}();

}  // namespace
