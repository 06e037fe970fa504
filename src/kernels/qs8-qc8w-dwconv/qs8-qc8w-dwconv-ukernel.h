// The one qs8-qc8w depthwise microkernel template (layout in qs8-qc8w-dwconv.h); every
// qs8-qc8w-dwconv-<taps>p<CT>c-<arch>.cc instantiates it for a struct below. Per output
// pixel and channel tile of CT = NV steps, the int32 accumulators start at the packed bias
// (zero point already folded in) and sum raw int8 x int8 products over all taps in
// registers: both operands are widened to int16 and multiplied there (|x * w| <= 2^14, so
// the int16 product is exact), then the products are widened to int32 and added. The
// epilogue is the qs8-qc8w GEMM's fp32 requantization: acc -> float * scale, clamped to
// [min - zp, max - zp], rounded half to even by adding 1.5 * 2^23 (the float's low mantissa
// bits are then the integer), + zp, narrowed to int8. The last partial tile runs whole
// steps, then lanes (no reads past `channels`).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"
#include "kernels/qs8-qc8w-gemm/qs8-act-epilogue.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

inline constexpr float kQS8DwMagic = 12582912.0f;  // 1.5 * 2^23
inline constexpr int32_t kQS8DwMagicBits = 0x4B400000;

// One lane of the epilogue, bit-identical to the vector ones (and to lrintf).
inline int8_t qs8_dwconv_requant_lane(int32_t acc, float scale, const QS8RequantParams& p) {
  const float lo = static_cast<float>(p.output_min - p.output_zero_point);
  const float hi = static_cast<float>(p.output_max - p.output_zero_point);
  const float y = std::min(std::max(static_cast<float>(acc) * scale, lo), hi) + kQS8DwMagic;
  int32_t bits;
  std::memcpy(&bits, &y, 4);
  return static_cast<int8_t>(bits - kQS8DwMagicBits + p.output_zero_point);
}

#if defined(KILN_HAVE_SIMD128)
// 8 channels per step: v128.load8x8_s (x and w), i16x8.mul, i32x4.extend_{low,high}_i16x8_s
// + i32x4.add.
struct QS8DwSimd128 {
  static constexpr size_t kStep = 8;
  using Tail = QS8DwSimd128;
  struct Acc {
    v128_t lo, hi;
  };
  struct Req {
    v128_t lo, hi, magic, zp;
  };
  static Req req(const QS8RequantParams& p) {
    return {wasm_f32x4_splat(static_cast<float>(p.output_min - p.output_zero_point)),
            wasm_f32x4_splat(static_cast<float>(p.output_max - p.output_zero_point)), wasm_f32x4_splat(kQS8DwMagic),
            wasm_i32x4_splat(p.output_zero_point - kQS8DwMagicBits)};
  }
  static Acc bias(const int32_t* b) { return {wasm_v128_load(b), wasm_v128_load(b + 4)}; }
  static Acc mac(Acc a, const int8_t* x, const int8_t* w) {
    const v128_t prod = wasm_i16x8_mul(wasm_i16x8_load8x8(x), wasm_i16x8_load8x8(w));
    return {wasm_i32x4_add(a.lo, wasm_i32x4_extend_low_i16x8(prod)),
            wasm_i32x4_add(a.hi, wasm_i32x4_extend_high_i16x8(prod))};
  }
  static v128_t requant(v128_t acc, const float* scale, const Req& r) {
    v128_t y = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), wasm_v128_load(scale));
    y = wasm_f32x4_add(wasm_f32x4_pmin(wasm_f32x4_pmax(y, r.lo), r.hi), r.magic);
    return wasm_i32x4_add(y, r.zp);
  }
  static void store(Acc a, const float* scale, const Req& r, int8_t* out) {
    const v128_t h = wasm_i16x8_narrow_i32x4(requant(a.lo, scale, r), requant(a.hi, scale + 4, r));
    wasm_v128_store64_lane(out, wasm_i8x16_narrow_i16x8(h, h), 0);
  }
  static void store_sums(Acc a, int32_t* out) {
    wasm_v128_store(out, a.lo);
    wasm_v128_store(out + 4, a.hi);
  }
  // The activation epilogue: E is a QS8ActVec over F.
  using F = simd::F32x4Simd128;
  template <class E>
  static void store_act(Acc a, const float* scale, const E& e, int8_t* out) {
    const v128_t zp = wasm_i32x4_splat(e.zp_less_magic);
    const v128_t lo = wasm_i32x4_add(e(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a.lo), wasm_v128_load(scale))), zp);
    const v128_t hi = wasm_i32x4_add(e(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a.hi), wasm_v128_load(scale + 4))), zp);
    const v128_t h = wasm_i16x8_narrow_i32x4(lo, hi);
    wasm_v128_store64_lane(out, wasm_i8x16_narrow_i16x8(h, h), 0);
  }
};
#endif

