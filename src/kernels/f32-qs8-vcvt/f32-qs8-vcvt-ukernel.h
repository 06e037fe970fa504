// The f32-qs8-vcvt template (contract in f32-qs8-vcvt.h) over simd/qs8-vcvt.h: groups of 16,
// G per main-loop iteration, the last n % 16 through a zero-padded copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"
#include "kernels/simd/qs8-vcvt.h"

namespace kiln {
namespace {

template <class Q>
inline __attribute__((always_inline)) void f32_qs8_vcvt_group(const float* x, int8_t* y, typename Q::V sc,
                                                               typename Q::V lo, typename Q::V hi, typename Q::V magic,
                                                               int32_t zl, int32_t zero) {
  using S = typename Q::S;
  typename Q::V t[Q::kF], keep[Q::kF];
#pragma GCC unroll 4
  for (size_t f = 0; f < Q::kF; ++f) {
    const typename Q::V q = S::div(S::load(x + f * S::kLanes), sc);
    keep[f] = Q::keep_mask(q);
    t[f] = S::add(Q::clamp(q, lo, hi), magic);
  }
  Q::quantize16_nan(y, t, keep, zl, zero);
}

template <class Q, size_t G>
inline __attribute__((always_inline)) void f32_qs8_vcvt_ukernel(size_t n, const float* x, int8_t* y,
                                                                 const F32QS8CvtParams& p) {
  using S = typename Q::S;
  const typename Q::V sc = S::splat(p.scale), lo = S::splat(static_cast<float>(-128 - p.zero)),
                      hi = S::splat(static_cast<float>(127 - p.zero)), magic = S::splat(12582912.0f);
  const int32_t zl = p.zero - 0x4B400000;
  for (; n >= 16 * G; n -= 16 * G, x += 16 * G, y += 16 * G)
#pragma GCC unroll 4
    for (size_t i = 0; i < G; ++i) f32_qs8_vcvt_group<Q>(x + 16 * i, y + 16 * i, sc, lo, hi, magic, zl, p.zero);
  for (; n >= 16; n -= 16, x += 16, y += 16) f32_qs8_vcvt_group<Q>(x, y, sc, lo, hi, magic, zl, p.zero);
  if (n != 0) {
    alignas(16) float tx[16] = {};
    alignas(16) int8_t ty[16];
    std::memcpy(tx, x, n * sizeof(float));
    f32_qs8_vcvt_group<Q>(tx, ty, sc, lo, hi, magic, zl, p.zero);
    std::memcpy(y, ty, n);
  }
}

}  // namespace
}  // namespace kiln
