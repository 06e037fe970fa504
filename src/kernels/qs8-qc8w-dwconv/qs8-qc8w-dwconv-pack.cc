// Packs depthwise int8 weights for the qs8-qc8w-dwconv kernels (layout in qs8-qc8w-dwconv.h).
#include <cstring>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"

namespace kiln {

size_t qs8_dwconv_packed_size(size_t ct, size_t channels, size_t ks, size_t kr) {
  const size_t tiles = (channels + ct - 1) / ct, rows = (ks + kr - 1) / kr;
  return tiles * (ct * 8 + rows * kr * ct);
}

void qs8_dwconv_pack(size_t ct, size_t channels, size_t ks, int32_t x_zero_point, const int8_t* w,
                     const int32_t* bias, const float* scale, void* packed, size_t kr) {
  const size_t tap_bytes = (ks + kr - 1) / kr * kr * ct;
  char* out = static_cast<char*>(packed);
  for (size_t c0 = 0; c0 < channels; c0 += ct) {
    int32_t* b = reinterpret_cast<int32_t*>(out);
    float* s = reinterpret_cast<float*>(out + ct * 4);
    int8_t* q = reinterpret_cast<int8_t*>(out + ct * 8);
    std::memset(out, 0, ct * 8 + tap_bytes);  // padded channels and taps: bias 0, scale 0, weights 0
    for (size_t j = 0; j < ct && c0 + j < channels; ++j) {
      const size_t c = c0 + j;
      // sum_s (x - zp) * w = sum_s x * w - zp * sum_s w: the second term is constant.
      int32_t wsum = 0;
      for (size_t t = 0; t < ks; ++t) {
        wsum += w[c * ks + t];
        // Row t / kr holds ct channels x kr taps, channel-major (kr = 1: row t, column j).
        q[(t / kr) * kr * ct + j * kr + t % kr] = w[c * ks + t];
      }
      b[j] = static_cast<int32_t>(static_cast<uint32_t>(bias ? bias[c] : 0) -
                                  static_cast<uint32_t>(x_zero_point) * static_cast<uint32_t>(wsum));
      s[j] = scale[c];
    }
    out += ct * 8 + tap_bytes;
  }
}

}  // namespace kiln
