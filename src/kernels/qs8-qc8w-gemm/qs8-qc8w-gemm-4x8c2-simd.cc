// 4x8c2 tile, k in pairs (c2), over simd::I32x4Simd128: see qs8-qc8w-gemm-ukernel.h.
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qs8_qc8w_gemm_4x8c2_simd(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const void* w,
                        int8_t* c, size_t c_stride, const QS8RequantParams* params) {
  qs8_gemm_ukernel<simd::I32x4Simd128, 4, 2>(mr, nc, kc, a, a_stride, w, c, c_stride, params);
}
#endif
}  // namespace kiln
