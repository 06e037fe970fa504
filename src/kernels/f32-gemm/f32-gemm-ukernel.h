// The one f32 GEMM microkernel template; every f32-gemm-<MR>x<NR>-<arch>.cc instantiates
// it for a vector type from kernels/simd/f32-vec.h. See f32-gemm.h for the packed layout.
//
// Rows past mr alias the last valid row (their loads and stores repeat it), so the tile
// body is branch-free; the k loop broadcasts one A value per row and multiplies it by
// NV vectors of the packed panel. Loops have constant trip counts and are fully unrolled
// by the compiler, keeping acc[][] in registers.
#pragma once
#include <cstddef>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

// acc[i][:] += A[i, u] * W[u, :] for one k (row pointers ap, panel row w).
template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void f32_gemm_step(typename S::V (&acc)[MR][NV], const float* const (&ap)[MR],
                                                         size_t u, const float* w) {
  using V = typename S::V;
  V b[NV];
#pragma GCC unroll 16
  for (size_t v = 0; v < NV; ++v) b[v] = S::load(w + v * S::kLanes);
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) {
    const V va = S::splat(ap[i][u]);
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) acc[i][v] = S::muladd(va, b[v], acc[i][v]);
  }
}

// Every row of the tile starts from the panel's NR biases at w.
template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void f32_gemm_init_bias(typename S::V (&acc)[MR][NV], const float* w) {
#pragma GCC unroll 16
  for (size_t v = 0; v < NV; ++v) acc[0][v] = S::load(w + v * S::kLanes);
#pragma GCC unroll 16
  for (size_t i = 1; i < MR; ++i)
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) acc[i][v] = acc[0][v];
}

// acc += A[:, 0:kc] x W for kc rows of the panel at w; returns w past them. Main loop
// over KU values of k: A and W addresses get constant offsets, so each row pointer
// advances once per KU (KU is chosen per arch by measurement, see
// scripts/gen-f32-gemm.mjs). Then the k remainder. Shared by GEMM and IGEMM.
template <class S, size_t MR, size_t NV, size_t KU>
inline __attribute__((always_inline)) const float* f32_gemm_kloop(typename S::V (&acc)[MR][NV],
                                                                  const float* (&ap)[MR], size_t kc, const float* w) {
  constexpr size_t NR = NV * S::kLanes;
  size_t p = 0;
  for (; p + KU <= kc; p += KU) {
#pragma GCC unroll 8
    for (size_t u = 0; u < KU; ++u) f32_gemm_step<S, MR, NV>(acc, ap, u, w + u * NR);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) ap[i] += KU;
    w += KU * NR;
  }
  for (; p < kc; ++p) {
    f32_gemm_step<S, MR, NV>(acc, ap, 0, w);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) ap[i] += 1;
    w += NR;
  }
  return w;
}

// Clamps the tile and stores its first nc (<= NR: the last, partial panel) columns of
// every row, advancing the row pointers by NR; returns the columns left after it.
// Shared by the GEMM and IGEMM templates.
template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) size_t f32_gemm_store(typename S::V (&acc)[MR][NV], float* (&cr)[MR], size_t nc,
                                                            typename S::V vmin, typename S::V vmax) {
  constexpr size_t L = S::kLanes, NR = NV * L;
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) acc[i][v] = S::min(S::max(acc[i][v], vmin), vmax);
  if (nc >= NR) {
    // Aliased rows hold the same values, so the store order is immaterial.
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) S::store(cr[i] + v * L, acc[i][v]);
      cr[i] += NR;
    }
    return nc - NR;
  }
  alignas(64) float tmp[NR];  // the last, partial panel: spill and copy nc columns
  for (size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) S::store(tmp + v * L, acc[i][v]);
    for (size_t j = 0; j < nc; ++j) cr[i][j] = tmp[j];
  }
  return 0;
}

template <class S, size_t MR, size_t NV, size_t KU>
inline __attribute__((always_inline)) void f32_gemm_ukernel(size_t mr, size_t nc, size_t kc, const float* a,
                                                            size_t a_stride, const float* w, float* c,
                                                            size_t c_stride, const F32MinMax* params) {
  using V = typename S::V;
  constexpr size_t L = S::kLanes, NR = NV * L;
  const float* ar[MR];
  float* cr[MR];
  for (size_t i = 0; i < MR; ++i) {
    const size_t row = i < mr ? i : mr - 1;
    ar[i] = a + row * a_stride;
    cr[i] = c + row * c_stride;
  }
  const V vmin = S::splat(params->min), vmax = S::splat(params->max);
  while (nc != 0) {
    V acc[MR][NV];
    f32_gemm_init_bias<S, MR, NV>(acc, w);
    w += NR;
    const float* ap[MR];
    for (size_t i = 0; i < MR; ++i) ap[i] = ar[i];
    w = f32_gemm_kloop<S, MR, NV, KU>(acc, ap, kc, w);
    nc = f32_gemm_store<S, MR, NV>(acc, cr, nc, vmin, vmax);
  }
}

}  // namespace
}  // namespace kiln
