// The f32-qc8w depthwise oracle: scalar loops over the packed layout, in the order the
// definition reads (sum of x * q over taps, then * scale + bias, then the clamp).
#include <algorithm>
#include <cstdint>

#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"

namespace kiln {

void f32_qc8w_dwconv_reference(size_t channels, size_t pixels, size_t ks, const float* const* input, const void* w,
                               float* out, size_t out_stride, size_t a_offset, const float* zero,
                               const F32MinMax* params) {
  constexpr size_t ct = kF32QC8WDwconvReferenceCt;
  const size_t tile = ct * 2 * sizeof(float) + ks * ct;
  for (size_t p = 0; p < pixels; ++p, input += ks, out += out_stride)
    for (size_t c = 0; c < channels; ++c) {
      const char* t = static_cast<const char*>(w) + c / ct * tile;
      const float* f = reinterpret_cast<const float*>(t);
      const int8_t* q = reinterpret_cast<const int8_t*>(t + ct * 2 * sizeof(float));
      const size_t j = c % ct;
      double acc = 0;
      for (size_t s = 0; s < ks; ++s) {
        const float* x = input[s] == zero
                             ? zero
                             : reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(input[s]) + a_offset);
        acc += static_cast<double>(x[c]) * q[s * ct + j];
      }
      const float y = static_cast<float>(acc) * f[ct + j] + f[j];
      out[c] = std::min(std::max(y, params->min), params->max);
    }
}

}  // namespace kiln
