// Resize and Transpose: every resize / transposition microkernel of this build through the
// op-facing drivers (ResizeKernels, TransposeNdPlan) against the reference kernels the ops
// ran before (f32_resize_reference; the strided copy). Shapes from the PP-OCR detector's
// neck (nearest x2 / x4 / x8 upsampling of NHWC feature maps) and common bilinear layers.
// Counters: output GB/s (bytes written per second).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "kernels/f32-resize/f32-resize.h"
#include "kernels/x32-transposec/x32-transposec.h"
#include "ops/elementwise.h"
#include "ops/resize_kernels.h"
#include "ops/resize_plan.h"

namespace {

using namespace kiln;

std::vector<float> data(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919) % 113) / 113.f - 0.5f;
  return v;
}

// A resize problem: dims, scales, and the tables the op would build.
struct ResizeProblem {
  Dims x;
  nn::ResizeShape shape;
  nn::ResizeTables tables;
  ResizeProblem(bool nhwc, bool linear, int64_t h, int64_t w, int64_t c, float scale) {
    nn::ResizeConfig cfg;
    cfg.mode = linear ? nn::ResizeMode::kLinear : nn::ResizeMode::kNearest;
    cfg.coord = linear ? nn::CoordMode::kHalfPixel : nn::CoordMode::kAsymmetric;
    cfg.nearest = nn::NearestMode::kFloor;
    x = nhwc ? Dims{1, h, w, c} : Dims{1, c, h, w};
    shape.out = x;
    shape.scales.assign(4, 1.f);
    shape.roi_start.assign(4, 0.f);
    shape.roi_end.assign(4, 1.f);
    const size_t ha = nhwc ? 1 : 2;
    for (size_t a : {ha, ha + 1}) {
      shape.scales[a] = scale;
      shape.out[a] = static_cast<int64_t>(static_cast<float>(x[a]) * scale);
    }
    nn::build_resize_tables(cfg, x, shape, &tables);
  }
  size_t out_elements() const { return static_cast<size_t>(num_elements(shape.out)); }
};