#if defined(KILN_HAVE_AVX2)
// 8 channels per step, the tail step of QS8DwAvx2 (8-channel tails are common in
// MobileNetV3): vpmovsxbw (x and w, 128-bit), vpmullw, vpmovsxwd to 256 bits + vpaddd.
struct QS8DwAvx2x8 {
  static constexpr size_t kStep = 8;
  using Tail = QS8DwAvx2x8;
  using Acc = __m256i;
  struct Req {
    __m256 lo, hi, magic;
    __m256i zp;
  };
  static Req req(const QS8RequantParams& p) {
    return {_mm256_set1_ps(static_cast<float>(p.output_min - p.output_zero_point)),
            _mm256_set1_ps(static_cast<float>(p.output_max - p.output_zero_point)), _mm256_set1_ps(kQS8DwMagic),
            _mm256_set1_epi32(p.output_zero_point - kQS8DwMagicBits)};
  }
  static Acc bias(const int32_t* b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)); }
  static __m128i load8(const int8_t* p) {
    int64_t bits;
    std::memcpy(&bits, p, sizeof bits);
    return _mm_cvtepi8_epi16(_mm_cvtsi64_si128(bits));
  }
  static Acc mac(Acc a, const int8_t* x, const int8_t* w) {
    return _mm256_add_epi32(a, _mm256_cvtepi16_epi32(_mm_mullo_epi16(load8(x), load8(w))));
  }
  static void store(Acc a, const float* scale, const Req& r, int8_t* out) {
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(a), _mm256_loadu_ps(scale));
    y = _mm256_add_ps(_mm256_min_ps(_mm256_max_ps(y, r.lo), r.hi), r.magic);
    const __m256i q = _mm256_add_epi32(_mm256_castps_si256(y), r.zp);
    const __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(h, h));
  }
  static void store_sums(Acc a, int32_t* out) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), a); }
  using F = simd::F32x8Avx2;
  template <class E>
  static void store_act(Acc a, const float* scale, const E& e, int8_t* out) {
    const __m256 y = e(_mm256_mul_ps(_mm256_cvtepi32_ps(a), _mm256_loadu_ps(scale)));
    const __m256i q = _mm256_add_epi32(_mm256_castps_si256(y), _mm256_set1_epi32(e.zp_less_magic));
    const __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(h, h));
  }
};

