// The one f32-qc8w depthwise microkernel template (layout in f32-qc8w-dwconv.h); every
// f32-qc8w-dwconv-<taps>p<CT>c-<arch>.cc instantiates it. Per block of output pixels and
// channel tile of CT = NV vectors, the tile's int8 taps are widened to float once; then per
// pixel the accumulators sum x * w over all taps in registers and apply acc * scale + bias
// once; the last partial tile runs whole vectors (its taps are padded to CT), then lanes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

// kLanes int8 values widened to one float vector, per instruction set.
template <class S>
struct I8ToF32;

#if defined(KILN_HAVE_SIMD128)
template <>
struct I8ToF32<simd::F32x4Simd128> {
  // v128.load32_zero, two sign extensions, f32x4.convert_i32x4_s.
  static v128_t load(const int8_t* p) {
    const v128_t b = wasm_v128_load32_zero(p);
    return wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(wasm_i16x8_extend_low_i8x16(b)));
  }
};
#endif

#if defined(KILN_HAVE_AVX2)
template <>
struct I8ToF32<simd::F32x8Avx2> {
  // vpmovsxbd from memory + vcvtdq2ps.
  static __m256 load(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
};
#endif

template <>
struct I8ToF32<simd::F32x4Vec> {
  static simd::F32x4Vec::V load(const int8_t* p) {
    typedef int8_t B __attribute__((vector_size(4)));
    B b;
    std::memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, simd::F32x4Vec::V);
  }
};

inline __attribute__((always_inline)) const float* f32_qc8w_dwconv_tap(const float* p, size_t a_offset,
                                                                        const float* zero) {
  return p == zero ? p : reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + a_offset);
}

// Taps widened once per channel tile and block of pixels into a float buffer on the stack,
// then the f32-dwconv loop over the block: the widening costs ~4 instructions per 4 weights
// in SIMD128 (3-4x slower than f32 when done per pixel; 0.75x with blocks of 16 pixels,
// 0.85x with 64: src/kernels/README.md), so it is amortized over a block of pixels. Tap counts above kMaxTaps take the per-pixel widening loop below.
inline constexpr size_t kQC8WDwconvBlock = 64, kQC8WDwconvMaxTaps = 25;

template <class S, size_t NV>
inline __attribute__((always_inline)) void f32_qc8w_dwconv_widen_each_pixel(
    size_t channels, size_t pixels, size_t taps, const float* const* input, const void* weights, float* out,
    size_t out_stride, size_t a_offset, const float* zero, const F32MinMax* params) {
  using V = typename S::V;
  using W = I8ToF32<S>;
  constexpr size_t L = S::kLanes, CT = NV * L;
  const size_t tile_bytes = CT * 2 * sizeof(float) + taps * CT;
  const V vmin = S::splat(params->min), vmax = S::splat(params->max);
  for (; pixels != 0; --pixels, input += taps, out += out_stride) {
    const char* w = static_cast<const char*>(weights);
    for (size_t c = 0; c < channels; c += CT, w += tile_bytes) {
      const float* bias = reinterpret_cast<const float*>(w);
      const int8_t* q = reinterpret_cast<const int8_t*>(w + CT * 2 * sizeof(float));
      size_t j = 0;
      for (; j + L <= CT && c + j + L <= channels; j += L) {
        V acc = S::splat(0.f);
        for (size_t s = 0; s < taps; ++s)
          acc = S::muladd(S::load(f32_qc8w_dwconv_tap(input[s], a_offset, zero) + c + j), W::load(q + CT * s + j),
                          acc);
        S::store(out + c + j, S::min(S::max(S::muladd(acc, S::load(bias + CT + j), S::load(bias + j)), vmin), vmax));
      }
      for (; j < CT && c + j < channels; ++j) {
        float acc = 0.f;
        for (size_t s = 0; s < taps; ++s)
          acc += f32_qc8w_dwconv_tap(input[s], a_offset, zero)[c + j] * static_cast<float>(q[CT * s + j]);
        out[c + j] = std::min(std::max(acc * bias[CT + j] + bias[j], params->min), params->max);
      }
    }
  }
}

