// The one f32 depthwise microkernel template (layouts in f32-dwconv.h); every
// f32-dwconv-<taps>p<CT>c-<arch>.cc instantiates it. Per output pixel, channel tiles of
// CT = NV vectors accumulate all taps in registers; the last partial tile runs whole
// vectors, then single lanes, so nothing is read or written past `channels`.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

inline __attribute__((always_inline)) const float* f32_dwconv_tap(const float* p, size_t a_offset,
                                                                  const float* zero) {
  return p == zero ? p : reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + a_offset);
}

// KS > 0: exactly KS taps (the tap pointers are computed once per pixel and the tap loop
// is unrolled); KS == 0: ks taps, pointers computed per tile.
template <class S, size_t NV, size_t KS>
inline __attribute__((always_inline)) void f32_dwconv_ukernel(size_t channels, size_t pixels, size_t ks,
                                                              const float* const* input, const float* weights,
                                                              float* out, size_t out_stride, size_t a_offset,
                                                              const float* zero, const F32MinMax* params) {
  using V = typename S::V;
  constexpr size_t L = S::kLanes, CT = NV * L;
  const size_t taps = KS != 0 ? KS : ks;
  const V vmin = S::splat(params->min), vmax = S::splat(params->max);
  for (; pixels != 0; --pixels, input += taps, out += out_stride) {
    const float* ip[KS != 0 ? KS : 1];
    if constexpr (KS != 0) {
#pragma GCC unroll 32
      for (size_t s = 0; s < KS; ++s) ip[s] = f32_dwconv_tap(input[s], a_offset, zero);
    }
    auto tap = [&](size_t s) {
      if constexpr (KS != 0) return ip[s];
      return f32_dwconv_tap(input[s], a_offset, zero);
    };
    const float* w = weights;
    size_t c = 0;
    for (; c + CT <= channels; c += CT, w += CT * (taps + 1)) {
      V acc[NV];
#pragma GCC unroll 8
      for (size_t v = 0; v < NV; ++v) acc[v] = S::load(w + v * L);
#pragma GCC unroll 32
      for (size_t s = 0; s < taps; ++s) {
        const float* x = tap(s) + c;
        const float* ws = w + CT * (s + 1);
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) acc[v] = S::muladd(S::load(x + v * L), S::load(ws + v * L), acc[v]);
      }
#pragma GCC unroll 8
      for (size_t v = 0; v < NV; ++v) S::store(out + c + v * L, S::min(S::max(acc[v], vmin), vmax));
    }
    if (c == channels) continue;
    // Last partial tile (its weights are zero padded to CT): whole vectors, then lanes.
    size_t j = 0;
    for (; c + j + L <= channels; j += L) {
      V acc = S::load(w + j);
      for (size_t s = 0; s < taps; ++s) acc = S::muladd(S::load(tap(s) + c + j), S::load(w + CT * (s + 1) + j), acc);
      S::store(out + c + j, S::min(S::max(acc, vmin), vmax));
    }
    for (; c + j < channels; ++j) {
      float acc = w[j];
      for (size_t s = 0; s < taps; ++s) acc += tap(s)[c + j] * w[CT * (s + 1) + j];
      out[c + j] = std::min(std::max(acc, params->min), params->max);
    }
  }
}

}  // namespace
}  // namespace kiln
