// Quantizers of the qd8-f32-qc8w family: activations per row at run time (asymmetric,
// the range widened to include 0 so zero padding and ReLU zeros are exact) and weights
// per output column offline (symmetric, so the GEMM needs no weight zero point).
#include <algorithm>
#include <cmath>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

// Scale and zero point from the row's range [lo, hi] (already including 0).
QD8RowParams row_params(float lo, float hi) {
  QD8RowParams p;
  const float scale = (hi - lo) / 255.f;
  if (!(scale > 0.f) || !std::isfinite(scale)) return p;  // constant (or non-finite) row: scale 1, zero point 0
  p.scale = scale;
  const float zp = std::nearbyint(-128.f - lo / scale);
  p.zero_point = static_cast<int32_t>(std::min(127.f, std::max(-128.f, zp)));
  return p;
}

// NaN goes to the low end instead of an undefined float -> int conversion.
inline float clamp_i8(float y) {
  y = y > -128.f ? y : -128.f;
  return y < 127.f ? y : 127.f;
}

}  // namespace

void qd8_quantize_rows_reference(size_t m, size_t k, const float* x, size_t x_stride, int8_t* q, size_t q_stride,
                                 QD8RowParams* params) {
  const size_t kp = qd8_padded_k(k);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    float lo = 0.f, hi = 0.f;
    for (size_t j = 0; j < k; ++j) {
      lo = std::min(lo, row[j]);
      hi = std::max(hi, row[j]);
    }
    const QD8RowParams p = row_params(lo, hi);
    params[i] = p;
    int8_t* out = q + i * q_stride;
    for (size_t j = 0; j < k; ++j)
      out[j] = static_cast<int8_t>(clamp_i8(std::nearbyint(row[j] / p.scale) + static_cast<float>(p.zero_point)));
    for (size_t j = k; j < kp; ++j) out[j] = 0;
  }
}

void qd8_quantize_rows(size_t m, size_t k, const float* x, size_t x_stride, int8_t* q, size_t q_stride,
                       QD8RowParams* params) {
  using S = simd::F32x4Vec;  // min/max over the row four lanes at a time
  const size_t kp = qd8_padded_k(k);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    S::V vlo = S::splat(0.f), vhi = S::splat(0.f);
    size_t j = 0;
    for (; j + 4 <= k; j += 4) {
      const S::V v = S::load(row + j);
      vlo = S::min(vlo, v);
      vhi = S::max(vhi, v);
    }
    float lo = std::min(std::min(vlo[0], vlo[1]), std::min(vlo[2], vlo[3]));
    float hi = std::max(std::max(vhi[0], vhi[1]), std::max(vhi[2], vhi[3]));
    for (; j < k; ++j) {
      lo = std::min(lo, row[j]);
      hi = std::max(hi, row[j]);
    }
    const QD8RowParams p = row_params(lo, hi);
    params[i] = p;
    const float inv = 1.f / p.scale, zp = static_cast<float>(p.zero_point);
    // Round to nearest even by adding and removing 1.5 * 2^23 (no libm call: vectorizes).
    constexpr float kMagic = 12582912.f;
    int8_t* out = q + i * q_stride;
    for (j = 0; j < k; ++j) out[j] = static_cast<int8_t>(static_cast<int32_t>((clamp_i8(row[j] * inv + zp) + kMagic) - kMagic));
    for (; j < kp; ++j) out[j] = 0;
  }
}

void qc8w_quantize_columns(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n, int8_t* q,
                           float* scale) {
  for (size_t j = 0; j < n; ++j) {
    float amax = 0.f;
    for (size_t p = 0; p < k; ++p) amax = std::max(amax, std::fabs(b[static_cast<ptrdiff_t>(p) * stride_k + static_cast<ptrdiff_t>(j) * stride_n]));
    const float s = amax > 0.f && std::isfinite(amax) ? amax / 127.f : 1.f;
    scale[j] = s;
    for (size_t p = 0; p < k; ++p) {
      const float y = std::nearbyint(b[static_cast<ptrdiff_t>(p) * stride_k + static_cast<ptrdiff_t>(j) * stride_n] / s);
      q[p * n + j] = static_cast<int8_t>(y < 127.f ? (y > -127.f ? y : -127.f) : 127.f);
    }
  }
}

}  // namespace kiln
