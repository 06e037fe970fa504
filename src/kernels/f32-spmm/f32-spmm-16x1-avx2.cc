// f32 SpMM microkernel, 16 rows per tile (f32-spmm-ukernel.h).
#include "kernels/f32-spmm/f32-spmm-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void f32_spmm_16x1_avx2(size_t mc, size_t nc, const float* a, const float* w, const int32_t* dmap,
                        const uint32_t* nnzmap, float* c, const F32MinMax* params) {
  f32_spmm_ukernel<simd::F32x8Avx2, 2>(mc, nc, a, w, dmap, nnzmap, c, params);
}
#endif
}  // namespace kiln
