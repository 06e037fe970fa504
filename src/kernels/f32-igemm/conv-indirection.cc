#include "kernels/f32-igemm/conv-indirection.h"

#include <algorithm>

namespace kiln {

size_t nhwc_conv_indirection_size(const NhwcConv2dShape& s, size_t mr) {
  const size_t pixels = s.out_h * s.out_w;
  return (pixels + mr - 1) / mr * mr * s.kernel_h * s.kernel_w;
}

namespace {

// One body for every element type: the pointers step in elements of T.
template <class T>
void init(const NhwcConv2dShape& s, size_t mr, const T* x, const T* zero, const T** out) {
  const size_t pixels = s.out_h * s.out_w, taps = s.kernel_h * s.kernel_w;
  if (pixels == 0) return;
  const size_t tiles = (pixels + mr - 1) / mr;
  for (size_t t = 0; t < tiles; ++t) {
    for (size_t i = 0; i < mr; ++i) {
      const size_t p = std::min(t * mr + i, pixels - 1);
      const ptrdiff_t oy = static_cast<ptrdiff_t>(p / s.out_w), ox = static_cast<ptrdiff_t>(p % s.out_w);
      for (size_t ky = 0; ky < s.kernel_h; ++ky) {
        const ptrdiff_t iy = oy * static_cast<ptrdiff_t>(s.stride_h) - s.pad_top +
                             static_cast<ptrdiff_t>(ky * s.dilation_h);
        for (size_t kx = 0; kx < s.kernel_w; ++kx) {
          const ptrdiff_t ix = ox * static_cast<ptrdiff_t>(s.stride_w) - s.pad_left +
                               static_cast<ptrdiff_t>(kx * s.dilation_w);
          const bool inside = iy >= 0 && iy < static_cast<ptrdiff_t>(s.in_h) && ix >= 0 &&
                              ix < static_cast<ptrdiff_t>(s.in_w);
          out[(t * taps + ky * s.kernel_w + kx) * mr + i] =
              inside ? x + (static_cast<size_t>(iy) * s.in_w + static_cast<size_t>(ix)) * s.pixel_stride : zero;
        }
      }
    }
  }
}

}  // namespace

void nhwc_conv_indirection_init(const NhwcConv2dShape& s, size_t mr, const float* x, const float* zero,
                                const float** out) {
  init(s, mr, x, zero, out);
}

void nhwc_conv_indirection_init(const NhwcConv2dShape& s, size_t mr, const int8_t* x, const int8_t* zero,
                                const int8_t** out) {
  init(s, mr, x, zero, out);
}

}  // namespace kiln