// KS > 0: exactly KS taps (tap loop unrolled); KS == 0: ks taps.
template <class S, size_t NV, size_t KS>
inline __attribute__((always_inline)) void f32_qc8w_dwconv_ukernel(size_t channels, size_t pixels, size_t ks,
                                                                   const float* const* input, const void* weights,
                                                                   float* out, size_t out_stride, size_t a_offset,
                                                                   const float* zero, const F32MinMax* params) {
  using V = typename S::V;
  using W = I8ToF32<S>;
  constexpr size_t L = S::kLanes, CT = NV * L;
  const size_t taps = KS != 0 ? KS : ks;
  if (taps > kQC8WDwconvMaxTaps)
    return f32_qc8w_dwconv_widen_each_pixel<S, NV>(channels, pixels, taps, input, weights, out, out_stride,
                                                   a_offset, zero, params);
  const size_t tile_bytes = CT * 2 * sizeof(float) + taps * CT;
  const V vmin = S::splat(params->min), vmax = S::splat(params->max);
  float wf[(KS != 0 ? KS : kQC8WDwconvMaxTaps) * CT];
  while (pixels != 0) {
    const size_t pb = std::min(pixels, kQC8WDwconvBlock);
    const char* w = static_cast<const char*>(weights);
    for (size_t c = 0; c < channels; c += CT, w += tile_bytes) {
      const float* bias = reinterpret_cast<const float*>(w);
      const int8_t* q = reinterpret_cast<const int8_t*>(w + CT * 2 * sizeof(float));
#pragma GCC unroll 32
      for (size_t s = 0; s < taps; ++s)
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) S::store(wf + CT * s + v * L, W::load(q + CT * s + v * L));
      const float* const* in = input;
      float* o = out + c;
      if (c + CT <= channels) {
        V vscale[NV], vbias[NV];
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) vscale[v] = S::load(bias + CT + v * L), vbias[v] = S::load(bias + v * L);
        for (size_t p = 0; p < pb; ++p, in += taps, o += out_stride) {
          V acc[NV];
#pragma GCC unroll 8
          for (size_t v = 0; v < NV; ++v) acc[v] = S::splat(0.f);
#pragma GCC unroll 32
          for (size_t s = 0; s < taps; ++s) {
            const float* x = f32_qc8w_dwconv_tap(in[s], a_offset, zero) + c;
#pragma GCC unroll 8
            for (size_t v = 0; v < NV; ++v) acc[v] = S::muladd(S::load(x + v * L), S::load(wf + CT * s + v * L), acc[v]);
          }
#pragma GCC unroll 8
          for (size_t v = 0; v < NV; ++v)
            S::store(o + v * L, S::min(S::max(S::muladd(acc[v], vscale[v], vbias[v]), vmin), vmax));
        }
        continue;
      }
      // Last partial tile: whole vectors, then lanes.
      for (size_t p = 0; p < pb; ++p, in += taps, o += out_stride) {
        size_t j = 0;
        for (; c + j + L <= channels; j += L) {
          V acc = S::splat(0.f);
          for (size_t s = 0; s < taps; ++s)
            acc = S::muladd(S::load(f32_qc8w_dwconv_tap(in[s], a_offset, zero) + c + j), S::load(wf + CT * s + j), acc);
          S::store(o + j, S::min(S::max(S::muladd(acc, S::load(bias + CT + j), S::load(bias + j)), vmin), vmax));
        }
        for (; c + j < channels; ++j) {
          float acc = 0.f;
          for (size_t s = 0; s < taps; ++s) acc += f32_qc8w_dwconv_tap(in[s], a_offset, zero)[c + j] * wf[CT * s + j];
          o[j] = std::min(std::max(acc * bias[CT + j] + bias[j], params->min), params->max);
        }
      }
    }
    input += pb * taps;
    out += pb * out_stride;
    pixels -= pb;
  }
}

}  // namespace
}  // namespace kiln
