// The one f32 IGEMM microkernel template (see f32-igemm.h for the indirection and packed
// layouts); every f32-igemm-<MR>x<NR>-<arch>.cc instantiates it. Per NR panel the tile
// starts from the biases, then for each tap loads MR row pointers from the indirection
// buffer (offsetting all but the zero row) and runs the GEMM k loop over kc channels, so
// the inner loop is the GEMM one (f32-gemm-ukernel.h) and shares its code.
#pragma once
#include <cstdint>

#include "kernels/f32-gemm/f32-gemm-ukernel.h"
#include "kernels/f32-igemm/f32-igemm.h"

namespace kiln {
namespace {

template <class S, size_t MR, size_t NV, size_t KU>
inline __attribute__((always_inline)) void f32_igemm_ukernel(size_t mr, size_t nc, size_t kc, size_t ks,
                                                             const float* const* a, const float* w, float* c,
                                                             size_t c_stride, size_t a_offset, const float* zero,
                                                             const F32MinMax* params) {
  using V = typename S::V;
  constexpr size_t NR = NV * S::kLanes;
  float* cr[MR];
  size_t row[MR];  // rows past mr alias the last valid one (pointers and stores)
  for (size_t i = 0; i < MR; ++i) {
    row[i] = i < mr ? i : mr - 1;
    cr[i] = c + row[i] * c_stride;
  }
  const V vmin = S::splat(params->min), vmax = S::splat(params->max);
  while (nc != 0) {
    V acc[MR][NV];
    f32_gemm_init_bias<S, MR, NV>(acc, w);
    w += NR;
    const float* const* ind = a;
    for (size_t s = 0; s < ks; ++s, ind += MR) {
      const float* ap[MR];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        const float* p = ind[row[i]];
        // Unsigned wrap-around lets a_offset move pointers backwards too.
        ap[i] = p == zero ? p : reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(p) + a_offset);
      }
      w = f32_gemm_kloop<S, MR, NV, KU>(acc, ap, kc, w);
    }
    nc = f32_gemm_store<S, MR, NV>(acc, cr, nc, vmin, vmax);
  }
}

}  // namespace
}  // namespace kiln
