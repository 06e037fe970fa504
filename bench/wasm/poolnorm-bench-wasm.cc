// Entry points for bench/wasm-poolnorm.mjs: pooling, row-reduction, softmax and layer-norm
// microkernels of the WASM build and the reference kernels they replace, timed from Node.
// A family number picks the kind of problem (kFamilies below); a kernel index picks the
// microkernel within the family's list.
#include <emscripten/emscripten.h>

#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-layernorm/f32-layernorm.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/reference/reference.h"

namespace {

enum Family {
  kMaxPool, kAvgPool, kRmax, kRsum, kRaddstoreexpminusmax, kVmulc, kLayerNorm,
  kSoftmaxDefault, kSoftmaxReference, kLayerNormReference, kMaxPoolReference, kAvgPoolReference,
};

struct PoolNormProblem {
  int family = 0, kernel = 0;
  size_t rows = 0, n = 0;  // row families
  kiln::PoolGeometry g;    // pooling families
  size_t channels = 0;
  std::vector<float> x, y, gamma, beta, pad, mult;
  std::vector<const float*> ind;
  kiln::F32PoolArgs args;
};

std::vector<float> fill(size_t n, size_t salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919 + salt) % 113) / 113.f - 0.5f;
  return v;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE int kiln_bench_pn_count(int family) {
  switch (family) {
    case kMaxPool: return static_cast<int>(kiln::f32_maxpool_kernels().size());
    case kAvgPool: return static_cast<int>(kiln::f32_avgpool_kernels().size());
    case kRmax: return static_cast<int>(kiln::f32_rmax_kernels().size());
    case kRsum: return static_cast<int>(kiln::f32_rsum_kernels().size());
    case kRaddstoreexpminusmax: return static_cast<int>(kiln::f32_raddstoreexpminusmax_kernels().size());
    case kVmulc: return static_cast<int>(kiln::f32_vmulc_kernels().size());
    case kLayerNorm: return static_cast<int>(kiln::f32_layernorm_kernels().size());
    default: return 1;
  }
}

EMSCRIPTEN_KEEPALIVE const char* kiln_bench_pn_name(int family, int i) {
  switch (family) {
    case kMaxPool: return kiln::f32_maxpool_kernels()[i].name;
    case kAvgPool: return kiln::f32_avgpool_kernels()[i].name;
    case kRmax: return kiln::f32_rmax_kernels()[i].name;
    case kRsum: return kiln::f32_rsum_kernels()[i].name;
    case kRaddstoreexpminusmax: return kiln::f32_raddstoreexpminusmax_kernels()[i].name;
    case kVmulc: return kiln::f32_vmulc_kernels()[i].name;
    case kLayerNorm: return kiln::f32_layernorm_kernels()[i].name;
    case kSoftmaxDefault: return "softmax_default";
    case kSoftmaxReference: return "softmax_reference";
    case kLayerNormReference: return "layernorm_reference";
    case kMaxPoolReference: return "maxpool_nhwc_reference";
    default: return "avgpool_nhwc_reference";
  }
}

