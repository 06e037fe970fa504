// Vector elementwise math over the thin SIMD layer (f32-vec.h): exp, sigmoid, tanh, erf
// and the activations built from them. Written once as templates on the ISA struct S, so
// the f32-vunary microkernels (and later softmax) share one implementation per function.
// The formulas are the scalar ones of src/ops/fast_math.h; the measured max errors per
// kernel are in src/kernels/README.md and asserted by tests/native/f32_vunary_test.cc.
//
// NaN: the min/max of the ISA structs differ in which operand a NaN yields (maxps returns
// the second), so every function that clamps restores NaN inputs at the end.
#pragma once
#include <cstdint>

#include "kernels/simd/f32-vec.h"

namespace kiln::simd {

template <class S>
inline typename S::V vclamp(typename S::V x, float lo, float hi) {
  return S::min(S::max(x, S::splat(lo)), S::splat(hi));
}

template <class S>
inline typename S::V vkeep_nan(typename S::V x, typename S::V y) {
  return S::select(S::is_nan(x), x, y);
}

// exp(x): x = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial and 2^n built in
// the exponent bits, in two factors so n = 128 (x up to ln(FLT_MAX)) stays finite. Below
// -87.34 the result would be under FLT_MIN: 0 (denormal results are flushed). Above
// 88.72: +inf. NaN stays NaN.
template <class S>
inline typename S::V vexp(typename S::V x) {
  using V = typename S::V;
  using I = typename S::I;
  constexpr float kLo = -87.336544f, kHi = 88.72283f;
  const V xc = vclamp<S>(x, kLo, kHi);
  // n = round(xc / ln2) with the 1.5 * 2^23 trick: the integer lands in the low mantissa bits.
  const V magic = S::splat(12582912.f);
  const V t = S::muladd(xc, S::splat(1.44269504088896341f), magic);
  const V n = S::sub(t, magic);
  const I ni = S::isub(S::as_int(t), S::as_int(magic));
  // ln2 in a short high part (exact n * hi for |n| <= 128) and a correction.
  V r = S::muladd(n, S::splat(-0.693359375f), xc);
  r = S::muladd(n, S::splat(2.12194440e-4f), r);
  V p = S::splat(1.f / 720.f);
  p = S::muladd(p, r, S::splat(1.f / 120.f));
  p = S::muladd(p, r, S::splat(1.f / 24.f));
  p = S::muladd(p, r, S::splat(1.f / 6.f));
  p = S::muladd(p, r, S::splat(0.5f));
  p = S::muladd(p, r, S::splat(1.f));
  p = S::muladd(p, r, S::splat(1.f));
  const I n1 = S::template sra<1>(ni), n2 = S::isub(ni, n1);
  const I bias = S::isplat(127);
  const V s1 = S::as_float(S::template shl<23>(S::iadd(n1, bias)));
  const V s2 = S::as_float(S::template shl<23>(S::iadd(n2, bias)));
  V y = S::mul(S::mul(p, s1), s2);
  y = S::select(S::lt(x, S::splat(kLo)), S::splat(0.f), y);
  y = S::select(S::lt(S::splat(kHi), x), S::splat(__builtin_inff()), y);
  return vkeep_nan<S>(x, y);
}

// 1 / (1 + exp(-x)): exp(-x) = inf for x < -88.72 gives exactly 0, exp(-x) = 0 gives 1.
template <class S>
inline typename S::V vsigmoid(typename S::V x) {
  const typename S::V one = S::splat(1.f);
  return S::div(one, S::add(one, vexp<S>(S::neg(x))));
}

// tanh(x) = x p(x^2) / q(x^2), a rational function on [-7.9, 7.9] (beyond, tanh is +-1 in float);
// below |x| = 4e-4, tanh(x) = x to float precision (keeps -0 and denormals exact).
template <class S>
inline typename S::V vtanh(typename S::V x) {
  using V = typename S::V;
  constexpr float kClamp = 7.90531110763549805f;
  const V xc = vclamp<S>(x, -kClamp, kClamp);
  const V x2 = S::mul(xc, xc);
  V p = S::splat(-2.76076847742355e-16f);
  p = S::muladd(p, x2, S::splat(2.00018790482477e-13f));
  p = S::muladd(p, x2, S::splat(-8.60467152213735e-11f));
  p = S::muladd(p, x2, S::splat(5.12229709037114e-08f));
  p = S::muladd(p, x2, S::splat(1.48572235717979e-05f));
  p = S::muladd(p, x2, S::splat(6.37261928875436e-04f));
  p = S::muladd(p, x2, S::splat(4.89352455891786e-03f));
  V q = S::splat(1.19825839466702e-06f);
  q = S::muladd(q, x2, S::splat(1.18534705686654e-04f));
  q = S::muladd(q, x2, S::splat(2.26843463243900e-03f));
  q = S::muladd(q, x2, S::splat(4.89352518554385e-03f));
  const V y = S::select(S::lt(S::abs(x), S::splat(4e-4f)), x, S::mul(xc, S::div(p, q)));
  return vkeep_nan<S>(x, y);
}

// erf(x) = x p(x^2) / q(x^2), a rational function on [-4, 4] (beyond, erf is +-1 in float).
template <class S>
inline typename S::V verf(typename S::V x) {
  using V = typename S::V;
  const V xc = vclamp<S>(x, -4.f, 4.f);
  const V x2 = S::mul(xc, xc);
  V p = S::splat(-2.72614225801306e-10f);
  p = S::muladd(p, x2, S::splat(2.77068142495902e-08f));
  p = S::muladd(p, x2, S::splat(-2.10102402082508e-06f));
  p = S::muladd(p, x2, S::splat(-5.69250639462346e-05f));
  p = S::muladd(p, x2, S::splat(-7.34990630326855e-04f));
  p = S::muladd(p, x2, S::splat(-2.95459980854025e-03f));
  p = S::muladd(p, x2, S::splat(-1.60960333262415e-02f));
  V q = S::splat(-1.45660718464996e-05f);
  q = S::muladd(q, x2, S::splat(-2.13374055278905e-04f));
  q = S::muladd(q, x2, S::splat(-1.68282697438203e-03f));
  q = S::muladd(q, x2, S::splat(-7.37332916720468e-03f));
  q = S::muladd(q, x2, S::splat(-1.42647390514189e-02f));
  // x * (p / q), not (x p) / q: x p would underflow into denormals for tiny x.
  return vkeep_nan<S>(x, S::mul(xc, S::div(p, q)));
}

// Below this GELU is under 1e-22 in magnitude and 1 + erf has cancelled to rounding
// noise: return -0, also the limit at -inf (where x * 0 would be NaN).
inline constexpr float kGeluNegligible = -10.f;

// ONNX Gelu, approximate = "none": x/2 (1 + erf(x / sqrt 2)).
template <class S>
inline typename S::V vgelu(typename S::V x) {
  using V = typename S::V;
  const V h = S::mul(x, S::splat(0.5f));
  const V y = S::muladd(h, verf<S>(S::mul(x, S::splat(0.70710678118654752f))), h);
  return S::select(S::lt(x, S::splat(kGeluNegligible)), S::splat(-0.f), y);
}

// ONNX Gelu, approximate = "tanh": x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
// computed as x / (1 + exp(-2u)) (the same value): no 1 + tanh cancellation for x < 0,
// where tanh's absolute error would dominate the tiny result.
template <class S>
inline typename S::V vgelu_tanh(typename S::V x) {
  using V = typename S::V;
  constexpr float kS2 = 2.f * 0.79788456080286536f;  // 2 sqrt(2/pi)
  const V minus_2u = S::mul(x, S::muladd(S::mul(x, x), S::splat(-kS2 * 0.044715f), S::splat(-kS2)));
  const V y = S::div(x, S::add(S::splat(1.f), vexp<S>(minus_2u)));  // x < -10: x / inf = -0
  return S::select(S::lt(x, S::splat(-3.40282347e38f)), S::splat(-0.f), y);  // -inf / inf is NaN
}

// x * sigmoid(x) (SiLU); x -> -inf gives -0 (not -inf * 0).
template <class S>
inline typename S::V vswish(typename S::V x) {
  const typename S::V y = S::mul(x, vsigmoid<S>(x));
  return S::select(S::lt(x, S::splat(-100.f)), S::splat(-0.f), y);
}

// max(0, min(1, alpha x + beta)).
template <class S>
inline typename S::V vhard_sigmoid(typename S::V x, typename S::V alpha, typename S::V beta) {
  return vkeep_nan<S>(x, vclamp<S>(S::muladd(x, alpha, beta), 0.f, 1.f));
}

// x * max(0, min(1, x / 6 + 1/2)) computed as x * clamp(x + 3, 0, 6) / 6: x + 3 is exact
// near the zero crossing at -3, where x / 6 + 1/2 would cancel (thousands of ULP).
template <class S>
inline typename S::V vhard_swish(typename S::V x) {
  const typename S::V v = vclamp<S>(S::add(x, S::splat(3.f)), 0.f, 6.f);
  return vkeep_nan<S>(x, S::mul(S::mul(x, S::splat(1.f / 6.f)), v));
}

// x < 0 ? alpha x : x (exact; NaN and -0 pass through).
template <class S>
inline typename S::V vleaky_relu(typename S::V x, typename S::V alpha) {
  return S::select(S::lt(x, S::splat(0.f)), S::mul(x, alpha), x);
}

// min(max(x, lo), hi) with NaN kept (Clip; Relu is lo = 0, hi = inf).
template <class S>
inline typename S::V vclamp_keep_nan(typename S::V x, typename S::V lo, typename S::V hi) {
  return vkeep_nan<S>(x, S::min(S::max(x, lo), hi));
}

}  // namespace kiln::simd
