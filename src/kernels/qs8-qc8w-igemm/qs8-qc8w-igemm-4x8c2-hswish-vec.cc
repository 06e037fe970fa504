// qs8_qc8w_igemm_4x8c2_hswish_vec: HardSwish epilogue (QS8IgemmActOut in qs8-qc8w-igemm-ukernel.h).
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm-ukernel.h"

namespace kiln {
#if !KILN_KERNEL_PICKED_ONLY
void qs8_qc8w_igemm_4x8c2_hswish_vec(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w,
                                     int8_t* c, size_t c_stride, size_t a_offset, const int8_t* zero,
                                     const QS8ActParams* params) {
  qs8_igemm_ukernel<simd::I32x4Vec, 4, 2, QS8IgemmActOut<QS8HardSwish>>(mr, nc, kc, ks, a, w, c, c_stride, a_offset,
                                                                        zero, params);
}
#endif
}  // namespace kiln
