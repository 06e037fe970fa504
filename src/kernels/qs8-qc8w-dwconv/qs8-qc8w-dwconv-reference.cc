// Scalar qs8-qc8w depthwise convolution on unpacked weights: the ground truth for the
// microkernels (the zero point subtracted per element, no folding, lrintf rounding).
#include <algorithm>
#include <cmath>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"

namespace kiln {

void qs8_dwconv_reference(size_t channels, size_t pixels, size_t ks, const int8_t* const* input, size_t a_offset,
                          const int8_t* zero, int32_t x_zero_point, const int8_t* w, const int32_t* bias,
                          const float* scale, int8_t* out, size_t out_stride, const QS8RequantParams& params) {
  for (size_t p = 0; p < pixels; ++p, input += ks, out += out_stride)
    for (size_t c = 0; c < channels; ++c) {
      // uint32: the kernels' int32 sums wrap; so does this one (never in practice).
      uint32_t acc = bias ? static_cast<uint32_t>(bias[c]) : 0u;
      for (size_t s = 0; s < ks; ++s) {
        const int8_t* x = input[s] == zero ? zero : input[s] + a_offset;
        acc += static_cast<uint32_t>((static_cast<int32_t>(x[c]) - x_zero_point) * w[c * ks + s]);
      }
      out[c] = qs8_requantize(static_cast<int32_t>(acc), scale[c], params);
    }
}

void qs8_dwconv_sums_reference(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                               size_t a_offset, const int8_t* zero, int32_t x_zero_point, const int8_t* w,
                               const int32_t* bias, int32_t* out, size_t out_stride) {
  for (size_t p = 0; p < pixels; ++p, input += ks, out += out_stride)
    for (size_t c = 0; c < channels; ++c) {
      uint32_t acc = bias ? static_cast<uint32_t>(bias[c]) : 0u;
      for (size_t s = 0; s < ks; ++s) {
        const int8_t* x = input[s] == zero ? zero : input[s] + a_offset;
        acc += static_cast<uint32_t>((static_cast<int32_t>(x[c]) - x_zero_point) * w[c * ks + s]);
      }
      out[c] = static_cast<int32_t>(acc);
    }
}

void qs8_dwconv_act_reference(QS8Act act, size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                              size_t a_offset, const int8_t* zero, int32_t x_zero_point, const int8_t* w,
                              const int32_t* bias, const float* in_scale, int8_t* out, size_t out_stride,
                              const QS8ActParams& params) {
  for (size_t p = 0; p < pixels; ++p, input += ks, out += out_stride)
    for (size_t c = 0; c < channels; ++c) {
      uint32_t acc = bias ? static_cast<uint32_t>(bias[c]) : 0u;
      for (size_t s = 0; s < ks; ++s) {
        const int8_t* x = input[s] == zero ? zero : input[s] + a_offset;
        acc += static_cast<uint32_t>((static_cast<int32_t>(x[c]) - x_zero_point) * w[c * ks + s]);
      }
      out[c] = qs8_act_requantize(act, static_cast<int32_t>(acc), in_scale[c], params);
    }
}

}  // namespace kiln
