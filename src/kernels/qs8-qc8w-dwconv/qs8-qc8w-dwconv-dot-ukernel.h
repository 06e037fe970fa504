// The tap-pair ("dot") variant of the qs8-qc8w depthwise microkernel (packed with kr = 2,
// layout in qs8-qc8w-dwconv.h), for SIMD128 and AVX2. SIMD128, per pair of taps and 8
// channels: the two input rows widened (v128.load8x8_s x2), interleaved into
// (x_s[c], x_s+1[c]) int16 pairs (two i8x16.shuffle that V8 emits as punpck{l,h}wd), and
// i32x4.dot_i16x8_s against the packed weight pairs adds both taps' products per channel:
// 10 instructions per 16 products against 14 for the int16-multiply kernel. AVX2 does the
// same with vpmaddwd (below). The products and their pair sums are exact in int32 (no
// saturation, unlike pmaddubsw). Epilogue as qs8-qc8w-dwconv-ukernel.h.
#pragma once
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-ukernel.h"

namespace kiln {
namespace {

// Per ISA: the int16-multiply struct of qs8-qc8w-dwconv-ukernel.h (bias, epilogue) plus
// pair(acc, x_s, x_s+1, w): both taps' products for kStep channels; Tail: the struct for
// the last partial tile's whole steps.
#if defined(KILN_HAVE_SIMD128)
struct QS8DwDotSimd128 : QS8DwSimd128 {
  using Tail = QS8DwDotSimd128;
  static Acc pair(Acc a, const int8_t* x0, const int8_t* x1, const int8_t* w) {
    const v128_t v0 = wasm_i16x8_load8x8(x0), v1 = wasm_i16x8_load8x8(x1);
    const v128_t lo = wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11);
    const v128_t hi = wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15);
    return {wasm_i32x4_add(a.lo, wasm_i32x4_dot_i16x8(lo, wasm_i16x8_load8x8(w))),
            wasm_i32x4_add(a.hi, wasm_i32x4_dot_i16x8(hi, wasm_i16x8_load8x8(w + 8)))};
  }
};
#endif

#if defined(KILN_HAVE_AVX2)
// 8 channels (the tail step): vpmovsxbw x2, vpunpck{l,h}wd, vinserti128, vpmaddwd, vpaddd.
struct QS8DwDotAvx2x8 : QS8DwAvx2x8 {
  using Tail = QS8DwDotAvx2x8;
  static Acc pair(Acc a, const int8_t* x0, const int8_t* x1, const int8_t* w) {
    const __m128i v0 = load8(x0), v1 = load8(x1);
    const __m256i xy = _mm256_set_m128i(_mm_unpackhi_epi16(v0, v1), _mm_unpacklo_epi16(v0, v1));
    const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    return _mm256_add_epi32(a, _mm256_madd_epi16(xy, wv));
  }
};

// 16 channels: vpunpck{l,h}wd work within 128-bit lanes, so the 4-channel groups of each
// input row are reordered (0, 2, 1, 3) by vpshufd before widening; the unpacked pairs then
// come out in channel order (0-7, 8-15) and match the packed weights as they are. 12
// instructions per 32 products (the int16-multiply step: 16).
struct QS8DwDotAvx2 : QS8DwAvx2 {
  using Tail = QS8DwDotAvx2x8;
  static __m256i row(const int8_t* x) {
    return _mm256_cvtepi8_epi16(
        _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static Acc pair(Acc a, const int8_t* x0, const int8_t* x1, const int8_t* w) {
    const __m256i v0 = row(x0), v1 = row(x1);
    const __m256i wlo = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    const __m256i whi = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
    return {_mm256_add_epi32(a.lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(v0, v1), wlo)),
            _mm256_add_epi32(a.hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(v0, v1), whi))};
  }
};
#endif

