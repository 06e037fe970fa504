// WASM entry points for bench/wasm-resize-transpose.mjs: the resize microkernels through
// ResizeKernels and the transposition kernels through TransposeNdPlan, against the
// reference resize kernel and a plain strided copy (what the ops ran before).
#include <emscripten/emscripten.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/f32-resize/f32-resize.h"
#include "kernels/reference/reference.h"
#include "kernels/x32-transposec/x32-transposec.h"
#include "ops/resize_kernels.h"

namespace {

using namespace kiln;

// Tables of one axis: nearest (asymmetric, floor) or linear (half_pixel), as the op builds.
struct Axis {
  std::vector<int64_t> index;
  std::vector<float> weight;
  ResizeAxis axis;
  Axis(int64_t in, int64_t out, bool linear) {
    const float scale = static_cast<float>(out) / static_cast<float>(in);
    for (int64_t o = 0; o < out; ++o) {
      if (in == out) {
        index.push_back(o), weight.push_back(1.f);
      } else if (!linear) {
        index.push_back(std::min<int64_t>(in - 1, static_cast<int64_t>(std::floor(static_cast<float>(o) / scale))));
        weight.push_back(1.f);
      } else {
        const float xs = std::min(std::max((static_cast<float>(o) + 0.5f) / scale - 0.5f, 0.f), static_cast<float>(in - 1));
        const int64_t x0 = static_cast<int64_t>(std::floor(xs));
        index.push_back(x0), index.push_back(std::min(x0 + 1, in - 1));
        weight.push_back(1.f - (xs - static_cast<float>(x0))), weight.push_back(xs - static_cast<float>(x0));
      }
    }
    axis.in_size = in, axis.out_size = out, axis.taps = in != out && linear ? 2 : 1;
    axis.index = index.data(), axis.weight = weight.data();
  }
};

struct ResizeBench {
  std::vector<Axis> axes;
  std::vector<ResizeAxis> raw;
  std::vector<float> x, y;
  ResizeKernels plan;
  bool reference = false;
};

struct TransposeBench {
  std::vector<int64_t> dims, perm;
  std::vector<uint8_t> x, y;
  size_t es = 4;
  const TransposecKernel* kernel = nullptr;  // null: default
  bool strided = false;
};

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE int kiln_bench_resize_kernel_count(int kind) {
  return static_cast<int>(kind == 0 ? f32_ibilinear_kernels().size()
                                    : kind == 1 ? f32_ibilinear_chw_kernels().size() : x32_igather_kernels().size());
}
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_resize_kernel_name(int kind, int i) {
  return kind == 0 ? f32_ibilinear_kernels()[i].name
                   : kind == 1 ? f32_ibilinear_chw_kernels()[i].name : x32_igather_kernels()[i].name;
}

// kind: 0 ibilinear, 1 ibilinear-chw, 2 igather; kernel -1: the reference kernel.
// NHWC [1, h, w, c] (or NCHW [1, c, h, w]) resized by scale10 / 10 on H and W.
EMSCRIPTEN_KEEPALIVE void* kiln_bench_resize_create(int kind, int kernel, int nhwc, int linear, int h, int w, int c,
                                                    int scale10) {
  auto* b = new ResizeBench;
  const int oh = h * scale10 / 10, ow = w * scale10 / 10;
  b->axes.emplace_back(1, 1, false);
  if (!nhwc) b->axes.emplace_back(c, c, false);
  b->axes.emplace_back(h, oh, linear != 0);
  b->axes.emplace_back(w, ow, linear != 0);
  if (nhwc) b->axes.emplace_back(c, c, false);
  for (Axis& a : b->axes) b->raw.push_back(a.axis);
  b->x.assign(static_cast<size_t>(h * w * c), 0.25f);
  b->y.assign(static_cast<size_t>(oh * ow * c), 0.f);
  b->reference = kernel < 0;
  if (kind == 0 && kernel >= 0) b->plan.set_kernels(&f32_ibilinear_kernels()[kernel], nullptr, nullptr);
  if (kind == 1 && kernel >= 0) b->plan.set_kernels(nullptr, &f32_ibilinear_chw_kernels()[kernel], nullptr);
  if (kind == 2 && kernel >= 0) b->plan.set_kernels(nullptr, nullptr, &x32_igather_kernels()[kernel]);
  if (!b->plan.plan(b->raw.size(), b->raw.data())) b->reference = true;
  return b;
}
EMSCRIPTEN_KEEPALIVE void kiln_bench_resize_run(void* p, int reps) {
  auto* b = static_cast<ResizeBench*>(p);
  for (int r = 0; r < reps; ++r) {
    if (b->reference)
      f32_resize_reference(b->raw.size(), b->raw.data(), b->x.data(), b->y.data());
    else
      b->plan.run(b->x.data(), b->y.data(), 0.f);
  }
}
EMSCRIPTEN_KEEPALIVE double kiln_bench_resize_bytes(void* p) {
  return static_cast<double>(static_cast<ResizeBench*>(p)->y.size() * sizeof(float));
}
EMSCRIPTEN_KEEPALIVE void kiln_bench_resize_destroy(void* p) { delete static_cast<ResizeBench*>(p); }

EMSCRIPTEN_KEEPALIVE int kiln_bench_transposec_count() { return static_cast<int>(transposec_kernels().size()); }
EMSCRIPTEN_KEEPALIVE const char* kiln_bench_transposec_name(int i) { return transposec_kernels()[i].name; }
EMSCRIPTEN_KEEPALIVE int kiln_bench_transposec_element_size(int i) {
  return static_cast<int>(transposec_kernels()[i].element_size);
}

// shape: 0 NCHW->NHWC [1,3,640,640]; 1 NHWC->NCHW [1,80,80,96]; 2 [1024,1024] matrix;
// 3 heads [1,64,8,40] (0,2,1,3). kernel -1: default; -2: the strided copy.
EMSCRIPTEN_KEEPALIVE void* kiln_bench_transpose_create(int kernel, int es, int shape) {
  auto* b = new TransposeBench;
  switch (shape) {
    case 0: b->dims = {1, 3, 640, 640}, b->perm = {0, 2, 3, 1}; break;
    case 1: b->dims = {1, 80, 80, 96}, b->perm = {0, 3, 1, 2}; break;
    case 2: b->dims = {1024, 1024}, b->perm = {1, 0}; break;
    default: b->dims = {1, 64, 8, 40}, b->perm = {0, 2, 1, 3}; break;
  }
  b->es = static_cast<size_t>(es);
  size_t n = 1;
  for (int64_t d : b->dims) n *= static_cast<size_t>(d);
  b->x.assign(n * b->es, 1), b->y.assign(n * b->es, 0);
  b->kernel = kernel >= 0 ? &transposec_kernels()[kernel] : nullptr;
  b->strided = kernel == -2;
  return b;
}
EMSCRIPTEN_KEEPALIVE void kiln_bench_transpose_run(void* p, int reps) {
  auto* b = static_cast<TransposeBench*>(p);
  const size_t r = b->dims.size(), es = b->es;
  for (int rep = 0; rep < reps; ++rep) {
    if (!b->strided) {
      transpose_nd(es, r, b->dims.data(), b->perm.data(), b->x.data(), b->y.data(), b->kernel);
      continue;
    }
    // Element-by-element with an odometer: the shape of the op's old strided copy.
    std::vector<int64_t> in_stride(r, 1), idx(r, 0);
    for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * b->dims[i];
    const size_t n = b->x.size() / es;
    for (size_t o = 0; o < n; ++o) {
      int64_t off = 0;
      for (size_t j = 0; j < r; ++j) off += idx[j] * in_stride[static_cast<size_t>(b->perm[j])];
      std::memcpy(&b->y[o * es], &b->x[static_cast<size_t>(off) * es], es);
      for (size_t j = r; j-- > 0;) {
        if (++idx[j] < b->dims[static_cast<size_t>(b->perm[j])]) break;
        idx[j] = 0;
      }
    }
  }
}
EMSCRIPTEN_KEEPALIVE double kiln_bench_transpose_bytes(void* p) {
  return static_cast<double>(static_cast<TransposeBench*>(p)->x.size());
}
EMSCRIPTEN_KEEPALIVE void kiln_bench_transpose_destroy(void* p) { delete static_cast<TransposeBench*>(p); }

}  // extern "C"
