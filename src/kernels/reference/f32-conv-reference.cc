// Direct N-D convolution. For every (output channel, input channel, kernel tap) the
// valid output range along the last spatial dim is computed once, so the innermost loop
// is a branch-free strided axpy; outer spatial dims are walked with a multi-index. Each
// (image, output channel) plane is computed on its own, so ranges of them can run on
// different threads with the same results.
#include "kernels/reference/index_util.h"
#include "kernels/reference/reference.h"

namespace kiln {

using refk::next_index;
using refk::product;
using refk::valid_range;

void f32_conv_reference(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y) {
  f32_conv_reference_channels(g, x, w, bias, y, 0, g.batch * g.groups * g.group_out);
}

void f32_conv_reference_channels(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y,
                                 size_t begin, size_t end) {
  const size_t r = g.rank, outer = r - 1;
  const int64_t in_plane = product(g.in, r), out_plane = product(g.out, r), k_size = product(g.kernel, r);
  const int64_t out_last = g.out[outer], in_last = g.in[outer];
  const int64_t s_last = g.stride[outer];
  int64_t in_stride[kMaxSpatialDims];  // element strides of the input plane
  in_stride[outer] = 1;
  for (size_t d = outer; d-- > 0;) in_stride[d] = in_stride[d + 1] * g.in[d + 1];

  const size_t channels = g.groups * g.group_out;
  for (size_t unit = begin; unit < end; ++unit) {
    const size_t b = unit / channels, ch = unit % channels, grp = ch / g.group_out;
    float* yp = y + static_cast<int64_t>(b * g.groups * g.group_out + ch) * out_plane;
    const float init = bias ? bias[ch] : 0.f;
    for (int64_t i = 0; i < out_plane; ++i) yp[i] = init;
    if (out_plane == 0) continue;
    for (size_t ic = 0; ic < g.group_in; ++ic) {
      const float* xp = x + static_cast<int64_t>((b * g.groups + grp) * g.group_in + ic) * in_plane;
      const float* wp = w + static_cast<int64_t>(ch * g.group_in + ic) * k_size;
      int64_t kidx[kMaxSpatialDims] = {};
      for (int64_t t = 0; t < k_size; ++t, next_index(kidx, g.kernel, r)) {
        const float wv = wp[t];
        const int64_t off_last = kidx[outer] * g.dilation[outer] - g.pad_begin[outer];
        int64_t lo, hi;
        valid_range(in_last, out_last, s_last, off_last, &lo, &hi);
        if (lo >= hi) continue;
        int64_t oidx[kMaxSpatialDims] = {};
        int64_t row = 0;
        do {
          int64_t in_off = 0;
          bool inside = true;
          for (size_t d = 0; d < outer; ++d) {
            const int64_t c = oidx[d] * g.stride[d] - g.pad_begin[d] + kidx[d] * g.dilation[d];
            if (c < 0 || c >= g.in[d]) { inside = false; break; }
            in_off += c * in_stride[d];
          }
          if (inside) {
            float* yrow = yp + row * out_last;
            const float* xrow = xp + in_off;
            for (int64_t o = lo; o < hi; ++o) yrow[o] += wv * xrow[o * s_last + off_last];
          }
          ++row;
        } while (next_index(oidx, g.out, outer));
      }
    }
  }
}

}  // namespace kiln
