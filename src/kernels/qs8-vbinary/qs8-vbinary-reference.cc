// The qs8-vbinary oracle: the fake-quant group's float operations, one element at a time
// (the same expressions ops/qlinear_elementwise.cc's reference loops use).
#include <algorithm>
#include <cstring>

#include "kernels/qs8-vbinary/qs8-vbinary.h"

namespace kiln {

void qs8_vbinary_reference(QS8VBinaryOp op, bool scalar_b, size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                           const QS8VBinaryParams& p) {
  const float glo = static_cast<float>(-128 - p.y_zero), ghi = static_cast<float>(127 - p.y_zero);
  for (size_t i = 0; i < n; ++i) {
    const float fa = static_cast<float>(static_cast<int32_t>(a[i]) - p.a_zero) * p.a_scale;
    const float fb = static_cast<float>(static_cast<int32_t>(b[scalar_b ? 0 : i]) - p.b_zero) * p.b_scale;
    const float v = std::min(std::max(op == QS8VBinaryOp::kMul ? fa * fb : fa + fb, p.min), p.max);
    const float t = std::min(std::max(v / p.y_scale, glo), ghi);
    if (t != t) {  // QuantizeLinear: NaN to the zero point
      y[i] = static_cast<int8_t>(p.y_zero);
      continue;
    }
    // Round half to even with the 1.5 * 2^23 trick (|t| < 2^22 after the clamp).
    const float r = t + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &r, sizeof bits);
    y[i] = static_cast<int8_t>(bits - 0x4B400000 + p.y_zero);
  }
}

void qs8_vmulrow_reference(size_t n, const int8_t* x, const float* m, int8_t* y, const QS8VMulRowParams& p) {
  const float glo = static_cast<float>(-128 - p.y_zero), ghi = static_cast<float>(127 - p.y_zero);
  for (size_t i = 0; i < n; ++i) {
    const float t = std::min(std::max(static_cast<float>(static_cast<int32_t>(x[i]) - p.x_zero) * m[i], glo), ghi);
    const float r = t + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &r, sizeof bits);
    y[i] = static_cast<int8_t>(bits - 0x4B400000 + p.y_zero);
  }
}

}  // namespace kiln
