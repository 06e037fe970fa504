// qs8_qc8w_dwconv_hswish_anyp32c_dot_simd: the generic tap-pair SIMD128 HardSwish kernel on 32 channels per step
// (anyp16c's template with 4 vectors of 8): measured against anyp16c for the recognizer's layers.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-dot-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qs8_qc8w_dwconv_hswish_anyp32c_dot_simd(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                                            const void* w, int8_t* out, size_t out_stride, size_t a_offset,
                                            const int8_t* zero, const QS8ActParams* params) {
  qs8_dwconv_dot_ukernel<QS8DwDotSimd128, 4, 0, QS8DwActOut<QS8HardSwish>>(channels, pixels, ks, input, w, out,
                                                                           out_stride, a_offset, zero, params);
}
#endif
}  // namespace kiln