// args: nhwc, linear, H, W, C, scale x 10; kernel index (-1: reference, -2: default).
void resize(benchmark::State& state, int kind, int kernel) {
  const ResizeProblem p(state.range(0) != 0, state.range(1) != 0, state.range(2), state.range(3), state.range(4),
                        static_cast<float>(state.range(5)) / 10.f);
  const std::vector<float> x = data(static_cast<size_t>(num_elements(p.x)));
  std::vector<float> y(p.out_elements());
  ResizeKernels k;
  if (kind == 0 && kernel >= 0) k.set_kernels(&f32_ibilinear_kernels()[kernel], nullptr, nullptr);
  if (kind == 1 && kernel >= 0) k.set_kernels(nullptr, &f32_ibilinear_chw_kernels()[kernel], nullptr);
  if (kind == 2 && kernel >= 0) k.set_kernels(nullptr, nullptr, &x32_igather_kernels()[kernel]);
  if (kernel != -1 && !k.plan(p.x.size(), p.tables.axes.data())) {
    state.SkipWithError("no fast path");
    return;
  }
  for (auto _ : state) {
    if (kernel == -1)
      f32_resize_reference(p.x.size(), p.tables.axes.data(), x.data(), y.data());
    else
      k.run(x.data(), y.data(), 0.f);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(p.out_elements() * sizeof(float)),
                                              benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// Detector neck (NHWC nearest) and bilinear layers (NHWC and NCHW).
void nearest_args(benchmark::internal::Benchmark* b) {
  b->Args({1, 0, 20, 20, 96, 20})->Args({1, 0, 40, 40, 96, 20})->Args({1, 0, 20, 20, 24, 80})
      ->Args({1, 0, 80, 80, 24, 20})->Args({0, 0, 40, 40, 96, 20});
}
void linear_nhwc_args(benchmark::internal::Benchmark* b) {
  b->Args({1, 1, 56, 56, 64, 20})->Args({1, 1, 80, 80, 24, 20})->Args({1, 1, 64, 64, 32, 15});
}
void linear_chw_args(benchmark::internal::Benchmark* b) {
  b->Args({0, 1, 56, 56, 64, 20})->Args({0, 1, 80, 80, 24, 20})->Args({0, 1, 64, 64, 32, 15});
}

// args: element size, then a shape code: 0 NCHW->NHWC [1,3,640,640]; 1 NHWC->NCHW
// [1,80,80,96]; 2 matrix [1024, 1024]; 3 heads [1,64,8,40] (0,2,1,3).
void transpose(benchmark::State& state, int kernel) {
  const size_t es = static_cast<size_t>(state.range(0));
  std::vector<int64_t> dims, perm;
  switch (state.range(1)) {
    case 0: dims = {1, 3, 640, 640}, perm = {0, 2, 3, 1}; break;
    case 1: dims = {1, 80, 80, 96}, perm = {0, 3, 1, 2}; break;
    case 2: dims = {1024, 1024}, perm = {1, 0}; break;
    default: dims = {1, 64, 8, 40}, perm = {0, 2, 1, 3}; break;
  }
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  std::vector<uint8_t> x(n * es, 1), y(n * es);
  const TransposecKernel* k = kernel >= 0 ? &transposec_kernels()[kernel] : nullptr;
  if (k && k->element_size != es) {
    state.SkipWithError("other element size");
    return;
  }
  // The strided copy the Transpose op ran before (kernel == -1).
  Dims size(dims.size());
  std::vector<int64_t> in_stride(dims.size(), 1), stride(dims.size());
  for (size_t i = dims.size(); i-- > 1;) in_stride[i - 1] = in_stride[i] * dims[i];
  for (size_t j = 0; j < dims.size(); ++j)
    size[j] = dims[static_cast<size_t>(perm[j])], stride[j] = in_stride[static_cast<size_t>(perm[j])];
  for (auto _ : state) {
    if (kernel == -1)
      copy_strided(x.data(), size, stride, y.data(), es);
    else
      transpose_nd(es, dims.size(), dims.data(), perm.data(), x.data(), y.data(), k);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(n * es), benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void transpose_args(benchmark::internal::Benchmark* b) {
  for (int shape = 0; shape < 4; ++shape) b->Args({4, shape});
  b->Args({1, 0})->Args({8, 2});
}

int register_all() {
  for (size_t i = 0; i < x32_igather_kernels().size(); ++i)
    benchmark::RegisterBenchmark(x32_igather_kernels()[i].name, resize, 2, static_cast<int>(i))->Apply(nearest_args);
  for (size_t i = 0; i < f32_ibilinear_kernels().size(); ++i)
    benchmark::RegisterBenchmark(f32_ibilinear_kernels()[i].name, resize, 0, static_cast<int>(i))->Apply(linear_nhwc_args);
  for (size_t i = 0; i < f32_ibilinear_chw_kernels().size(); ++i)
    benchmark::RegisterBenchmark(f32_ibilinear_chw_kernels()[i].name, resize, 1, static_cast<int>(i))->Apply(linear_chw_args);
  benchmark::RegisterBenchmark("resize_reference/nearest", resize, 2, -1)->Apply(nearest_args);
  benchmark::RegisterBenchmark("resize_reference/linear_nhwc", resize, 0, -1)->Apply(linear_nhwc_args);
  benchmark::RegisterBenchmark("resize_reference/linear_chw", resize, 1, -1)->Apply(linear_chw_args);
  for (size_t i = 0; i < transposec_kernels().size(); ++i) {
    const TransposecKernel& k = transposec_kernels()[i];
    auto* b = benchmark::RegisterBenchmark(k.name, transpose, static_cast<int>(i));
    for (int shape = 0; shape < 4; ++shape) b->Args({static_cast<int64_t>(k.element_size), shape});
  }
  benchmark::RegisterBenchmark("transpose_nd_default", transpose, -2)->Apply(transpose_args);
  benchmark::RegisterBenchmark("transpose_strided_copy", transpose, -1)->Apply(transpose_args);
  return 0;
}
const int registered = register_all();

}  // namespace
