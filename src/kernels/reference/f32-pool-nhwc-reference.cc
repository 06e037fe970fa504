// Channels-last 2-D max / average pooling: per output pixel the window is clipped to the
// input once, then every tap is one contiguous run of channels, so the inner loops run
// over C with unit stride (and vectorize).
#include <algorithm>
#include <limits>

#include "kernels/reference/index_util.h"
#include "kernels/reference/reference.h"

namespace kiln {
namespace {

// Calls f(taps, padded_taps, ky_lo, ky_hi, kx_lo, kx_hi, iy0, ix0, yp) for every output
// pixel, with the kernel rows/columns [lo, hi) that fall inside the input and the input
// coordinate of tap (0, 0).
template <class F>
void walk(const PoolGeometry& g, size_t channels, float* y, F f) {
  const int64_t oh = g.out[0], ow = g.out[1];
  for (size_t b = 0; b < g.planes; ++b)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t iy0 = oy * g.stride[0] - g.pad_begin[0];
      int64_t ky_lo, ky_hi, py_lo, py_hi;
      refk::valid_range(g.in[0], g.kernel[0], g.dilation[0], iy0, &ky_lo, &ky_hi);
      refk::valid_range(g.in[0] + g.pad_begin[0] + g.pad_end[0], g.kernel[0], g.dilation[0], iy0 + g.pad_begin[0],
                        &py_lo, &py_hi);
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t ix0 = ox * g.stride[1] - g.pad_begin[1];
        int64_t kx_lo, kx_hi, px_lo, px_hi;
        refk::valid_range(g.in[1], g.kernel[1], g.dilation[1], ix0, &kx_lo, &kx_hi);
        refk::valid_range(g.in[1] + g.pad_begin[1] + g.pad_end[1], g.kernel[1], g.dilation[1], ix0 + g.pad_begin[1],
                          &px_lo, &px_hi);
        float* yp = y + ((static_cast<int64_t>(b) * oh + oy) * ow + ox) * static_cast<int64_t>(channels);
        f(b, (ky_hi - ky_lo) * (kx_hi - kx_lo), (py_hi - py_lo) * (px_hi - px_lo), ky_lo, ky_hi, kx_lo, kx_hi, iy0,
          ix0, yp);
      }
    }
}

}  // namespace

void f32_maxpool_nhwc_reference(const PoolGeometry& g, size_t channels, const float* x, float* y) {
  const int64_t c = static_cast<int64_t>(channels);
  walk(g, channels, y,
       [&](size_t b, int64_t, int64_t, int64_t ky_lo, int64_t ky_hi, int64_t kx_lo, int64_t kx_hi, int64_t iy0,
           int64_t ix0, float* yp) {
         std::fill(yp, yp + c, -std::numeric_limits<float>::infinity());
         for (int64_t ky = ky_lo; ky < ky_hi; ++ky)
           for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
             const int64_t iy = iy0 + ky * g.dilation[0], ix = ix0 + kx * g.dilation[1];
             const float* xp = x + ((static_cast<int64_t>(b) * g.in[0] + iy) * g.in[1] + ix) * c;
             for (int64_t i = 0; i < c; ++i)
               if (xp[i] > yp[i] || xp[i] != xp[i]) yp[i] = xp[i];  // NaN propagates
           }
       });
}

void f32_avgpool_nhwc_reference(const PoolGeometry& g, size_t channels, bool count_include_pad, const float* x,
                                float* y) {
  const int64_t c = static_cast<int64_t>(channels);
  walk(g, channels, y,
       [&](size_t b, int64_t taps, int64_t padded_taps, int64_t ky_lo, int64_t ky_hi, int64_t kx_lo, int64_t kx_hi,
           int64_t iy0, int64_t ix0, float* yp) {
         std::fill(yp, yp + c, 0.f);
         if (taps == 0) return;
         for (int64_t ky = ky_lo; ky < ky_hi; ++ky)
           for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
             const int64_t iy = iy0 + ky * g.dilation[0], ix = ix0 + kx * g.dilation[1];
             const float* xp = x + ((static_cast<int64_t>(b) * g.in[0] + iy) * g.in[1] + ix) * c;
             for (int64_t i = 0; i < c; ++i) yp[i] += xp[i];
           }
         const float n = static_cast<float>(count_include_pad ? padded_taps : taps);
         for (int64_t i = 0; i < c; ++i) yp[i] /= n;
       });
}

}  // namespace kiln
