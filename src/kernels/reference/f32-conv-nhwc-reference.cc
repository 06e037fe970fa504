// Direct channels-last 2-D convolution. Per output pixel the clipped kernel window is
// walked once; each tap reads one contiguous run of input channels, and every output
// channel accumulates the dot product of that run with its (strided) weights.
#include "kernels/reference/index_util.h"
#include "kernels/reference/reference.h"

namespace kiln {

using refk::valid_range;

void f32_conv_nhwc_reference(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y) {
  const int64_t ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  const int64_t kh = g.kernel[0], kw = g.kernel[1], k_size = kh * kw;
  const size_t cin = g.groups * g.group_in, cout = g.groups * g.group_out;
  for (size_t b = 0; b < g.batch; ++b) {
    const float* xb = x + static_cast<int64_t>(b * cin) * ih * iw;
    for (int64_t oy = 0; oy < oh; ++oy) {
      // Kernel rows/columns whose input coordinate lies inside the image.
      int64_t ky_lo, ky_hi;
      valid_range(ih, kh, g.dilation[0], oy * g.stride[0] - g.pad_begin[0], &ky_lo, &ky_hi);
      for (int64_t ox = 0; ox < ow; ++ox) {
        int64_t kx_lo, kx_hi;
        valid_range(iw, kw, g.dilation[1], ox * g.stride[1] - g.pad_begin[1], &kx_lo, &kx_hi);
        float* yp = y + ((static_cast<int64_t>(b) * oh + oy) * ow + ox) * static_cast<int64_t>(cout);
        for (size_t c = 0; c < cout; ++c) yp[c] = bias ? bias[c] : 0.f;
        for (int64_t ky = ky_lo; ky < ky_hi; ++ky) {
          const int64_t iy = oy * g.stride[0] - g.pad_begin[0] + ky * g.dilation[0];
          for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
            const int64_t ix = ox * g.stride[1] - g.pad_begin[1] + kx * g.dilation[1];
            const float* xp = xb + (iy * iw + ix) * static_cast<int64_t>(cin);
            const int64_t tap = ky * kw + kx;
            if (g.group_in == 1 && g.group_out == 1) {  // depthwise: one weight per channel and tap
              const float* wp = w + tap;
              for (size_t c = 0; c < cout; ++c) yp[c] += xp[c] * wp[static_cast<int64_t>(c) * k_size];
              continue;
            }
            for (size_t grp = 0; grp < g.groups; ++grp) {
              const float* xg = xp + grp * g.group_in;
              for (size_t oc = 0; oc < g.group_out; ++oc) {
                const size_t ch = grp * g.group_out + oc;
                const float* wp = w + static_cast<int64_t>(ch * g.group_in) * k_size + tap;
                float acc = 0.f;
                for (size_t ic = 0; ic < g.group_in; ++ic) acc += xg[ic] * wp[static_cast<int64_t>(ic) * k_size];
                yp[ch] += acc;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace kiln
