// The one pooling microkernel template (contract in f32-pool.h); every
// f32-{max,avg}pool-9p8x-<arch>-c<CT>.cc instantiates it. kAvg picks the reduction
// (add, or max) and the final scaling; the tap and channel walking is shared.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/f32-pool/f32-pool.h"
#include "kernels/simd/f32-arith.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

template <class S, size_t NV, bool kAvg>
struct F32PoolUkernel {
  using V = typename S::V;
  using A = simd::F32Arith<S>;
  static constexpr size_t L = S::kLanes, CT = NV * L;

  static inline __attribute__((always_inline)) V op(V a, V b) {
    if constexpr (kAvg) return A::add(a, b);
    else return S::max(a, b);
  }
  static inline __attribute__((always_inline)) float op(float a, float b) {
    if constexpr (kAvg) return a + b;
    else return a < b ? b : a;
  }
  // Pairwise tree over NT values (shorter dependency chains than a running fold).
  template <size_t NT, class T, class Load>
  static inline __attribute__((always_inline)) T reduce(Load load) {
    T r[NT];
#pragma GCC unroll 16
    for (size_t j = 0; j < NT; ++j) r[j] = load(j);
#pragma GCC unroll 8
    for (size_t w = 1; w < NT; w *= 2)
#pragma GCC unroll 16
      for (size_t j = 0; j + w < NT; j += 2 * w) r[j] = op(r[j], r[j + w]);
    return r[0];
  }

  // One pass over NT taps ip[0..NT) for every channel; `first`: no running value in o yet;
  // `last`: scale (average) and clamp.
  template <size_t NT>
  static inline __attribute__((always_inline)) void pass(size_t channels, const float* const* ip, bool first,
                                                         bool last, float mul, const F32MinMax* params,
                                                         float* o) {
    const V vmul = S::splat(mul), vmin = S::splat(params->min), vmax = S::splat(params->max);
    auto finish = [&](V v) {
      if constexpr (kAvg) v = A::mul(v, vmul);
      return S::min(S::max(v, vmin), vmax);
    };
    size_t c = 0;
    for (; c + CT <= channels; c += CT) {
      V acc[NV];
#pragma GCC unroll 8
      for (size_t v = 0; v < NV; ++v) {
        const size_t off = c + v * L;
        acc[v] = reduce<NT, V>([&](size_t j) { return S::load(ip[j] + off); });
        if (!first) acc[v] = op(S::load(o + off), acc[v]);
      }
      if (last) {
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) acc[v] = finish(acc[v]);
      }
#pragma GCC unroll 8
      for (size_t v = 0; v < NV; ++v) S::store(o + c + v * L, acc[v]);
    }
    for (; c + L <= channels; c += L) {
      V acc = reduce<NT, V>([&](size_t j) { return S::load(ip[j] + c); });
      if (!first) acc = op(S::load(o + c), acc);
      S::store(o + c, last ? finish(acc) : acc);
    }
    for (; c < channels; ++c) {
      float acc = reduce<NT, float>([&](size_t j) { return ip[j][c]; });
      if (!first) acc = op(o[c], acc);
      if (last) {
        if constexpr (kAvg) acc *= mul;
        acc = std::min(std::max(acc, params->min), params->max);
      }
      o[c] = acc;
    }
  }

  static inline __attribute__((always_inline)) void run(size_t pixels, size_t ks, size_t channels,
                                                        const float* const* input, size_t a_offset,
                                                        const float* pad, const float* multiplier, float* out,
                                                        size_t out_stride, const F32MinMax* params) {
    auto tap = [&](const float* p) {
      return p == pad ? p : reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + a_offset);
    };
    for (size_t p = 0; p < pixels; ++p, input += ks, out += out_stride) {
      const float mul = kAvg ? multiplier[p] : 1.f;
      // Taps past ks read the padding row (zeros: no change to a sum) or repeat tap 0
      // (no change to a max).
      const float* ip[9];
      ip[0] = tap(input[0]);
#pragma GCC unroll 9
      for (size_t j = 1; j < 9; ++j) ip[j] = j < ks ? tap(input[j]) : (kAvg ? pad : ip[0]);
      pass<9>(channels, ip, true, ks <= 9, mul, params, out);
      for (size_t k = 9; k < ks; k += 8) {
        ip[0] = tap(input[k]);
#pragma GCC unroll 8
        for (size_t j = 1; j < 8; ++j) ip[j] = k + j < ks ? tap(input[k + j]) : (kAvg ? pad : ip[0]);
        pass<8>(channels, ip, false, k + 8 >= ks, mul, params, out);
      }
    }
  }
};

}  // namespace
}  // namespace kiln
