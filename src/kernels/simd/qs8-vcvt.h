// int8 <-> float for the static int8 elementwise kernels (qs8-vbinary): one struct per
// instruction set over 16 int8 values at a time, the float side being f32-vec.h's struct.
//   load16(p, zero, v): v[0..kF) = float(p[i] - zero) for 16 values (exact: |x - zero| <= 255).
//   clamp(v, lo, hi):   v < lo ? lo : (hi < v ? hi : v), NaN kept (std::min(std::max(v, lo), hi)).
//   quantize16(p, t, zero_less_magic): t already clamped into the int8 grid and + 1.5 * 2^23
//     (round half to even in the mantissa); stores the 16 values bits + (zero - magic bits).
//     (No NaN lanes: the qs8-vbinary parameters rule them out, see qs8-vbinary.h.)
//   quantize16_nan(p, t, keep, zero_less_magic, zero): the same where the lane mask `keep` is
//     set, `zero` elsewhere (QuantizeLinear maps NaN to the zero point; f32-qs8-vcvt).
//   load(p) (float side): S::load.
//   exact(v):           v, opaque to the compiler: GCC contracts a * b + c into an FMA in C++
//                       even under -std=c++20 when FMA is enabled (the AVX2 files), which
//                       would round once where the reference rounds twice.
// Each struct's min/max argument order is chosen so NaN propagates as std::min / std::max do,
// which keeps the kernels bit-exact with the scalar reference.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/simd/f32-vec.h"

namespace kiln::simd {

#if defined(KILN_HAVE_SIMD128)
struct Q8x16Simd128 {
  using S = F32x4Simd128;
  using V = v128_t;
  static constexpr size_t kF = 4;  // float vectors per 16 int8
  // The zero point is subtracted in int32 lanes: with it subtracted in int16, LLVM 14 folds
  // extend + convert into an int16 -> float conversion that SIMD128 lacks and scalarizes it
  // (16 extract_lane / convert / replace_lane per 16 values, 3x slower).
  static void load16(const int8_t* p, int32_t zero, V* v) {
    const v128_t z = wasm_i32x4_splat(zero);
    const v128_t lo = wasm_i16x8_load8x8(p), hi = wasm_i16x8_load8x8(p + 8);
    v[0] = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_i32x4_extend_low_i16x8(lo), z));
    v[1] = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_i32x4_extend_high_i16x8(lo), z));
    v[2] = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_i32x4_extend_low_i16x8(hi), z));
    v[3] = wasm_f32x4_convert_i32x4(wasm_i32x4_sub(wasm_i32x4_extend_high_i16x8(hi), z));
  }
  // pmax(v, lo) = v < lo ? lo : v; pmin(x, hi) = hi < x ? hi : x: NaN stays.
  static V clamp(V v, V lo, V hi) { return wasm_f32x4_pmin(wasm_f32x4_pmax(v, lo), hi); }
  static V exact(V v) { return v; }  // SIMD128 has no FMA
  static void quantize16(int8_t* p, const V* t, int32_t zero_less_magic) {
    const v128_t zl = wasm_i32x4_splat(zero_less_magic);
    v128_t q[4];
    for (int i = 0; i < 4; ++i) q[i] = wasm_i32x4_add(t[i], zl);
    const v128_t q16a = wasm_i16x8_narrow_i32x4(q[0], q[1]), q16b = wasm_i16x8_narrow_i32x4(q[2], q[3]);
    wasm_v128_store(p, wasm_i8x16_narrow_i16x8(q16a, q16b));
  }
  static V keep_mask(V t) { return wasm_f32x4_eq(t, t); }
  static void quantize16_nan(int8_t* p, const V* t, const V* keep, int32_t zero_less_magic, int32_t zero) {
    const v128_t zl = wasm_i32x4_splat(zero_less_magic), z = wasm_i32x4_splat(zero);
    v128_t q[4];
    for (int i = 0; i < 4; ++i) q[i] = wasm_v128_bitselect(wasm_i32x4_add(t[i], zl), z, keep[i]);
    const v128_t q16a = wasm_i16x8_narrow_i32x4(q[0], q[1]), q16b = wasm_i16x8_narrow_i32x4(q[2], q[3]);
    wasm_v128_store(p, wasm_i8x16_narrow_i16x8(q16a, q16b));
  }
};
#endif

