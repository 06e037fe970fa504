// The resize microkernel templates (layouts in f32-resize.h); every
// f32-ibilinear-*.cc / x32-igather-*.cc file instantiates one for an ISA struct of
// kernels/simd/f32-vec.h and a tile. Scalar kernels use S = void (plain loops, the
// testers' oracle for the arithmetic order).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/f32-resize/f32-resize.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

template <class T>
inline __attribute__((always_inline)) const T* f32_resize_at(const T* p, size_t offset) {
  return reinterpret_cast<const T*>(reinterpret_cast<uintptr_t>(p) + offset);
}

inline __attribute__((always_inline)) float f32_lerp(float a, float b, float t) { return a + (b - a) * t; }

// b - a in the vector layer's own operations: a * -1 is exact, so muladd rounds once, like
// a subtraction (kept here rather than growing simd/f32-vec.h, which every kernel includes).
template <class S>
inline __attribute__((always_inline)) typename S::V f32_vsub(typename S::V b, typename S::V a,
                                                              typename S::V minus_one) {
  return S::muladd(a, minus_one, b);
}

// Channels-last bilinear: NV vectors of channels per step, then one vector, then lanes.
template <class S, size_t NV>
inline __attribute__((always_inline)) void f32_ibilinear_ukernel(size_t pixels, size_t channels,
                                                                 const float* const* input, size_t input_offset,
                                                                 const float* weights, float* output,
                                                                 size_t out_stride) {
  for (; pixels != 0; --pixels, input += 4, weights += 2, output += out_stride) {
    const float* tl = f32_resize_at(input[0], input_offset);
    const float* tr = f32_resize_at(input[1], input_offset);
    const float* bl = f32_resize_at(input[2], input_offset);
    const float* br = f32_resize_at(input[3], input_offset);
    const float ah = weights[0], av = weights[1];
    size_t c = 0;
    if constexpr (!std::is_void_v<S>) {
      using V = typename S::V;
      constexpr size_t L = S::kLanes;
      const V vah = S::splat(ah), vav = S::splat(av), m1 = S::splat(-1.f);
      auto one = [&](size_t at) {
        const V t = S::load(tl + at), b = S::load(bl + at);
        const V top = S::muladd(f32_vsub<S>(S::load(tr + at), t, m1), vah, t);
        const V bottom = S::muladd(f32_vsub<S>(S::load(br + at), b, m1), vah, b);
        S::store(output + at, S::muladd(f32_vsub<S>(bottom, top, m1), vav, top));
      };
      for (; c + NV * L <= channels; c += NV * L) {
#pragma GCC unroll 4
        for (size_t v = 0; v < NV; ++v) one(c + v * L);
      }
      for (; c + L <= channels; c += L) one(c);
    }
    for (; c < channels; ++c) {
      const float top = f32_lerp(tl[c], tr[c], ah), bottom = f32_lerp(bl[c], br[c], ah);
      output[c] = f32_lerp(top, bottom, av);
    }
  }
}

// Planar bilinear: NV vectors of output pixels per step. The four corners of each lane are
// gathered through a small stack array (there is no gather in SIMD128; on AVX2 the
// compiler's inserts are as fast as vgatherdps for 64-bit pointers), then interpolated as
// vectors.
template <class S, size_t NV>
inline __attribute__((always_inline)) void f32_ibilinear_chw_ukernel(size_t pixels, size_t planes,
                                                                     const float* const* input, size_t input_offset,
                                                                     const float* weights, float* output,
                                                                     size_t out_plane_stride, size_t input_increment) {
  for (; planes != 0; --planes, input_offset += input_increment, output += out_plane_stride) {
    const float* const* in = input;
    const float* w = weights;
    float* out = output;
    size_t n = pixels;
    if constexpr (!std::is_void_v<S>) {
      using V = typename S::V;
      constexpr size_t L = S::kLanes, T = NV * L;
      const V m1 = S::splat(-1.f);
      for (; n >= T; n -= T, in += 2 * T, w += 2 * T, out += T) {
        alignas(32) float g[4][T], ah[T], av[T];
#pragma GCC unroll 16
        for (size_t j = 0; j < T; ++j) {
          const float* t = f32_resize_at(in[2 * j], input_offset);
          const float* b = f32_resize_at(in[2 * j + 1], input_offset);
          g[0][j] = t[0], g[1][j] = t[1], g[2][j] = b[0], g[3][j] = b[1];
          ah[j] = w[2 * j], av[j] = w[2 * j + 1];
        }
#pragma GCC unroll 4
        for (size_t v = 0; v < NV; ++v) {
          const size_t at = v * L;
          const V vah = S::load(ah + at), vav = S::load(av + at);
          const V tl = S::load(g[0] + at), bl = S::load(g[2] + at);
          const V top = S::muladd(f32_vsub<S>(S::load(g[1] + at), tl, m1), vah, tl);
          const V bottom = S::muladd(f32_vsub<S>(S::load(g[3] + at), bl, m1), vah, bl);
          S::store(out + at, S::muladd(f32_vsub<S>(bottom, top, m1), vav, top));
        }
      }
    }
    for (; n != 0; --n, in += 2, w += 2, ++out) {
      const float* t = f32_resize_at(in[0], input_offset);
      const float* b = f32_resize_at(in[1], input_offset);
      const float top = f32_lerp(t[0], t[1], w[0]), bottom = f32_lerp(b[0], b[1], w[0]);
      *out = f32_lerp(top, bottom, w[1]);
    }
  }
}

// Nearest: copies `channels` 32-bit values per output pixel, NV vectors per step (vector
// loads and stores move the bits unchanged, NaN payloads included).
template <class S, size_t NV>
inline __attribute__((always_inline)) void x32_igather_ukernel(size_t pixels, size_t channels,
                                                               const uint32_t* const* input, size_t input_offset,
                                                               uint32_t* output, size_t out_stride) {
  if (channels == 1) {  // planar nearest: a pure gather
    for (; pixels != 0; --pixels, ++input, output += out_stride) *output = *f32_resize_at(input[0], input_offset);
    return;
  }
  for (; pixels != 0; --pixels, ++input, output += out_stride) {
    const uint32_t* src = f32_resize_at(input[0], input_offset);
    size_t c = 0;
    if constexpr (!std::is_void_v<S>) {
      constexpr size_t L = S::kLanes;
      const float* s = reinterpret_cast<const float*>(src);
      float* d = reinterpret_cast<float*>(output);
      for (; c + NV * L <= channels; c += NV * L) {
#pragma GCC unroll 4
        for (size_t v = 0; v < NV; ++v) S::store(d + c + v * L, S::load(s + c + v * L));
      }
      for (; c + L <= channels; c += L) S::store(d + c, S::load(s + c));
    }
    for (; c < channels; ++c) output[c] = src[c];
  }
}

}  // namespace
}  // namespace kiln
