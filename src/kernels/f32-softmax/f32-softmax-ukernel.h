// Templates of the softmax passes (contract in f32-softmax.h) and the vector exp they share.
//
// exp(x) for x <= 0 (x - max): n = round(x / ln2) by the magic-bias trick (adding
// 1.5 * 2^23 + 127 leaves n + 127 in the low mantissa bits, and shifting those bits into
// the exponent field gives s = 2^n), t = x - n * ln2 in two steps (Cody-Waite: ln2_hi has
// few bits so n * ln2_hi is exact), |t| <= ln2 / 2, then exp(t) ~ 1 + t * p(t) with p of
// degree 4 (least-squares fit of the relative error on [-ln2/2, ln2/2], polynomial error
// 2.0e-7), result s + (s * t) * p. Lanes with x < -87.3365 (exp < 2^-126, where 2^n would
// need a subnormal exponent) are set to +0. Measured against double-precision exp over
// x in [-87.3, 0] (tests/native/f32_softmax_test.cc): relative error < 4e-7 (about 3 ulp)
// natively (FMA) and in WASM (separate mul and add). NaN propagates; -inf gives 0.
#pragma once
#include <cstddef>

#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/simd/f32-arith.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

template <class S>
inline __attribute__((always_inline)) typename S::V f32_vexp_nonpos(typename S::V x) {
  using A = simd::F32Arith<S>;
  const auto magic = S::splat(12582912.f + 127.f);  // 0x1.8p23 + 127
  const auto log2e = S::splat(1.44269502f);
  const auto minus_ln2_hi = S::splat(-0.693145751953125f);
  const auto minus_ln2_lo = S::splat(-1.42860677e-06f);
  const auto cutoff = S::splat(-87.3365479f);  // ln(2^-126)
  const auto c1 = S::splat(0.999999642f), c2 = S::splat(0.499993086f), c3 = S::splat(0.166679382f),
             c4 = S::splat(0.0418773964f), c5 = S::splat(0.00826042611f);
  auto vn = S::muladd(x, log2e, magic);
  const auto s = A::shl23(vn);
  vn = A::sub(vn, magic);
  auto t = S::muladd(vn, minus_ln2_hi, x);
  t = S::muladd(vn, minus_ln2_lo, t);
  auto p = S::muladd(c5, t, c4);
  p = S::muladd(p, t, c3);
  p = S::muladd(p, t, c2);
  p = S::muladd(p, t, c1);
  const auto st = A::mul(s, t);
  return A::zero_below(x, cutoff, S::muladd(st, p, s));
}

template <class S, size_t NV>
inline __attribute__((always_inline)) void f32_raddstoreexpminusmax_ukernel(size_t n, const float* x, float max,
                                                                            float* y, float* sum) {
  using V = typename S::V;
  using A = simd::F32Arith<S>;
  constexpr size_t L = S::kLanes, T = NV * L;
  const V vmax = S::splat(max);
  V acc[NV];
#pragma GCC unroll 8
  for (size_t v = 0; v < NV; ++v) acc[v] = S::splat(0.f);
  size_t i = 0;
  for (; i + T <= n; i += T) {
#pragma GCC unroll 8
    for (size_t v = 0; v < NV; ++v) {
      const V e = f32_vexp_nonpos<S>(A::sub(S::load(x + i + v * L), vmax));
      S::store(y + i + v * L, e);
      acc[v] = A::add(acc[v], e);
    }
  }
  for (; i + L <= n; i += L) {
    const V e = f32_vexp_nonpos<S>(A::sub(S::load(x + i), vmax));
    S::store(y + i, e);
    acc[0] = A::add(acc[0], e);
  }
  if (i < n) {  // the last < L elements through a lane buffer (-inf pads: exp = 0)
    float buf[L];
    for (size_t l = 0; l < L; ++l) buf[l] = i + l < n ? x[i + l] : -__builtin_inff();
    const V e = f32_vexp_nonpos<S>(A::sub(S::load(buf), vmax));
    S::store(buf, e);
    for (size_t l = 0; i + l < n; ++l) y[i + l] = buf[l];
    acc[0] = A::add(acc[0], e);
  }
#pragma GCC unroll 8
  for (size_t w = 1; w < NV; w *= 2)
#pragma GCC unroll 8
    for (size_t v = 0; v + w < NV; v += 2 * w) acc[v] = A::add(acc[v], acc[v + w]);
  float lanes[L];
  S::store(lanes, acc[0]);
  float s = 0.f;
  for (size_t l = 0; l < L; ++l) s += lanes[l];
  *sum = s;
}

// y = x * c (kMul) or x + c.
template <class S, size_t NV, bool kMul>
inline __attribute__((always_inline)) void f32_vopc_ukernel(size_t n, const float* x, float c, float* y) {
  using V = typename S::V;
  using A = simd::F32Arith<S>;
  constexpr size_t L = S::kLanes, T = NV * L;
  const V vc = S::splat(c);
  auto op = [](V a, V b) {
    if constexpr (kMul) return A::mul(a, b);
    else return A::add(a, b);
  };
  size_t i = 0;
  for (; i + T <= n; i += T) {
    V v[NV];
#pragma GCC unroll 8
    for (size_t j = 0; j < NV; ++j) v[j] = op(S::load(x + i + j * L), vc);
#pragma GCC unroll 8
    for (size_t j = 0; j < NV; ++j) S::store(y + i + j * L, v[j]);
  }
  for (; i + L <= n; i += L) S::store(y + i, op(S::load(x + i), vc));
  for (; i < n; ++i) y[i] = kMul ? x[i] * c : x[i] + c;
}

}  // namespace
}  // namespace kiln