#if defined(KILN_HAVE_AVX2)
struct Q8x16Avx2 {
  using S = F32x8Avx2;
  using V = __m256;
  static constexpr size_t kF = 2;
  static void load16(const int8_t* p, int32_t zero, V* v) {
    int64_t b0, b1;
    std::memcpy(&b0, p, 8);
    std::memcpy(&b1, p + 8, 8);
    const __m256i z = _mm256_set1_epi32(zero);
    v[0] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(b0)), z));
    v[1] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(b1)), z));
  }
  // maxps(lo, v) = lo > v ? lo : v; minps(hi, x) = hi < x ? hi : x: NaN stays.
  static V clamp(V v, V lo, V hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, v)); }
  static V exact(V v) {
    __asm__("" : "+x"(v));
    return v;
  }
  static void quantize16(int8_t* p, const V* t, int32_t zero_less_magic) {
    const __m256i zl = _mm256_set1_epi32(zero_less_magic);
    __m128i h[2];
    for (int i = 0; i < 2; ++i) {
      const __m256i r = _mm256_add_epi32(_mm256_castps_si256(t[i]), zl);
      h[i] = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(h[0], h[1]));
  }
  static V keep_mask(V t) { return _mm256_cmp_ps(t, t, _CMP_ORD_Q); }
  static void quantize16_nan(int8_t* p, const V* t, const V* keep, int32_t zero_less_magic, int32_t zero) {
    const __m256i zl = _mm256_set1_epi32(zero_less_magic);
    const __m256 z = _mm256_castsi256_ps(_mm256_set1_epi32(zero));
    __m128i h[2];
    for (int i = 0; i < 2; ++i) {
      const __m256i q = _mm256_add_epi32(_mm256_castps_si256(t[i]), zl);
      const __m256i r = _mm256_castps_si256(_mm256_blendv_ps(z, _mm256_castsi256_ps(q), keep[i]));
      h[i] = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(h[0], h[1]));
  }
};
#endif

// Vector extensions (SSE2 on baseline x86-64): the conversions lane by lane via
// __builtin_convertvector.
struct Q8x16Vec {
  using S = F32x4Vec;
  using V = F32x4Vec::V;
  using I = F32x4Vec::I;
  typedef int8_t I8x4 __attribute__((vector_size(4)));
  static constexpr size_t kF = 4;
  static void load16(const int8_t* p, int32_t zero, V* v) {
    const I z = I{zero, zero, zero, zero};
    for (int i = 0; i < 4; ++i) {
      I8x4 b;
      std::memcpy(&b, p + 4 * i, 4);
      v[i] = __builtin_convertvector(__builtin_convertvector(b, I) - z, V);
    }
  }
  static V clamp(V v, V lo, V hi) {
    const V a = v < lo ? lo : v;
    return hi < a ? hi : a;
  }
  static V exact(V v) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__("" : "+x"(v));
#elif defined(__aarch64__)
    __asm__("" : "+w"(v));
#endif
    return v;
  }
  static void quantize16(int8_t* p, const V* t, int32_t zero_less_magic) {
    const I zl = I{zero_less_magic, zero_less_magic, zero_less_magic, zero_less_magic};
    for (int i = 0; i < 4; ++i) {
      I bits;
      std::memcpy(&bits, &t[i], sizeof bits);
      const I q = bits + zl;
      const I8x4 b = __builtin_convertvector(q, I8x4);
      std::memcpy(p + 4 * i, &b, 4);
    }
  }
  static V keep_mask(V t) {
    const I m = t == t;
    V r;
    std::memcpy(&r, &m, sizeof r);
    return r;
  }
  static void quantize16_nan(int8_t* p, const V* t, const V* keep, int32_t zero_less_magic, int32_t zero) {
    const I zl = I{zero_less_magic, zero_less_magic, zero_less_magic, zero_less_magic}, z = I{zero, zero, zero, zero};
    for (int i = 0; i < 4; ++i) {
      I bits, m;
      std::memcpy(&bits, &t[i], sizeof bits);
      std::memcpy(&m, &keep[i], sizeof m);
      const I q = ((bits + zl) & m) | (z & ~m);
      const I8x4 b = __builtin_convertvector(q, I8x4);
      std::memcpy(p + 4 * i, &b, 4);
    }
  }
};

}  // namespace kiln::simd
