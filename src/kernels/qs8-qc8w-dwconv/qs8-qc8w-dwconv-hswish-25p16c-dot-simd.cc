// qs8_qc8w_dwconv_hswish_25p16c_dot_simd: the tap-pair SIMD128 kernel with the HardSwish epilogue for exactly 25
// taps: the pair loop unrolled and the tap pointers fixed, for the recognizer's depthwise layers (the generic
// kernel keeps a runtime pair count and the pointer-cache test in its inner loop).
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-dot-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qs8_qc8w_dwconv_hswish_25p16c_dot_simd(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                                           const void* w, int8_t* out, size_t out_stride, size_t a_offset,
                                           const int8_t* zero, const QS8ActParams* params) {
  qs8_dwconv_dot_ukernel<QS8DwDotSimd128, 2, 25, QS8DwActOut<QS8HardSwish>>(channels, pixels, ks, input, w, out,
                                                                           out_stride, a_offset, zero, params);
}
#endif
}  // namespace kiln
