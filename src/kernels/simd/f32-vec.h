// The thin SIMD layer: one struct per instruction set, each with the same static
// functions over its native vector type, so a kernel template is written once and
// instantiated per target. Only what the kernels need, nothing speculative: load/store/
// splat/muladd/min/max for the GEMM-like families, plus arithmetic, compares, select and
// int32 bit operations for the elementwise math of simd/f32-vmath.h.
//   F32x4Simd128  WebAssembly SIMD128 (em++ -msimd128): mul + add, there is no FMA.
//   F32x8Avx2     x86-64 AVX2 + FMA (files compiled with -mavx2 -mfma, chosen at run time).
//   F32x4Vec      portable GCC/Clang vector extension: the native fallback on any CPU.
// Each struct is only defined when its instruction set is enabled for the translation
// unit, so a kernel file guards itself with the matching KILN_HAVE_* macro.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define KILN_HAVE_SIMD128 1
#endif
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define KILN_HAVE_AVX2 1
#endif

namespace kiln::simd {

#if defined(KILN_HAVE_SIMD128)
struct F32x4Simd128 {
  using V = v128_t;
  static constexpr size_t kLanes = 4;
  static V load(const float* p) { return wasm_v128_load(p); }
  static void store(float* p, V v) { wasm_v128_store(p, v); }
  static V splat(float x) { return wasm_f32x4_splat(x); }
  static V muladd(V a, V b, V acc) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
  // pmin/pmax lower to single minps/maxps on x86 (min/max need NaN fix-ups).
  static V min(V a, V b) { return wasm_f32x4_pmin(a, b); }
  static V max(V a, V b) { return wasm_f32x4_pmax(a, b); }
  // Elementwise math (f32-vmath.h): arithmetic, masks from compares (all-ones lanes),
  // select, and the int32 view of the bits for building 2^n in the exponent field.
  using M = v128_t;
  using I = v128_t;
  static V add(V a, V b) { return wasm_f32x4_add(a, b); }
  static V sub(V a, V b) { return wasm_f32x4_sub(a, b); }
  static V mul(V a, V b) { return wasm_f32x4_mul(a, b); }
  static V div(V a, V b) { return wasm_f32x4_div(a, b); }
  static V abs(V a) { return wasm_f32x4_abs(a); }
  static V neg(V a) { return wasm_f32x4_neg(a); }
  static M lt(V a, V b) { return wasm_f32x4_lt(a, b); }
  static M is_nan(V a) { return wasm_f32x4_ne(a, a); }
  static V select(M m, V a, V b) { return wasm_v128_bitselect(a, b, m); }  // m ? a : b
  static I as_int(V a) { return a; }
  static V as_float(I a) { return a; }
  static I isplat(int32_t x) { return wasm_i32x4_splat(x); }
  static I iadd(I a, I b) { return wasm_i32x4_add(a, b); }
  static I isub(I a, I b) { return wasm_i32x4_sub(a, b); }
  template <int k> static I shl(I a) { return wasm_i32x4_shl(a, k); }
  template <int k> static I sra(I a) { return wasm_i32x4_shr(a, k); }
};
#endif

#if defined(KILN_HAVE_AVX2)
struct F32x8Avx2 {
  using V = __m256;
  static constexpr size_t kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V splat(float x) { return _mm256_set1_ps(x); }
  static V muladd(V a, V b, V acc) { return _mm256_fmadd_ps(a, b, acc); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  using M = __m256;
  using I = __m256i;
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
  static V neg(V a) { return _mm256_xor_ps(_mm256_set1_ps(-0.f), a); }
  static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M is_nan(V a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }  // m ? a : b
  static I as_int(V a) { return _mm256_castps_si256(a); }
  static V as_float(I a) { return _mm256_castsi256_ps(a); }
  static I isplat(int32_t x) { return _mm256_set1_epi32(x); }
  static I iadd(I a, I b) { return _mm256_add_epi32(a, b); }
  static I isub(I a, I b) { return _mm256_sub_epi32(a, b); }
  template <int k> static I shl(I a) { return _mm256_slli_epi32(a, k); }
  template <int k> static I sra(I a) { return _mm256_srai_epi32(a, k); }
};
#endif

// Vector extension types lower to SSE on x86-64, NEON on ARM, SIMD128 under -msimd128.
struct F32x4Vec {
  typedef float V __attribute__((vector_size(16)));
  static constexpr size_t kLanes = 4;
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  static V splat(float x) { return V{x, x, x, x}; }
  static V muladd(V a, V b, V acc) { return acc + a * b; }
  static V min(V a, V b) { return a < b ? a : b; }
  static V max(V a, V b) { return a < b ? b : a; }
  typedef int32_t I __attribute__((vector_size(16)));
  using M = I;
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V abs(V a) { return as_float(as_int(a) & isplat(0x7fffffff)); }
  static V neg(V a) { return -a; }
  static M lt(V a, V b) { return a < b; }
  static M is_nan(V a) { return a != a; }
  static V select(M m, V a, V b) { return as_float((m & as_int(a)) | (~m & as_int(b))); }  // m ? a : b
  static I as_int(V a) {
    I i;
    std::memcpy(&i, &a, sizeof i);
    return i;
  }
  static V as_float(I a) {
    V v;
    std::memcpy(&v, &a, sizeof v);
    return v;
  }
  static I isplat(int32_t x) { return I{x, x, x, x}; }
  static I iadd(I a, I b) { return a + b; }
  static I isub(I a, I b) { return a - b; }
  template <int k> static I shl(I a) { return a << k; }
  template <int k> static I sra(I a) { return a >> k; }  // arithmetic: I is signed
};

}  // namespace kiln::simd
