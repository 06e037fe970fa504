// Arithmetic beside the thin SIMD layer (f32-vec.h) for the pooling, softmax and
// layer-norm kernels: add / sub / mul, and the two integer-side steps of a vector exp
// (build 2^n from a float holding n + 127 in its low mantissa bits; zero the lanes below a
// bound). A trait per f32-vec.h struct, kept out of f32-vec.h so that header stays the
// six operations the GEMM-like kernels need. SIMD128's v128_t is an i64x2 vector type, so
// `+` on it would be integer arithmetic: every ISA goes through named functions.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/simd/f32-vec.h"

namespace kiln::simd {

template <class S>
struct F32Arith;

#if defined(KILN_HAVE_SIMD128)
template <>
struct F32Arith<F32x4Simd128> {
  using V = v128_t;
  static V add(V a, V b) { return wasm_f32x4_add(a, b); }
  static V sub(V a, V b) { return wasm_f32x4_sub(a, b); }
  static V mul(V a, V b) { return wasm_f32x4_mul(a, b); }
  // Bits shifted left by 23: the low 8 bits of the mantissa become the exponent.
  static V shl23(V v) { return wasm_i32x4_shl(v, 23); }
  // v where x >= bound, else +0 (NaN x compares false and keeps v).
  static V zero_below(V x, V bound, V v) { return wasm_v128_andnot(v, wasm_f32x4_lt(x, bound)); }
};
#endif

#if defined(KILN_HAVE_AVX2)
template <>
struct F32Arith<F32x8Avx2> {
  using V = __m256;
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V shl23(V v) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(v), 23)); }
  static V zero_below(V x, V bound, V v) { return _mm256_andnot_ps(_mm256_cmp_ps(x, bound, _CMP_LT_OQ), v); }
};
#endif

template <>
struct F32Arith<F32x4Vec> {
  using V = F32x4Vec::V;
  typedef int32_t I __attribute__((vector_size(16)));
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V shl23(V v) {
    I i;
    std::memcpy(&i, &v, sizeof i);
    i <<= 23;
    std::memcpy(&v, &i, sizeof v);
    return v;
  }
  static V zero_below(V x, V bound, V v) {
    I m = x < bound;  // all ones where below
    I b;
    std::memcpy(&b, &v, sizeof b);
    b &= ~m;
    std::memcpy(&v, &b, sizeof v);
    return v;
  }
};

}  // namespace kiln::simd
