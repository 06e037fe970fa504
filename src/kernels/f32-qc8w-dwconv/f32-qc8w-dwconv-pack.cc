// Packs int8 depthwise weights W[channels][ks] per channel tile: CT biases, CT scales (both
// float), then ks rows of CT int8 taps; padding channels get bias 0, scale 0, taps 0.
#include <algorithm>
#include <cstring>

#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"

namespace kiln {

size_t f32_qc8w_dwconv_packed_size(size_t ct, size_t channels, size_t ks) {
  const size_t tile = ct * 2 * sizeof(float) + ks * ct;
  return ((channels + ct - 1) / ct * tile + 3) / 4 * 4;
}

void f32_qc8w_dwconv_pack(size_t ct, size_t channels, size_t ks, const int8_t* q, const float* scale,
                          const float* bias, void* packed) {
  char* p = static_cast<char*>(packed);
  for (size_t c0 = 0; c0 < channels; c0 += ct) {
    const size_t cols = std::min(ct, channels - c0);
    float* f = reinterpret_cast<float*>(p);
    for (size_t j = 0; j < ct; ++j) {
      f[j] = (j < cols && bias) ? bias[c0 + j] : 0.f;
      f[ct + j] = j < cols ? scale[c0 + j] : 0.f;
    }
    int8_t* t = reinterpret_cast<int8_t*>(p + ct * 2 * sizeof(float));
    for (size_t s = 0; s < ks; ++s)
      for (size_t j = 0; j < ct; ++j) t[s * ct + j] = j < cols ? q[(c0 + j) * ks + s] : 0;
    p += ct * 2 * sizeof(float) + ks * ct;
  }
  // The size is rounded up to whole words: leave no uninitialized bytes.
  const size_t used = static_cast<size_t>(p - static_cast<char*>(packed));
  std::memset(p, 0, f32_qc8w_dwconv_packed_size(ct, channels, ks) - used);
}

}  // namespace kiln
