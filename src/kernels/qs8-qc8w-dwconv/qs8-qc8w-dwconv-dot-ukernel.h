// The tap-pair ("dot") variant of the qs8-qc8w depthwise microkernel for SIMD128 (packed
// with kr = 2, layout in qs8-qc8w-dwconv.h). Per pair of taps and 8 channels: the two
// input rows widened (v128.load8x8_s x2), interleaved into (x_s[c], x_s+1[c]) int16 pairs
// (two i8x16.shuffle that V8 emits as punpck{l,h}wd), and i32x4.dot_i16x8_s against the
// packed weight pairs adds both taps' products per channel: 10 instructions per 16
// products against 14 for the int16-multiply kernel. (x * w and the pair sum fit int32:
// no saturation, unlike pmaddubsw.) Epilogue and tails as qs8-qc8w-dwconv-ukernel.h.
#pragma once
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-ukernel.h"

namespace kiln {
namespace {

#if defined(KILN_HAVE_SIMD128)
inline __attribute__((always_inline)) QS8DwSimd128::Acc qs8_dwconv_dot_pair(QS8DwSimd128::Acc a, const int8_t* x0,
                                                                            const int8_t* x1, const int8_t* w) {
  const v128_t v0 = wasm_i16x8_load8x8(x0), v1 = wasm_i16x8_load8x8(x1);
  const v128_t lo = wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11);
  const v128_t hi = wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15);
  return {wasm_i32x4_add(a.lo, wasm_i32x4_dot_i16x8(lo, wasm_i16x8_load8x8(w))),
          wasm_i32x4_add(a.hi, wasm_i32x4_dot_i16x8(hi, wasm_i16x8_load8x8(w + 8)))};
}

// KS > 0: exactly KS taps (pair loop unrolled); KS == 0: ks taps.
template <size_t NV, size_t KS>
inline __attribute__((always_inline)) void qs8_dwconv_dot_ukernel(size_t channels, size_t pixels, size_t ks,
                                                                  const int8_t* const* input, const void* weights,
                                                                  int8_t* out, size_t out_stride, size_t a_offset,
                                                                  const int8_t* zero, const QS8RequantParams* params) {
  using S = QS8DwSimd128;
  constexpr size_t K = S::kStep, CT = NV * K;
  const size_t taps = KS != 0 ? KS : ks, pairs = (taps + 1) / 2;
  const size_t tile_bytes = CT * 8 + pairs * 2 * CT;
  const S::Req req = S::req(*params);
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
        S::Acc acc[NV];
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) acc[v] = S::bias(bias + v * K);
        auto mac_pair = [&](size_t p) __attribute__((always_inline)) {
          const int8_t* x0 = tap(2 * p) + c;
          const int8_t* x1 = tap(2 * p + 1) + c;
#pragma GCC unroll 8
          for (size_t v = 0; v < NV; ++v)
            acc[v] = qs8_dwconv_dot_pair(acc[v], x0 + v * K, x1 + v * K, q + 2 * CT * p + 2 * K * v);
        };
        if constexpr (KS != 0) {
#pragma GCC unroll 16
          for (size_t p = 0; p < (KS + 1) / 2; ++p) mac_pair(p);
        } else {
          KILN_QS8DW_ROLLED
          for (size_t p = 0; p < pairs; ++p) mac_pair(p);
        }
#pragma GCC unroll 8
        for (size_t v = 0; v < NV; ++v) S::store(acc[v], scale + v * K, req, out + c + v * K);
        continue;
      }
      // Last partial tile: whole 8-channel steps, then lanes.
      size_t j = 0;
      KILN_QS8DW_ROLLED
      for (; c + j + K <= channels; j += K) {
        S::Acc acc = S::bias(bias + j);
        KILN_QS8DW_ROLLED
        for (size_t p = 0; p < pairs; ++p)
          acc = qs8_dwconv_dot_pair(acc, tap(2 * p) + c + j, tap(2 * p + 1) + c + j, q + 2 * CT * p + 2 * j);
        S::store(acc, scale + j, req, out + c + j);
      }
      KILN_QS8DW_ROLLED
      for (; c + j < channels; ++j) {
        int32_t acc = bias[j];
        KILN_QS8DW_ROLLED
        for (size_t s = 0; s < taps; ++s)
          acc += static_cast<int32_t>(tap(s)[c + j]) * q[2 * CT * (s / 2) + 2 * j + s % 2];
        out[c + j] = qs8_dwconv_requant_lane(acc, scale[j], *params);
      }
    }
  }
}
#endif

}  // namespace
}  // namespace kiln
