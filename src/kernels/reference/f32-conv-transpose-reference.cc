// Direct N-D transposed convolution (scatter form): every input element adds
// w * x to the outputs its taps reach; as in the Conv kernel, the valid range along the
// last spatial dim is computed once per (channel pair, tap).
#include "kernels/reference/index_util.h"
#include "kernels/reference/reference.h"

namespace kiln {

using refk::next_index;
using refk::product;
using refk::valid_range;

void f32_conv_transpose_reference(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                                  float* y) {
  const size_t r = g.rank, outer = r - 1;
  const int64_t in_plane = product(g.in, r), out_plane = product(g.out, r), k_size = product(g.kernel, r);
  const int64_t out_last = g.out[outer], in_last = g.in[outer];
  const int64_t s_last = g.stride[outer];
  int64_t out_stride[kMaxSpatialDims];
  out_stride[outer] = 1;
  for (size_t d = outer; d-- > 0;) out_stride[d] = out_stride[d + 1] * g.out[d + 1];

  const size_t channels_out = g.groups * g.group_out;
  for (size_t b = 0; b < g.batch; ++b) {
    for (size_t ch = 0; ch < channels_out; ++ch) {
      float* yp = y + static_cast<int64_t>(b * channels_out + ch) * out_plane;
      const float init = bias ? bias[ch] : 0.f;
      for (int64_t i = 0; i < out_plane; ++i) yp[i] = init;
    }
    if (in_plane == 0 || out_plane == 0) continue;
    for (size_t grp = 0; grp < g.groups; ++grp) {
      for (size_t ic = 0; ic < g.group_in; ++ic) {
        const size_t in_ch = grp * g.group_in + ic;
        const float* xp = x + static_cast<int64_t>(b * g.groups * g.group_in + in_ch) * in_plane;
        for (size_t oc = 0; oc < g.group_out; ++oc) {
          float* yp = y + static_cast<int64_t>(b * channels_out + grp * g.group_out + oc) * out_plane;
          const float* wp = w + static_cast<int64_t>(in_ch * g.group_out + oc) * k_size;
          int64_t kidx[kMaxSpatialDims] = {};
          for (int64_t t = 0; t < k_size; ++t, next_index(kidx, g.kernel, r)) {
            const float wv = wp[t];
            const int64_t off_last = kidx[outer] * g.dilation[outer] - g.pad_begin[outer];
            int64_t lo, hi;
            valid_range(out_last, in_last, s_last, off_last, &lo, &hi);
            if (lo >= hi) continue;
            int64_t iidx[kMaxSpatialDims] = {};
            int64_t row = 0;
            do {
              int64_t out_off = 0;
              bool inside = true;
              for (size_t d = 0; d < outer; ++d) {
                const int64_t c = iidx[d] * g.stride[d] - g.pad_begin[d] + kidx[d] * g.dilation[d];
                if (c < 0 || c >= g.out[d]) { inside = false; break; }
                out_off += c * out_stride[d];
              }
              if (inside) {
                const float* xrow = xp + row * in_last;
                float* yrow = yp + out_off;
                for (int64_t i = lo; i < hi; ++i) yrow[i * s_last + off_last] += wv * xrow[i];
              }
              ++row;
            } while (next_index(iidx, g.in, outer));
          }
        }
      }
    }
  }
}

}  // namespace kiln