// 16 channels per step: vpmovsxbw (x and w, 256-bit), vpmullw, vpmovsxwd of each half +
// vpaddd: 8 instructions per 16 products against 10 with two 8-channel steps.
struct QS8DwAvx2 {
  static constexpr size_t kStep = 16;
  using Tail = QS8DwAvx2x8;
  struct Acc {
    __m256i lo, hi;  // channels 0-7, 8-15
  };
  using Req = QS8DwAvx2x8::Req;
  static Req req(const QS8RequantParams& p) { return QS8DwAvx2x8::req(p); }
  static Acc bias(const int32_t* b) { return {QS8DwAvx2x8::bias(b), QS8DwAvx2x8::bias(b + 8)}; }
  static Acc mac(Acc a, const int8_t* x, const int8_t* w) {
    const __m256i prod =
        _mm256_mullo_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x))),
                           _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w))));
    return {_mm256_add_epi32(a.lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(prod))),
            _mm256_add_epi32(a.hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(prod, 1)))};
  }
  static void store(Acc a, const float* scale, const Req& r, int8_t* out) {
    QS8DwAvx2x8::store(a.lo, scale, r, out);
    QS8DwAvx2x8::store(a.hi, scale + 8, r, out + 8);
  }
  static void store_sums(Acc a, int32_t* out) {
    QS8DwAvx2x8::store_sums(a.lo, out);
    QS8DwAvx2x8::store_sums(a.hi, out + 8);
  }
  using F = simd::F32x8Avx2;
  template <class E>
  static void store_act(Acc a, const float* scale, const E& e, int8_t* out) {
    QS8DwAvx2x8::store_act(a.lo, scale, e, out);
    QS8DwAvx2x8::store_act(a.hi, scale + 8, e, out + 8);
  }
};
#endif

// Portable (GCC/Clang vector extensions): 8 channels per step, products in int16 lanes
// (punpcklbw/psraw + pmullw on plain SSE2), sums in two int32x4 halves (16-byte vectors
// only, so no ABI change between ISAs).
struct QS8DwVec {
  static constexpr size_t kStep = 8;
  using Tail = QS8DwVec;
  typedef int32_t VI __attribute__((vector_size(16)));
  typedef int16_t VS __attribute__((vector_size(16)));
  typedef int16_t VS4 __attribute__((vector_size(8)));
  typedef float VF __attribute__((vector_size(16)));
  typedef int8_t VB __attribute__((vector_size(8)));
  typedef int8_t VB4 __attribute__((vector_size(4)));
  struct Acc {
    VI lo, hi;
  };
  struct Req {
    VF lo, hi;
    QS8RequantParams p;
  };
  static Req req(const QS8RequantParams& p) {
    const float lo = static_cast<float>(p.output_min - p.output_zero_point);
    const float hi = static_cast<float>(p.output_max - p.output_zero_point);
    return {VF{lo, lo, lo, lo}, VF{hi, hi, hi, hi}, p};
  }
  static VS widen(const int8_t* p) {
    VB b;
    std::memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, VS);
  }
  static Acc bias(const int32_t* b) {
    Acc a;
    std::memcpy(&a.lo, b, sizeof a.lo);
    std::memcpy(&a.hi, b + 4, sizeof a.hi);
    return a;
  }
  static Acc mac(Acc a, const int8_t* x, const int8_t* w) {
    const VS prod = widen(x) * widen(w);
    const VS4 plo = __builtin_shufflevector(prod, prod, 0, 1, 2, 3);
    const VS4 phi = __builtin_shufflevector(prod, prod, 4, 5, 6, 7);
    return {a.lo + __builtin_convertvector(plo, VI), a.hi + __builtin_convertvector(phi, VI)};
  }
  static void store4(VI acc, const float* scale, const Req& r, int8_t* out) {
    VF s;
    std::memcpy(&s, scale, sizeof s);
    VF y = __builtin_convertvector(acc, VF) * s;
    y = y < r.lo ? r.lo : y;
    y = y > r.hi ? r.hi : y;
    y += kQS8DwMagic;
    VI bits;
    std::memcpy(&bits, &y, sizeof bits);
    bits += r.p.output_zero_point - kQS8DwMagicBits;
    const VB4 b = __builtin_convertvector(bits, VB4);
    std::memcpy(out, &b, sizeof b);
  }
  static void store(Acc a, const float* scale, const Req& r, int8_t* out) {
    store4(a.lo, scale, r, out);
    store4(a.hi, scale + 4, r, out + 4);
  }
  static void store_sums(Acc a, int32_t* out) {
    std::memcpy(out, &a.lo, sizeof a.lo);
    std::memcpy(out + 4, &a.hi, sizeof a.hi);
  }
  using F = simd::F32x4Vec;  // its V is VF
  template <class E>
  static void store_act4(VI acc, const float* scale, const E& e, int8_t* out) {
    VF s;
    std::memcpy(&s, scale, sizeof s);
    const VF y = e(__builtin_convertvector(acc, VF) * s);
    VI bits;
    std::memcpy(&bits, &y, sizeof bits);
    bits += e.zp_less_magic;
    const VB4 b = __builtin_convertvector(bits, VB4);
    std::memcpy(out, &b, sizeof b);
  }
  template <class E>
  static void store_act(Acc a, const float* scale, const E& e, int8_t* out) {
    store_act4(a.lo, scale, e, out);
    store_act4(a.hi, scale + 4, e, out + 4);
  }
};

