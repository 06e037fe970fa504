// The one qd8-f32-qc8w IGEMM microkernel template (layouts in qd8-f32-qc8w-igemm.h); every
// qd8-f32-qc8w-igemm-<MR>x<NR>c2-<arch>.cc instantiates it for a struct of simd/qs8-vec.h.
//
// Per NR panel: accumulators start at zero_point * (-ksum) (the asymmetric-activation
// correction over all taps, exact in int32); then per tap MR row pointers come from the
// indirection buffer (all but the zero row offset by a_offset) and the qd8 GEMM's k loop
// runs over them (qd8_gemm_pair: widening load, pair broadcast, pmaddwd). One float
// epilogue: acc * (a_scale * w_scale) + bias, then the clamp. Rows past mr alias the
// last valid row (branch-free body).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm-ukernel.h"
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"

namespace kiln {
namespace {

template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qd8_igemm_ukernel(size_t mr, size_t nc, size_t kc, size_t ks,
                                                             const int8_t* const* a, const void* w_void, float* c,
                                                             size_t c_stride, size_t a_offset, const int8_t* zero,
                                                             const QD8RowParams* quant, const F32MinMax* params) {
  using VI = typename S::VI;
  using F = typename S::F;
  using VF = typename F::V;
  constexpr size_t L = S::kLanes, NR = NV * L;
  const size_t blocks = (kc + 7) / 8;
  float* cr[MR];
  size_t row[MR];
  for (size_t i = 0; i < MR; ++i) {
    row[i] = i < mr ? i : mr - 1;
    cr[i] = c + row[i] * c_stride;
  }
  const VI zero_point = S::splat_i32(quant->zero_point);
  const VF a_scale = F::splat(quant->scale);
  const VF vmin = F::splat(params->min), vmax = F::splat(params->max);
  const int8_t* w = static_cast<const int8_t*>(w_void);
  while (nc != 0) {
    VI acc[MR][NV];
    int32_t ksum[NR];
    std::memcpy(ksum, w, sizeof ksum);
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      const VI corr = S::mul_i32(zero_point, S::load_i32(ksum + v * L));
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) acc[i][v] = corr;
    }
    float w_scale[NR], bias[NR];
    std::memcpy(w_scale, w + NR * 4, sizeof w_scale);
    std::memcpy(bias, w + NR * 8, sizeof bias);
    w += NR * 12;
    const int8_t* const* ind = a;
    for (size_t s = 0; s < ks; ++s, ind += MR) {
      const int8_t* ap[MR];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        const int8_t* p = ind[row[i]];
        // Unsigned wrap-around lets a_offset move pointers backwards too.
        ap[i] = p == zero ? p : reinterpret_cast<const int8_t*>(reinterpret_cast<uintptr_t>(p) + a_offset);
      }
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
    }
    VF out[MR][NV];
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      const VF scale = S::mul_f32(a_scale, F::load(w_scale + v * L)), vb = F::load(bias + v * L);
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        const VF y = F::muladd(S::to_f32(acc[i][v]), scale, vb);
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
