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

#if defined(KILN_HAVE_SIMD128)
// kiln.wasm: the range with four accumulators (pmin / pmax keep the running value on NaN,
// as std::min / std::max do), then 16 values per step rounded by f32x4.nearest (ties to
// even, as the magic-number rounding below) and narrowed i32 -> i16 -> i8 into one store.
// This pass runs over every activation a dynamically quantized layer reads.
namespace {

void row_range_simd128(const float* row, size_t k, float* lo_out, float* hi_out) {
  v128_t lo0 = wasm_f32x4_splat(0.f), lo1 = lo0, lo2 = lo0, lo3 = lo0;
  v128_t hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
  size_t j = 0;
  for (; j + 16 <= k; j += 16) {
    const v128_t v0 = wasm_v128_load(row + j), v1 = wasm_v128_load(row + j + 4);
    const v128_t v2 = wasm_v128_load(row + j + 8), v3 = wasm_v128_load(row + j + 12);
    lo0 = wasm_f32x4_pmin(lo0, v0), lo1 = wasm_f32x4_pmin(lo1, v1);
    lo2 = wasm_f32x4_pmin(lo2, v2), lo3 = wasm_f32x4_pmin(lo3, v3);
    hi0 = wasm_f32x4_pmax(hi0, v0), hi1 = wasm_f32x4_pmax(hi1, v1);
    hi2 = wasm_f32x4_pmax(hi2, v2), hi3 = wasm_f32x4_pmax(hi3, v3);
  }
  for (; j + 4 <= k; j += 4) {
    const v128_t v = wasm_v128_load(row + j);
    lo0 = wasm_f32x4_pmin(lo0, v), hi0 = wasm_f32x4_pmax(hi0, v);
  }
  const v128_t lo = wasm_f32x4_pmin(wasm_f32x4_pmin(lo0, lo1), wasm_f32x4_pmin(lo2, lo3));
  const v128_t hi = wasm_f32x4_pmax(wasm_f32x4_pmax(hi0, hi1), wasm_f32x4_pmax(hi2, hi3));
  float l = std::min(std::min(wasm_f32x4_extract_lane(lo, 0), wasm_f32x4_extract_lane(lo, 1)),
                     std::min(wasm_f32x4_extract_lane(lo, 2), wasm_f32x4_extract_lane(lo, 3)));
  float h = std::max(std::max(wasm_f32x4_extract_lane(hi, 0), wasm_f32x4_extract_lane(hi, 1)),
                     std::max(wasm_f32x4_extract_lane(hi, 2), wasm_f32x4_extract_lane(hi, 3)));
  for (; j < k; ++j) {
    l = std::min(l, row[j]);
    h = std::max(h, row[j]);
  }
  *lo_out = l, *hi_out = h;
}

// Four lanes: y = x * inv + zp clamped to [-128, 127] (NaN -> -128, as clamp_i8), rounded.
inline v128_t quantize4_simd128(v128_t x, v128_t inv, v128_t zp, v128_t qmin, v128_t qmax) {
  v128_t y = wasm_f32x4_add(wasm_f32x4_mul(x, inv), zp);
  y = wasm_f32x4_pmax(qmin, y);  // qmin < y ? y : qmin: NaN -> qmin
  y = wasm_f32x4_pmin(qmax, y);  // y < qmax ? y : qmax
  return wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(y));
}

// Returns how many values it wrote (a multiple of 16); the caller finishes the rest.
size_t quantize_row_simd128(const float* row, size_t k, float inv_scale, float zero_point, int8_t* out) {
  const v128_t inv = wasm_f32x4_splat(inv_scale), zp = wasm_f32x4_splat(zero_point);
  const v128_t qmin = wasm_f32x4_splat(-128.f), qmax = wasm_f32x4_splat(127.f);
  size_t j = 0;
  for (; j + 16 <= k; j += 16) {
    const v128_t q0 = quantize4_simd128(wasm_v128_load(row + j), inv, zp, qmin, qmax);
    const v128_t q1 = quantize4_simd128(wasm_v128_load(row + j + 4), inv, zp, qmin, qmax);
    const v128_t q2 = quantize4_simd128(wasm_v128_load(row + j + 8), inv, zp, qmin, qmax);
    const v128_t q3 = quantize4_simd128(wasm_v128_load(row + j + 12), inv, zp, qmin, qmax);
    // Values are already in int8 range: the saturating narrows only repack them.
    wasm_v128_store(out + j, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q0, q1), wasm_i16x8_narrow_i32x4(q2, q3)));
  }
  return j;
}

}  // namespace
#endif

void qd8_quantize_rows(size_t m, size_t k, const float* x, size_t x_stride, int8_t* q, size_t q_stride,
                       QD8RowParams* params) {
  const size_t kp = qd8_padded_k(k);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * x_stride;
    float lo, hi;
#if defined(KILN_HAVE_SIMD128)
    row_range_simd128(row, k, &lo, &hi);
#else
    using S = simd::F32x4Vec;  // min/max over the row four lanes at a time
    S::V vlo = S::splat(0.f), vhi = S::splat(0.f);
    size_t r = 0;
    for (; r + 4 <= k; r += 4) {
      const S::V v = S::load(row + r);
      // Operand order keeps the running value on NaN (as the reference's std::min / max).
      vlo = S::min(v, vlo);  // v < vlo ? v : vlo
      vhi = S::max(vhi, v);  // vhi < v ? v : vhi
    }
    lo = std::min(std::min(vlo[0], vlo[1]), std::min(vlo[2], vlo[3]));
    hi = std::max(std::max(vhi[0], vhi[1]), std::max(vhi[2], vhi[3]));
    for (; r < k; ++r) {
      lo = std::min(lo, row[r]);
      hi = std::max(hi, row[r]);
    }
#endif
    const QD8RowParams p = row_params(lo, hi);
    params[i] = p;
    const float inv = 1.f / p.scale, zp = static_cast<float>(p.zero_point);
    int8_t* out = q + i * q_stride;
    size_t j = 0;
#if defined(KILN_HAVE_SIMD128)
    j = quantize_row_simd128(row, k, inv, zp, out);
#endif
    // Round to nearest even by adding and removing 1.5 * 2^23 (no libm call: vectorizes).
    constexpr float kMagic = 12582912.f;
    for (; j < k; ++j) out[j] = static_cast<int8_t>(static_cast<int32_t>((clamp_i8(row[j] * inv + zp) + kMagic) - kMagic));
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