// Loops off the hot path (generic tap counts, channel tails) stay rolled and scalar: clang
// would otherwise unroll and vectorize them (gathers) into several KiB of kiln.wasm.
#if defined(__clang__)
#define KILN_QS8DW_ROLLED _Pragma("clang loop vectorize(disable) interleave(disable) unroll(disable)")
#else
#define KILN_QS8DW_ROLLED _Pragma("GCC unroll 1")
#endif

inline __attribute__((always_inline)) const int8_t* qs8_dwconv_tap(const int8_t* p, size_t a_offset,
                                                                    const int8_t* zero) {
  return p == zero ? p : p + a_offset;
}

// The three epilogues, chosen by the kernel's O: int8_t requantizes (the kernels above),
// int32_t stores the int32 sums as they are ("sums" kernels: the caller dequantizes,
// activates and requantizes), QS8DwActOut<Act> runs the activation epilogue of
// qs8-act-epilogue.h (int8 out, the packed scales being x_scale * w_scale).
template <class A>
struct QS8DwActOut {
  using Act = A;
};

template <class O>
struct QS8DwOut {
  using T = O;
  using Params = QS8RequantParams;
  template <class S>
  static typename S::Req req(const Params& p) {
    return S::req(p);
  }
};
template <class Act>
struct QS8DwOut<QS8DwActOut<Act>> {
  using T = int8_t;
  using Params = QS8ActParams;
  template <class S>
  static QS8ActVec<typename S::F, Act> req(const Params& p) {
    return QS8ActVec<typename S::F, Act>(p);
  }
};

template <class S, class O, class R>
inline __attribute__((always_inline)) void qs8_dwconv_out(typename S::Acc a, const float* scale, const R& r,
                                                          typename QS8DwOut<O>::T* out) {
  if constexpr (std::is_same_v<O, int32_t>)
    S::store_sums(a, out);
  else if constexpr (std::is_same_v<O, int8_t>)
    S::store(a, scale, r, out);
  else
    S::store_act(a, scale, r, out);
}
template <class O>
inline __attribute__((always_inline)) void qs8_dwconv_out_lane(int32_t acc, float scale,
                                                               const typename QS8DwOut<O>::Params& p,
                                                               typename QS8DwOut<O>::T* out) {
  if constexpr (std::is_same_v<O, int32_t>)
    *out = acc;
  else if constexpr (std::is_same_v<O, int8_t>)
    *out = qs8_dwconv_requant_lane(acc, scale, p);
  else
    *out = qs8_act_requantize<typename O::Act>(acc, scale, p);
}

