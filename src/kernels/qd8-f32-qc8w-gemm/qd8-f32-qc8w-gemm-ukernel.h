// The one qd8-f32-qc8w GEMM microkernel template (layout in qd8-f32-qc8w-gemm.h); every
// qd8-f32-qc8w-gemm-<MR>x<NR>c2-<arch>.cc instantiates it for a struct of simd/qs8-vec.h.
//
// Per block of 8 k values and row: one widening load of A, then for each of its 4 k-pairs
// a lane broadcast and NV pairwise dot products (pmaddwd) into int32 accumulators; the
// weights are widened on load. Rows past mr alias the last valid row (branch-free body).
// The epilogue converts to float once: acc * (a_scale * w_scale) + bias, then the clamp.
#pragma once
#include <cstddef>
#include <cstring>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"
#include "kernels/simd/qs8-vec.h"

namespace kiln {
namespace {

template <class S, size_t MR, size_t NV, int J>
inline __attribute__((always_inline)) void qd8_gemm_pair(typename S::VI (&acc)[MR][NV],
                                                         const typename S::VA (&va)[MR], const int8_t* w) {
  using VI = typename S::VI;
  constexpr size_t L = S::kLanes;
  VI vw[NV];
#pragma GCC unroll 16
  for (size_t v = 0; v < NV; ++v) vw[v] = S::load_w(w + v * 2 * L);
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) {
    const VI a = S::template pair<J>(va[i]);
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) acc[i][v] = S::dot(acc[i][v], a, vw[v]);
  }
}

template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qd8_gemm_ukernel(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                                            size_t a_stride, const QD8RowParams* row_params,
                                                            const void* w_void, float* c, size_t c_stride,
                                                            const F32MinMax* params) {
  using VI = typename S::VI;
  using F = typename S::F;
  using VF = typename F::V;
  constexpr size_t L = S::kLanes, NR = NV * L;
  const size_t blocks = (kc + 7) / 8;
  const int8_t* ar[MR];
  float* cr[MR];
  VI zero_point[MR];
  VF a_scale[MR];
  for (size_t i = 0; i < MR; ++i) {
    const size_t row = i < mr ? i : mr - 1;
    ar[i] = a + row * a_stride;
    cr[i] = c + row * c_stride;
    zero_point[i] = S::splat_i32(row_params[row].zero_point);
    a_scale[i] = F::splat(row_params[row].scale);
  }
  const VF vmin = F::splat(params->min), vmax = F::splat(params->max);
  const int8_t* w = static_cast<const int8_t*>(w_void);
  while (nc != 0) {
    // acc = zero_point * (-ksum): the correction for the asymmetric A, exact in int32.
    VI acc[MR][NV];
    int32_t ksum[NR];
    std::memcpy(ksum, w, sizeof ksum);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) acc[i][v] = S::mul_i32(zero_point[i], S::load_i32(ksum + v * L));
    float w_scale[NR], bias[NR];
    std::memcpy(w_scale, w + NR * 4, sizeof w_scale);
    std::memcpy(bias, w + NR * 8, sizeof bias);
    w += NR * 12;
    const int8_t* ap[MR];
    for (size_t i = 0; i < MR; ++i) ap[i] = ar[i];
    for (size_t b = 0; b < blocks; ++b) {
      typename S::VA va[MR];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        va[i] = S::load_block(ap[i]);
        ap[i] += 8;
      }
      qd8_gemm_pair<S, MR, NV, 0>(acc, va, w);
      qd8_gemm_pair<S, MR, NV, 1>(acc, va, w + 2 * NR);
      qd8_gemm_pair<S, MR, NV, 2>(acc, va, w + 4 * NR);
      qd8_gemm_pair<S, MR, NV, 3>(acc, va, w + 6 * NR);
      w += 8 * NR;
    }
    VF out[MR][NV];
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      const VF ws = F::load(w_scale + v * L), vb = F::load(bias + v * L);
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        const VF y = F::muladd(S::to_f32(acc[i][v]), S::mul_f32(a_scale[i], ws), vb);
        out[i][v] = F::min(F::max(y, vmin), vmax);
      }
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