// Pooling families: (h, w, channels, k, stride, pad); row families: (rows, n).
EMSCRIPTEN_KEEPALIVE PoolNormProblem* kiln_bench_pn_create(int family, int kernel, int a, int b, int c, int k,
                                                           int stride, int pad) {
  auto* p = new PoolNormProblem;
  p->family = family, p->kernel = kernel;
  const bool pool = family == kMaxPool || family == kAvgPool || family == kMaxPoolReference || family == kAvgPoolReference;
  if (!pool) {
    p->rows = static_cast<size_t>(a), p->n = static_cast<size_t>(b);
    p->x = fill(p->rows * p->n, 1), p->y.resize(p->rows * p->n);
    p->gamma = fill(p->n, 2), p->beta = fill(p->n, 3);
    return p;
  }
  kiln::PoolGeometry& g = p->g;
  g.planes = 1, g.rank = 2;
  const int in[2] = {a, b};
  for (size_t d = 0; d < 2; ++d) {
    g.in[d] = in[d], g.kernel[d] = k, g.stride[d] = stride, g.dilation[d] = 1, g.pad_begin[d] = g.pad_end[d] = pad;
    g.out[d] = (g.in[d] + 2 * pad - k) / stride + 1;
  }
  p->channels = static_cast<size_t>(c);
  p->x = fill(static_cast<size_t>(a * b * c), 1);
  p->y.resize(static_cast<size_t>(g.out[0] * g.out[1] * c));
  kiln::NhwcConv2dShape s;
  s.in_h = a, s.in_w = b, s.out_h = g.out[0], s.out_w = g.out[1], s.kernel_h = s.kernel_w = k;
  s.stride_h = s.stride_w = stride, s.pad_top = s.pad_left = pad, s.pixel_stride = c;
  p->pad.assign(c, 0.f);
  p->mult.assign(s.out_h * s.out_w, 1.f / static_cast<float>(k * k));
  p->ind.resize(kiln::nhwc_conv_indirection_size(s, 1));
  kiln::nhwc_conv_indirection_init(s, 1, p->x.data(), p->pad.data(), p->ind.data());
  kiln::F32PoolArgs& args = p->args;
  args.pixels = s.out_h * s.out_w, args.channels = c, args.ks = k * k, args.indirection = p->ind.data();
  args.pad = p->pad.data(), args.multiplier = p->mult.data(), args.out = p->y.data(), args.out_stride = c;
  return p;
}

EMSCRIPTEN_KEEPALIVE float kiln_bench_pn_run(PoolNormProblem* p, int reps) {
  const size_t rows = p->rows, n = p->n;
  const float* x = p->x.data();
  float* y = p->y.data();
  float s = 0;
  for (int r = 0; r < reps; ++r) {
    switch (p->family) {
      case kMaxPool: kiln::f32_maxpool_pixels(kiln::f32_maxpool_kernels()[p->kernel], p->args, 0, p->args.pixels); break;
      case kAvgPool: kiln::f32_avgpool_pixels(kiln::f32_avgpool_kernels()[p->kernel], p->args, 0, p->args.pixels); break;
      case kMaxPoolReference: kiln::f32_maxpool_nhwc_reference(p->g, p->channels, x, y); break;
      case kAvgPoolReference: kiln::f32_avgpool_nhwc_reference(p->g, p->channels, false, x, y); break;
      case kRmax:
        for (size_t i = 0; i < rows; ++i) kiln::f32_rmax_kernels()[p->kernel].fn(n, x + i * n, y + i);
        break;
      case kRsum:
        for (size_t i = 0; i < rows; ++i) kiln::f32_rsum_kernels()[p->kernel].fn(n, x + i * n, y + i, 1.f);
        break;
      case kRaddstoreexpminusmax:
        for (size_t i = 0; i < rows; ++i)
          kiln::f32_raddstoreexpminusmax_kernels()[p->kernel].fn(n, x + i * n, 0.5f, y + i * n, &s);
        break;
      case kVmulc:
        for (size_t i = 0; i < rows; ++i) kiln::f32_vmulc_kernels()[p->kernel].fn(n, x + i * n, 1.0001f, y + i * n);
        break;
      case kLayerNorm:
        for (size_t i = 0; i < rows; ++i)
          kiln::f32_layernorm_kernels()[p->kernel].fn(n, x + i * n, p->gamma.data(), p->beta.data(), 1e-5f, y + i * n,
                                                      nullptr, nullptr);
        break;
      case kSoftmaxDefault:
        for (size_t i = 0; i < rows; ++i)
          kiln::f32_softmax_row(kiln::f32_softmax_default_kernels(), n, x + i * n, y + i * n, false);
        break;
      case kSoftmaxReference: kiln::f32_softmax_reference(rows, n, 1, x, y, false); break;
      case kLayerNormReference:
        kiln::f32_layernorm_reference(rows, n, x, p->gamma.data(), p->beta.data(), 1e-5f, y, nullptr, nullptr);
        break;
    }
    s += y[0];
  }
  return s;
}

EMSCRIPTEN_KEEPALIVE void kiln_bench_pn_destroy(PoolNormProblem* p) { delete p; }

}  // extern "C"