// KS > 0: exactly KS taps (tap loop unrolled); KS == 0: ks taps. O: int8_t (requantized),
// int32_t (sums) or QS8DwActOut<Act>.
template <class S, size_t NV, size_t KS, class O = int8_t>
inline __attribute__((always_inline)) void qs8_dwconv_ukernel(size_t channels, size_t pixels, size_t ks,
                                                              const int8_t* const* input, const void* weights,
                                                              typename QS8DwOut<O>::T* out, size_t out_stride,
                                                              size_t a_offset, const int8_t* zero,
                                                              const typename QS8DwOut<O>::Params* params) {
  using Acc = typename S::Acc;
  constexpr size_t K = S::kStep, CT = NV * K;
  const size_t taps = KS != 0 ? KS : ks;
  const size_t tile_bytes = CT * 2 * 4 + taps * CT;
  const auto req = QS8DwOut<O>::template req<S>(*params);
  // The pixel's tap pointers, offset once (not per channel tile); generic kernels with
  // more taps than the array holds offset them as they go.
  constexpr size_t kCached = KS != 0 ? KS : 25;
  const int8_t* xp[kCached];
  const bool cached = taps <= kCached;
  for (; pixels != 0; --pixels, input += taps, out += out_stride) {
    if constexpr (KS != 0) {
#pragma GCC unroll 32
      for (size_t s = 0; s < KS; ++s) xp[s] = qs8_dwconv_tap(input[s], a_offset, zero);
    } else if (cached) {
      KILN_QS8DW_ROLLED
      for (size_t s = 0; s < taps; ++s) xp[s] = qs8_dwconv_tap(input[s], a_offset, zero);
    }
    auto tap = [&](size_t s) { return cached ? xp[s] : qs8_dwconv_tap(input[s], a_offset, zero); };
    const char* w = static_cast<const char*>(weights);
    for (size_t c = 0; c < channels; c += CT, w += tile_bytes) {
      const int32_t* bias = reinterpret_cast<const int32_t*>(w);
      const float* scale = reinterpret_cast<const float*>(w + CT * 4);
      const int8_t* q = reinterpret_cast<const int8_t*>(w + CT * 8);
      if (c + CT <= channels) {
        Acc acc[NV];
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) acc[v] = S::bias(bias + v * K);
        auto mac_tap = [&](size_t s) __attribute__((always_inline)) {
          const int8_t* x = tap(s) + c;
#pragma GCC unroll 8
          for (size_t v = 0; v < NV; ++v) acc[v] = S::mac(acc[v], x + v * K, q + CT * s + v * K);
        };
        // Fixed tap counts unroll fully; the generic kernels keep a plain loop (code size).
        if constexpr (KS != 0) {
#pragma GCC unroll 32
          for (size_t s = 0; s < KS; ++s) mac_tap(s);
        } else {
          KILN_QS8DW_ROLLED
          for (size_t s = 0; s < taps; ++s) mac_tap(s);
        }
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) qs8_dwconv_out<S, O>(acc[v], scale + v * K, req, out + c + v * K);
        continue;
      }
      // Last partial tile: whole (tail) steps, then lanes.
      using T = typename S::Tail;
      constexpr size_t KT = T::kStep;
      const auto treq = QS8DwOut<O>::template req<T>(*params);
      size_t j = 0;
      KILN_QS8DW_ROLLED
      for (; c + j + KT <= channels; j += KT) {
        typename T::Acc acc = T::bias(bias + j);
        KILN_QS8DW_ROLLED
        for (size_t s = 0; s < taps; ++s) acc = T::mac(acc, tap(s) + c + j, q + CT * s + j);
        qs8_dwconv_out<T, O>(acc, scale + j, treq, out + c + j);
      }
      KILN_QS8DW_ROLLED
      for (; c + j < channels; ++j) {
        int32_t acc = bias[j];
        KILN_QS8DW_ROLLED
        for (size_t s = 0; s < taps; ++s) acc += static_cast<int32_t>(tap(s)[c + j]) * q[CT * s + j];
        qs8_dwconv_out_lane<O>(acc, scale[j], *params, out + c + j);
      }
    }
  }
}

}  // namespace
}  // namespace kiln
