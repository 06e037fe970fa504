// 4x8c2 tile over simd::I32x4Simd128: see qd8-f32-qc8w-igemm-ukernel.h.
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qd8_f32_qc8w_igemm_4x8c2_simd(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w, float* c,
    size_t c_stride, size_t a_offset, const int8_t* zero, const QD8RowParams* quant, const F32MinMax* params) {
  qd8_igemm_ukernel<simd::I32x4Simd128, 4, 2>(mr, nc, kc, ks, a, w, c, c_stride, a_offset, zero, quant, params);
}
#endif
}  // namespace kiln
