// The f32-qs8-vcvt oracle: QuantizeLinear's per-tensor int8 formula, one value at a time.
#include <algorithm>
#include <cstring>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"

namespace kiln {

void f32_qs8_vcvt_reference(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& p) {
  const float lo = static_cast<float>(-128 - p.zero), hi = static_cast<float>(127 - p.zero);
  for (size_t i = 0; i < n; ++i) {
    const float t = std::min(std::max(x[i] / p.scale, lo), hi);
    if (t != t) {
      y[i] = static_cast<int8_t>(p.zero);
      continue;
    }
    const float r = t + 12582912.0f;  // round half to even (|t| <= 255)
    int32_t bits;
    std::memcpy(&bits, &r, sizeof bits);
    y[i] = static_cast<int8_t>(bits - 0x4B400000 + p.zero);
  }
}

}  // namespace kiln
