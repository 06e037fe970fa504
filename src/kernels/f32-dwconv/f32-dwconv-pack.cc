// Packs depthwise weights W[channels][ks] per channel tile: CT biases, then ks rows of CT.
#include <algorithm>

#include "kernels/f32-dwconv/f32-dwconv.h"

namespace kiln {

size_t f32_dwconv_packed_size(size_t ct, size_t channels, size_t ks) {
  return (channels + ct - 1) / ct * ct * (ks + 1);
}

void f32_dwconv_pack(size_t ct, size_t channels, size_t ks, const float* w, const float* bias, float* packed) {
  for (size_t c0 = 0; c0 < channels; c0 += ct) {
    const size_t cols = std::min(ct, channels - c0);
    for (size_t j = 0; j < ct; ++j) packed[j] = (j < cols && bias) ? bias[c0 + j] : 0.f;
    for (size_t s = 0; s < ks; ++s)
      for (size_t j = 0; j < ct; ++j) packed[(s + 1) * ct + j] = j < cols ? w[(c0 + j) * ks + s] : 0.f;
    packed += ct * (ks + 1);
  }
}

}  // namespace kiln
