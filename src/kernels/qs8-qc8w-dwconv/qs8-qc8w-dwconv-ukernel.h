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

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"
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
};
#endif

#if defined(KILN_HAVE_AVX2)
// 16 channels per step: vpmovsxbw (x and w), vpmullw, vpmovsxwd of each half + vpaddd.
struct QS8DwAvx2 {
  static constexpr size_t kStep = 16;
  struct Acc {
    __m256i lo, hi;  // channels 0-7, 8-15
  };
  struct Req {
    __m256 lo, hi, magic;
    __m256i zp;
  };
  static Req req(const QS8RequantParams& p) {
    return {_mm256_set1_ps(static_cast<float>(p.output_min - p.output_zero_point)),
            _mm256_set1_ps(static_cast<float>(p.output_max - p.output_zero_point)), _mm256_set1_ps(kQS8DwMagic),
            _mm256_set1_epi32(p.output_zero_point - kQS8DwMagicBits)};
  }
  static Acc bias(const int32_t* b) {
    return {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 8))};
  }
  static Acc mac(Acc a, const int8_t* x, const int8_t* w) {
    const __m256i prod =
        _mm256_mullo_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x))),
                           _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w))));
    return {_mm256_add_epi32(a.lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(prod))),
            _mm256_add_epi32(a.hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(prod, 1)))};
  }
  static __m256i requant(__m256i acc, const float* scale, const Req& r) {
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale));
    y = _mm256_add_ps(_mm256_min_ps(_mm256_max_ps(y, r.lo), r.hi), r.magic);
    return _mm256_add_epi32(_mm256_castps_si256(y), r.zp);
  }
  static void store(Acc a, const float* scale, const Req& r, int8_t* out) {
    // packs works per 128-bit half: [lo0-3 hi0-3 | lo4-7 hi4-7] -> reorder the 64-bit quarters.
    const __m256i h = _mm256_permute4x64_epi64(
        _mm256_packs_epi32(requant(a.lo, scale, r), requant(a.hi, scale + 8, r)), 0xD8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                     _mm_packs_epi16(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
  }
};
#endif

// Portable (GCC/Clang vector extensions): 4 channels per step in int32 lanes.
struct QS8DwVec {
  static constexpr size_t kStep = 4;
  typedef int32_t VI __attribute__((vector_size(16)));
  typedef float VF __attribute__((vector_size(16)));
  typedef int8_t VB __attribute__((vector_size(4)));
  using Acc = VI;
  struct Req {
    VF lo, hi;
    QS8RequantParams p;
  };
  static Req req(const QS8RequantParams& p) {
    const float lo = static_cast<float>(p.output_min - p.output_zero_point);
    const float hi = static_cast<float>(p.output_max - p.output_zero_point);
    return {VF{lo, lo, lo, lo}, VF{hi, hi, hi, hi}, p};
  }
  static VI widen(const int8_t* p) {
    VB b;
    std::memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, VI);
  }
  static Acc bias(const int32_t* b) {
    VI v;
    std::memcpy(&v, b, sizeof v);
    return v;
  }
  static Acc mac(Acc a, const int8_t* x, const int8_t* w) { return a + widen(x) * widen(w); }
  static void store(Acc a, const float* scale, const Req& r, int8_t* out) {
    VF s;
    std::memcpy(&s, scale, sizeof s);
    VF y = __builtin_convertvector(a, VF) * s;
    y = y < r.lo ? r.lo : y;
    y = y > r.hi ? r.hi : y;
    y += kQS8DwMagic;
    VI bits;
    std::memcpy(&bits, &y, sizeof bits);
    bits += r.p.output_zero_point - kQS8DwMagicBits;
    const VB b = __builtin_convertvector(bits, VB);
    std::memcpy(out, &b, sizeof b);
  }
};

inline __attribute__((always_inline)) const int8_t* qs8_dwconv_tap(const int8_t* p, size_t a_offset,
                                                                    const int8_t* zero) {
  return p == zero ? p : p + a_offset;
}

// KS > 0: exactly KS taps (tap loop unrolled); KS == 0: ks taps.
template <class S, size_t NV, size_t KS>
inline __attribute__((always_inline)) void qs8_dwconv_ukernel(size_t channels, size_t pixels, size_t ks,
                                                              const int8_t* const* input, const void* weights,
                                                              int8_t* out, size_t out_stride, size_t a_offset,
                                                              const int8_t* zero, const QS8RequantParams* params) {
  using Acc = typename S::Acc;
  constexpr size_t K = S::kStep, CT = NV * K;
  const size_t taps = KS != 0 ? KS : ks;
  const size_t tile_bytes = CT * 2 * 4 + taps * CT;
  const typename S::Req req = S::req(*params);
  for (; pixels != 0; --pixels, input += taps, out += out_stride) {
    const char* w = static_cast<const char*>(weights);
    for (size_t c = 0; c < channels; c += CT, w += tile_bytes) {
      const int32_t* bias = reinterpret_cast<const int32_t*>(w);
      const float* scale = reinterpret_cast<const float*>(w + CT * 4);
      const int8_t* q = reinterpret_cast<const int8_t*>(w + CT * 8);
      if (c + CT <= channels) {
        Acc acc[NV];
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) acc[v] = S::bias(bias + v * K);
#pragma GCC unroll 32
        for (size_t s = 0; s < taps; ++s) {
          const int8_t* x = qs8_dwconv_tap(input[s], a_offset, zero) + c;
#pragma GCC unroll 8
          for (size_t v = 0; v < NV; ++v) acc[v] = S::mac(acc[v], x + v * K, q + CT * s + v * K);
        }
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) S::store(acc[v], scale + v * K, req, out + c + v * K);
        continue;
      }
      // Last partial tile: whole steps, then lanes.
      size_t j = 0;
      for (; c + j + K <= channels; j += K) {
        Acc acc = S::bias(bias + j);
        for (size_t s = 0; s < taps; ++s) acc = S::mac(acc, qs8_dwconv_tap(input[s], a_offset, zero) + c + j, q + CT * s + j);
        S::store(acc, scale + j, req, out + c + j);
      }
      for (; c + j < channels; ++j) {
        int32_t acc = bias[j];
        for (size_t s = 0; s < taps; ++s)
          acc += static_cast<int32_t>(qs8_dwconv_tap(input[s], a_offset, zero)[c + j]) * q[CT * s + j];
        out[c + j] = qs8_dwconv_requant_lane(acc, scale[j], *params);
      }
    }
  }
}

}  // namespace
}  // namespace kiln
