// The thin SIMD layer: one struct per instruction set, each with the same static
// functions over its native vector type, so a kernel template is written once and
// instantiated per target. Only what the kernels need, nothing speculative.
//   F32x4Simd128  WebAssembly SIMD128 (em++ -msimd128): mul + add, there is no FMA.
//   F32x8Avx2     x86-64 AVX2 + FMA (files compiled with -mavx2 -mfma, chosen at run time).
//   F32x4Vec      portable GCC/Clang vector extension: the native fallback on any CPU.
// Each struct is only defined when its instruction set is enabled for the translation
// unit, so a kernel file guards itself with the matching KILN_HAVE_* macro.
#pragma once
#include <cstddef>
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
};

}  // namespace kiln::simd
