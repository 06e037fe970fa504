// The one qd8-f32-qb4w GEMM/GEMV microkernel template (layout in qd8-f32-qb4w-gemm.h);
// each qd8-f32-qb4w-gemm-<MR>x<NR>c2-<arch>.cc instantiates it for a struct of simd/qs8-vec.h.
//
// Per block of 32 k and panel, one group of 8 k at a time: its 8 * NR nibble bytes are
// unpacked to int8 (`i8x16.shl` + `i8x16.shr_s` in SIMD128), then the int8 k loop of
// qd8-f32-qc8w (qd8_gemm_pair: widening loads, pair broadcast, i32x4.dot_i16x8_s /
// vpmaddwd) runs over them for every row, so the unpack is shared by MR rows. The block's
// int32 sums go to float with the block scale; row scale and bias come at the end.
//
// kMin (the asymmetric "qb4w-min" form): each block also carries a float min' per column;
// its term min' * sum_{k in block} (qa[k] - a_zero) needs one int8 row sum per row and block
// (shared by the NR columns), so the codes' part stays the symmetric kernel's int8 dot.
#pragma once
#include <cstddef>
#include <cstring>

#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm-ukernel.h"

namespace kiln {
namespace {

// Group g (8 k x NR columns = 8 * NR int8) of a packed block: bytes [(g & 1) * 8 * NR, +8 * NR),
// low nibbles for g < 2, high ones for g >= 2; sign-extended to int8. One group at a time
// keeps 8 * NR bytes of weights live (a whole block's 32 widened vectors spill in V8).
template <size_t NR>
inline __attribute__((always_inline)) void qb4w_unpack_group(const int8_t* block, size_t g, int8_t* dst) {
  typedef int8_t V __attribute__((vector_size(16), aligned(1)));
  const int8_t* src = block + (g & 1) * 8 * NR;
  const int hi = static_cast<int>(g >> 1);
#pragma GCC unroll 16
  for (size_t t = 0; t < NR / 2; ++t) {
    V v;
    std::memcpy(&v, src + 16 * t, 16);
    const V q = hi ? v >> 4 : (v << 4) >> 4;  // arithmetic shifts: the int4 sign
    std::memcpy(dst + 16 * t, &q, 16);
  }
}

template <class S, size_t MR, size_t NV, bool kMin = false>
inline __attribute__((always_inline)) void qb4w_gemm_ukernel(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                                             size_t a_stride, const QD8RowParams* row_params,
                                                             const void* w_void, float* c, size_t c_stride,
                                                             const F32MinMax* params) {
  using VI = typename S::VI;
  using F = typename S::F;
  using VF = typename F::V;
  constexpr size_t L = S::kLanes, NR = NV * L;
  const size_t blocks = qb4w_blocks(kc);
  const int8_t* ar[MR];
  float* cr[MR];
  VI zero_point[MR];
  VF a_scale[MR];
  for (size_t i = 0; i < MR; ++i) {
    const size_t row = i < mr ? i : mr - 1;  // rows past mr alias the last valid one
    ar[i] = a + row * a_stride;
    cr[i] = c + row * c_stride;
    zero_point[i] = S::splat_i32(row_params[row].zero_point);
    a_scale[i] = F::splat(row_params[row].scale);
  }
  const VF vmin = F::splat(params->min), vmax = F::splat(params->max);
  const int8_t* w = static_cast<const int8_t*>(w_void);
  alignas(64) int8_t unpacked[8 * NR];
  while (nc != 0) {
    float bias[NR];
    std::memcpy(bias, w, sizeof bias);
    w += NR * 4;
    VF facc[MR][NV];
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) facc[i][v] = F::splat(0.f);
    const int8_t* ap[MR];
    for (size_t i = 0; i < MR; ++i) ap[i] = ar[i];
    for (size_t b = 0; b < blocks; ++b) {
      int32_t ksum[NR];
      float bscale[NR], bmin[NR];
      std::memcpy(ksum, w, sizeof ksum);
      std::memcpy(bscale, w + NR * 4, sizeof bscale);
      if constexpr (kMin) std::memcpy(bmin, w + NR * 8, sizeof bmin);
      constexpr size_t kHead = kMin ? 12 : 8;  // bytes per column before the nibbles
      const int8_t* nibbles = w + NR * kHead;
      w += NR * (kHead + kQB4WBlock / 2);
      float asum[MR];  // kMin: sum of the block's (qa - a_zero) per row (padding is a_zero)
      if constexpr (kMin) {
        for (size_t i = 0; i < MR; ++i) {
          int32_t t = 0;
          for (size_t p = 0; p < kQB4WBlock; ++p) t += ap[i][p];
          asum[i] = static_cast<float>(t - static_cast<int32_t>(kQB4WBlock) * row_params[i < mr ? i : mr - 1].zero_point);
        }
      }
      // acc = zero_point * (-block sum): the asymmetric-A correction, exact in int32.
      VI acc[MR][NV];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) acc[i][v] = S::mul_i32(zero_point[i], S::load_i32(ksum + v * L));
#pragma GCC unroll 1
      for (size_t g = 0; g < kQB4WBlock / 8; ++g) {
        typename S::VA va[MR];
#pragma GCC unroll 16
        for (size_t i = 0; i < MR; ++i) va[i] = S::load_block(ap[i] + g * 8);
        qb4w_unpack_group<NR>(nibbles, g, unpacked);
        const int8_t* wg = unpacked;
        qd8_gemm_pair<S, MR, NV, 0>(acc, va, wg);
        qd8_gemm_pair<S, MR, NV, 1>(acc, va, wg + 2 * NR);
        qd8_gemm_pair<S, MR, NV, 2>(acc, va, wg + 4 * NR);
        qd8_gemm_pair<S, MR, NV, 3>(acc, va, wg + 6 * NR);
      }
      for (size_t i = 0; i < MR; ++i) ap[i] += kQB4WBlock;
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) {
        const VF bs = F::load(bscale + v * L);
#pragma GCC unroll 16
        for (size_t i = 0; i < MR; ++i) facc[i][v] = F::muladd(S::to_f32(acc[i][v]), bs, facc[i][v]);
        if constexpr (kMin) {
          const VF bm = F::load(bmin + v * L);
#pragma GCC unroll 16
          for (size_t i = 0; i < MR; ++i) facc[i][v] = F::muladd(F::splat(asum[i]), bm, facc[i][v]);
        }
      }
    }
    VF out[MR][NV];
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      const VF vb = F::load(bias + v * L);
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) out[i][v] = F::min(F::max(F::muladd(facc[i][v], a_scale[i], vb), vmin), vmax);
    }
    if (nc >= NR) {
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) F::store(cr[i] + v * L, out[i][v]);
        cr[i] += NR;
      }
      nc -= NR;
    } else {  // the last, partial panel
      alignas(64) float tmp[NR];
      for (size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) F::store(tmp + v * L, out[i][v]);
        for (size_t j = 0; j < nc; ++j) cr[i][j] = tmp[j];
      }
      nc = 0;
    }
  }
}

}  // namespace
}  // namespace kiln
