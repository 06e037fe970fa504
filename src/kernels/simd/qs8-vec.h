// The integer side of the thin SIMD layer (f32-vec.h is the float side): what the int8
// GEMM microkernels need, one struct per instruction set with the same static functions.
//
// The products are int8 x int8 summed in pairs into int32 lanes, i.e. pmaddwd:
//   I32x4Simd128  WebAssembly SIMD128: v128.load8x8_s (extending load), i32x4.dot_i16x8_s.
//   I32x8Avx2     x86-64 AVX2: vpmovsxbw, vpmaddwd (_mm256_madd_epi16), vpaddd.
//   I32x4Vec      portable GCC/Clang vector extensions: the native fallback.
// A "pair block" is 8 int8 values of one row of A (k .. k+7) widened to int16; pair(j)
// broadcasts its j-th (k+2j, k+2j+1) pair to every int32 lane. A weight vector holds
// kLanes columns x 2 k values (column-major pairs), widened to int16 on load, so
// dot(acc, pair, w) adds a[k]*w[k][n] + a[k+1]*w[k+1][n] to lane n. Each product fits
// int16 x int16 -> int32 exactly (no saturation, unlike pmaddubsw).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/simd/f32-vec.h"

namespace kiln::simd {

#if defined(KILN_HAVE_SIMD128)
struct I32x4Simd128 {
  using VI = v128_t;  // int32 lanes (accumulators), or int16 pairs
  using VA = v128_t;  // pair block: 8 x int16
  using F = F32x4Simd128;
  static constexpr size_t kLanes = 4;
  static VA load_block(const int8_t* p) { return wasm_i16x8_load8x8(p); }
  // The same block from 8 bytes already in a register (little-endian: byte 0 is k).
  static VA block_from_bits(uint64_t bits) { return wasm_i16x8_extend_low_i8x16(wasm_i64x2_splat(static_cast<int64_t>(bits))); }
  template <int J>
  static VI pair(VA a) { return wasm_i32x4_shuffle(a, a, J, J, J, J); }
  static VI load_w(const int8_t* p) { return wasm_i16x8_load8x8(p); }
  static VI dot(VI acc, VI a, VI w) { return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(a, w)); }
  static VI load_i32(const int32_t* p) { return wasm_v128_load(p); }
  static VI splat_i32(int32_t x) { return wasm_i32x4_splat(x); }
  static VI mul_i32(VI a, VI b) { return wasm_i32x4_mul(a, b); }
  static F::V to_f32(VI v) { return wasm_f32x4_convert_i32x4(v); }
  static F::V mul_f32(F::V a, F::V b) { return wasm_f32x4_mul(a, b); }
  // qs8 epilogue: y holds clamp(acc * scale) + 1.5 * 2^23, whose low mantissa bits are the
  // rounded integer; bits + (zp - 0x4B400000) is the int8 result; kLanes bytes stored at p.
  static void store_q8(int8_t* p, F::V y, int32_t zp_less_magic) {
    v128_t q = wasm_i32x4_add(y, wasm_i32x4_splat(zp_less_magic));
    q = wasm_i16x8_narrow_i32x4(q, q);
    q = wasm_i8x16_narrow_i16x8(q, q);
    const int32_t bytes = wasm_i32x4_extract_lane(q, 0);
    std::memcpy(p, &bytes, 4);
  }
};
#endif

#if defined(KILN_HAVE_AVX2)
struct I32x8Avx2 {
  using VI = __m256i;
  using VA = __m256i;  // the 8 x int16 block in both 128-bit halves
  using F = F32x8Avx2;
  static constexpr size_t kLanes = 8;
  static VA load_block(const int8_t* p) {
    int64_t bits;
    std::memcpy(&bits, p, sizeof bits);
    return _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(bits)));
  }
  static VA block_from_bits(uint64_t bits) {
    return _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(bits))));
  }
  template <int J>
  static VI pair(VA a) { return _mm256_shuffle_epi32(a, J * 0x55); }
  static VI load_w(const int8_t* p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static VI dot(VI acc, VI a, VI w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, w)); }
  static VI load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static VI splat_i32(int32_t x) { return _mm256_set1_epi32(x); }
  static VI mul_i32(VI a, VI b) { return _mm256_mullo_epi32(a, b); }
  static F::V to_f32(VI v) { return _mm256_cvtepi32_ps(v); }
  static F::V mul_f32(F::V a, F::V b) { return _mm256_mul_ps(a, b); }
  static void store_q8(int8_t* p, F::V y, int32_t zp_less_magic) {
    const __m256i q = _mm256_add_epi32(_mm256_castps_si256(y), _mm256_set1_epi32(zp_less_magic));
    const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(q16, q16));
  }
};
#endif

// Vector extensions: the widening and pairwise sums are written lane by lane; compilers
// turn them into pmovsx/pmaddwd on SSE4 targets or plain SSE2 sequences otherwise.
struct I32x4Vec {
  typedef int32_t VI __attribute__((vector_size(16)));
  struct VA {
    int16_t v[8];
  };
  using F = F32x4Vec;
  static constexpr size_t kLanes = 4;
  static VA load_block(const int8_t* p) {
    VA a;
    for (int i = 0; i < 8; ++i) a.v[i] = p[i];
    return a;
  }
  static VA block_from_bits(uint64_t bits) {
    VA a;
    for (int i = 0; i < 8; ++i) a.v[i] = static_cast<int8_t>(static_cast<uint8_t>(bits >> (8 * i)));
    return a;
  }
  // Both int16 of the pair packed in one int32 lane, like the SIMD versions.
  template <int J>
  static VI pair(VA a) {
    const int32_t x = static_cast<int32_t>(static_cast<uint16_t>(a.v[2 * J])) |
                      static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(a.v[2 * J + 1])) << 16);
    return VI{x, x, x, x};
  }
  static VI load_w(const int8_t* p) {
    VI w;
    for (int n = 0; n < 4; ++n)
      w[n] = static_cast<int32_t>(static_cast<uint16_t>(static_cast<int16_t>(p[2 * n]))) |
             static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int16_t>(p[2 * n + 1])))
                                  << 16);
    return w;
  }
  static VI dot(VI acc, VI a, VI w) {
    const VI lo_a = (a << 16) >> 16, hi_a = a >> 16, lo_w = (w << 16) >> 16, hi_w = w >> 16;
    return acc + lo_a * lo_w + hi_a * hi_w;
  }
  static VI load_i32(const int32_t* p) {
    VI v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static VI splat_i32(int32_t x) { return VI{x, x, x, x}; }
  static VI mul_i32(VI a, VI b) { return a * b; }
  static F::V to_f32(VI v) { return F::V{static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[2]), static_cast<float>(v[3])}; }
  static F::V mul_f32(F::V a, F::V b) { return a * b; }
  static void store_q8(int8_t* p, F::V y, int32_t zp_less_magic) {
    int32_t bits[4];
    std::memcpy(bits, &y, sizeof bits);
    for (int i = 0; i < 4; ++i) p[i] = static_cast<int8_t>(bits[i] + zp_less_magic);
  }
};

}  // namespace kiln::simd