// KS > 0: exactly KS taps (pair loop unrolled); KS == 0: ks taps. O: int8_t (requantized),
// int32_t (sums) or QS8DwActOut<Act>, as qs8_dwconv_ukernel.
template <class S, size_t NV, size_t KS, class O = int8_t>
inline __attribute__((always_inline)) void qs8_dwconv_dot_ukernel(size_t channels, size_t pixels, size_t ks,
                                                                  const int8_t* const* input, const void* weights,
                                                                  typename QS8DwOut<O>::T* out, size_t out_stride,
                                                                  size_t a_offset, const int8_t* zero,
                                                                  const typename QS8DwOut<O>::Params* params) {
  using T = typename S::Tail;
  constexpr size_t K = S::kStep, CT = NV * K, KT = T::kStep;
  const size_t taps = KS != 0 ? KS : ks, pairs = (taps + 1) / 2;
  const size_t tile_bytes = CT * 8 + pairs * 2 * CT;
  const auto req = QS8DwOut<O>::template req<S>(*params);
  const auto treq = QS8DwOut<O>::template req<T>(*params);
  // Tap pointers offset once per pixel; an odd last tap is paired with itself (its packed
  // partner weight is 0). Generic kernels with more taps offset them as they go.
  constexpr size_t kCached = KS != 0 ? KS + 1 : 26;
  const int8_t* xp[kCached];
  const bool cached = taps < kCached;
  for (; pixels != 0; --pixels, input += taps, out += out_stride) {
    if constexpr (KS != 0) {
#pragma GCC unroll 32
      for (size_t s = 0; s < KS; ++s) xp[s] = qs8_dwconv_tap(input[s], a_offset, zero);
    } else if (cached) {
      KILN_QS8DW_ROLLED
      for (size_t s = 0; s < taps; ++s) xp[s] = qs8_dwconv_tap(input[s], a_offset, zero);
    }
    if (cached) xp[taps] = xp[taps - 1];
    auto tap = [&](size_t s) {
      return cached ? xp[s] : qs8_dwconv_tap(input[s < taps ? s : taps - 1], a_offset, zero);
    };
    const char* w = static_cast<const char*>(weights);
    for (size_t c = 0; c < channels; c += CT, w += tile_bytes) {
      const int32_t* bias = reinterpret_cast<const int32_t*>(w);
      const float* scale = reinterpret_cast<const float*>(w + CT * 4);
      const int8_t* q = reinterpret_cast<const int8_t*>(w + CT * 8);
      if (c + CT <= channels) {
        typename S::Acc acc[NV];
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) acc[v] = S::bias(bias + v * K);
        auto mac_pair = [&](size_t p) __attribute__((always_inline)) {
          const int8_t* x0 = tap(2 * p) + c;
          const int8_t* x1 = tap(2 * p + 1) + c;
#pragma GCC unroll 8
          for (size_t v = 0; v < NV; ++v)
            acc[v] = S::pair(acc[v], x0 + v * K, x1 + v * K, q + 2 * CT * p + 2 * K * v);
        };
        if constexpr (KS != 0) {
#pragma GCC unroll 16
          for (size_t p = 0; p < (KS + 1) / 2; ++p) mac_pair(p);
        } else {
          KILN_QS8DW_ROLLED
          for (size_t p = 0; p < pairs; ++p) mac_pair(p);
        }
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) qs8_dwconv_out<S, O>(acc[v], scale + v * K, req, out + c + v * K);
        continue;
      }
      // Last partial tile: whole (tail) steps, then lanes.
      size_t j = 0;
      KILN_QS8DW_ROLLED
      for (; c + j + KT <= channels; j += KT) {
        typename T::Acc acc = T::bias(bias + j);
        KILN_QS8DW_ROLLED
        for (size_t p = 0; p < pairs; ++p)
          acc = T::pair(acc, tap(2 * p) + c + j, tap(2 * p + 1) + c + j, q + 2 * CT * p + 2 * j);
        qs8_dwconv_out<T, O>(acc, scale + j, treq, out + c + j);
      }
      KILN_QS8DW_ROLLED
      for (; c + j < channels; ++j) {
        int32_t acc = bias[j];
        KILN_QS8DW_ROLLED
        for (size_t s = 0; s < taps; ++s)
          acc += static_cast<int32_t>(tap(s)[c + j]) * q[2 * CT * (s / 2) + 2 * j + s % 2];
        qs8_dwconv_out_lane<O>(acc, scale[j], *params, out + c + j);
      }
    }
  }
}

}  // namespace
}  // namespace kiln
