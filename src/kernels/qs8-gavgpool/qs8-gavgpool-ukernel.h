// The qs8-gavgpool sums template (contract in qs8-gavgpool.h). W is an int16-lane struct
// below: load() widens W::kLanes int8 to int16, flush() adds int16 lanes into int32 sums.
// Channel blocks of NV * kLanes, then of kLanes (then of 8 with AVX2), then single channels;
// each block walks all rows in chunks of 256 with int16 accumulators.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/qs8-gavgpool/qs8-gavgpool.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

#if defined(KILN_HAVE_SIMD128)
struct I16x8Simd128 {
  using V = v128_t;
  static constexpr size_t kLanes = 8;
  static V zero() { return wasm_i16x8_splat(0); }
  static V load(const int8_t* p) { return wasm_i16x8_load8x8(p); }
  static V add(V a, V b) { return wasm_i16x8_add(a, b); }
  static void flush(int32_t* s, V v) {
    wasm_v128_store(s, wasm_i32x4_add(wasm_v128_load(s), wasm_i32x4_extend_low_i16x8(v)));
    wasm_v128_store(s + 4, wasm_i32x4_add(wasm_v128_load(s + 4), wasm_i32x4_extend_high_i16x8(v)));
  }
};
#endif

#if defined(KILN_HAVE_AVX2)
struct I16x8Sse4 {
  using V = __m128i;
  static constexpr size_t kLanes = 8;
  static V zero() { return _mm_setzero_si128(); }
  static V load(const int8_t* p) { return _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
  static V add(V a, V b) { return _mm_add_epi16(a, b); }
  static void flush(int32_t* s, V v) {
    __m256i* p = reinterpret_cast<__m256i*>(s);
    _mm256_storeu_si256(p, _mm256_add_epi32(_mm256_loadu_si256(p), _mm256_cvtepi16_epi32(v)));
  }
};

struct I16x16Avx2 {
  using V = __m256i;
  static constexpr size_t kLanes = 16;
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const int8_t* p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static V add(V a, V b) { return _mm256_add_epi16(a, b); }
  static void flush(int32_t* s, V v) {
    __m256i* p0 = reinterpret_cast<__m256i*>(s);
    __m256i* p1 = reinterpret_cast<__m256i*>(s + 8);
    _mm256_storeu_si256(p0, _mm256_add_epi32(_mm256_loadu_si256(p0), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v))));
    _mm256_storeu_si256(p1, _mm256_add_epi32(_mm256_loadu_si256(p1), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(v, 1))));
  }
};
#endif

struct I16x8Vec {
  typedef int16_t V __attribute__((vector_size(16)));
  typedef int8_t B __attribute__((vector_size(8)));
  static constexpr size_t kLanes = 8;
  static V zero() { return V{}; }
  static V load(const int8_t* p) {
    B b;
    std::memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, V);
  }
  static V add(V a, V b) { return a + b; }
  static void flush(int32_t* s, V v) {
    for (size_t i = 0; i < kLanes; ++i) s[i] += v[i];
  }
};

// One column block of NV * W::kLanes channels over all rows.
template <class W, size_t NV>
inline __attribute__((always_inline)) void qs8_gavgpool_block(size_t rows, const int8_t* x, size_t x_stride,
                                                               int32_t* sums) {
  constexpr size_t L = W::kLanes;
  constexpr size_t kChunk = 256;  // int16 lanes hold 256 sums of int8 exactly
  for (size_t r0 = 0; r0 < rows; r0 += kChunk) {
    const size_t r1 = std::min(rows, r0 + kChunk);
    typename W::V acc[NV];
#pragma GCC unroll 4
    for (size_t v = 0; v < NV; ++v) acc[v] = W::zero();
    const int8_t* p = x + r0 * x_stride;
    for (size_t r = r0; r < r1; ++r, p += x_stride)
#pragma GCC unroll 4
      for (size_t v = 0; v < NV; ++v) acc[v] = W::add(acc[v], W::load(p + v * L));
#pragma GCC unroll 4
    for (size_t v = 0; v < NV; ++v) W::flush(sums + v * L, acc[v]);
  }
}

// H: an optional narrower struct for one more block before the scalar channels (AVX2: 8
// channels with SSE, as MobileNetV3's 24 / 40 / 72 / 120 channels leave 8).
template <class W, size_t NV, class H = void>
inline __attribute__((always_inline)) void qs8_gavgpool_sums_ukernel(size_t rows, size_t channels, const int8_t* x,
                                                                      size_t x_stride, int32_t* sums) {
  constexpr size_t L = W::kLanes;
  size_t c = 0;
  for (; c + NV * L <= channels; c += NV * L) qs8_gavgpool_block<W, NV>(rows, x + c, x_stride, sums + c);
  for (; c + L <= channels; c += L) qs8_gavgpool_block<W, 1>(rows, x + c, x_stride, sums + c);
  if constexpr (!std::is_void_v<H>) {
    if (c + H::kLanes <= channels) {
      qs8_gavgpool_block<H, 1>(rows, x + c, x_stride, sums + c);
      c += H::kLanes;
    }
  }
  // The last channels: rows outer so each row's few bytes are read together.
  if (c < channels) {
    const int8_t* p = x + c;
    int32_t* s = sums + c;
    const size_t rest = channels - c;
    for (size_t r = 0; r < rows; ++r, p += x_stride)
      for (size_t j = 0; j < rest; ++j) s[j] += p[j];
  }
}

}  // namespace
}  // namespace kiln
