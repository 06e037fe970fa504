// 1x8c2 tile, k in pairs (c2), over simd::I32x4Simd128, asymmetric (qb4w-min) panels: see
// qd8-f32-qb4w-gemm-ukernel.h.
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qd8_f32_qb4w_min_gemm_1x8c2_simd(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride,
    const QD8RowParams* row_params, const void* w, float* c, size_t c_stride, const F32MinMax* params) {
  qb4w_gemm_ukernel<simd::I32x4Simd128, 1, 2, true>(mr, nc, kc, a, a_stride, row_params, w, c, c_stride, params);
}
#endif
}  // namespace kiln
