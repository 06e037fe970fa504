// Test helpers for the NHWC convolution kernels: random data, and the oracle, which is
// the NCHW reference convolution (f32_conv_reference) over transposed input and output.
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/reference/reference.h"

namespace kiln::testing_nhwc {

inline std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// A rank-2 geometry; pads may differ on every side (the output size implies pad_end).
inline ConvGeometry conv2d(size_t batch, size_t groups, size_t group_in, size_t group_out, size_t h, size_t w,
                           size_t kh, size_t kw, size_t stride, size_t dilation, size_t pad_top, size_t pad_left,
                           size_t pad_bottom, size_t pad_right) {
  ConvGeometry g;
  g.batch = batch, g.groups = groups, g.group_in = group_in, g.group_out = group_out, g.rank = 2;
  const size_t in[2] = {h, w}, k[2] = {kh, kw}, pb[2] = {pad_top, pad_left}, pe[2] = {pad_bottom, pad_right};
  for (size_t d = 0; d < 2; ++d) {
    g.in[d] = static_cast<int64_t>(in[d]);
    g.kernel[d] = static_cast<int64_t>(k[d]);
    g.stride[d] = static_cast<int64_t>(stride);
    g.dilation[d] = static_cast<int64_t>(dilation);
    g.pad_begin[d] = static_cast<int64_t>(pb[d]);
    const int64_t span = static_cast<int64_t>(dilation * (k[d] - 1) + 1);
    const int64_t padded = static_cast<int64_t>(in[d] + pb[d] + pe[d]);
    g.out[d] = padded < span ? 0 : (padded - span) / static_cast<int64_t>(stride) + 1;
  }
  return g;
}

inline size_t plane(const ConvGeometry& g, const int64_t* dims) {
  size_t p = 1;
  for (size_t d = 0; d < g.rank; ++d) p *= static_cast<size_t>(dims[d]);
  return p;
}

// y [N, OH, OW, M] for x [N, H, W, C] and ONNX weights w [M, group_in, kh, kw].
inline std::vector<float> conv_nhwc_oracle(const ConvGeometry& g, const float* x, const float* w, const float* bias) {
  const size_t cin = g.groups * g.group_in, cout = g.groups * g.group_out;
  const size_t hw = plane(g, g.in), ohw = plane(g, g.out);
  std::vector<float> xc(g.batch * cin * hw), yc(g.batch * cout * ohw), y(yc.size());
  for (size_t b = 0; b < g.batch; ++b)
    f32_transpose_reference(hw, cin, x + b * hw * cin, cin, xc.data() + b * cin * hw, hw);
  f32_conv_reference(g, xc.data(), w, bias, yc.data());
  for (size_t b = 0; b < g.batch; ++b)
    f32_transpose_reference(cout, ohw, yc.data() + b * cout * ohw, ohw, y.data() + b * ohw * cout, cout);
  return y;
}

// Clamp bounds at the [1/4, 3/4] quantiles of `values` (so clamping really bites), applied.
inline void clamp_to_quartiles(std::vector<float>& values, float* lo, float* hi) {
  if (values.empty()) return;
  std::vector<float> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  *lo = sorted[sorted.size() / 4];
  *hi = sorted[sorted.size() * 3 / 4];
  for (float& v : values) v = std::min(std::max(v, *lo), *hi);
}

}  // namespace kiln::testing_nhwc
