// qs8_qc8w_dwconv_hswish_anyp16c_dot_w16_simd: anyp16c_dot_simd's HardSwish kernel with the weight pairs packed as
// int16 (qs8_dwconv_pack wbytes = 2): one plain load per 8 weight pairs instead of a widening load.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-dot-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qs8_qc8w_dwconv_hswish_anyp16c_dot_w16_simd(size_t channels, size_t pixels, size_t ks,
                                                 const int8_t* const* input, const void* w, int8_t* out,
                                                 size_t out_stride, size_t a_offset, const int8_t* zero,
                                                 const QS8ActParams* params) {
  qs8_dwconv_dot_ukernel<QS8DwDotW16Simd128, 2, 0, QS8DwActOut<QS8HardSwish>>(channels, pixels, ks, input, w, out,
                                                                              out_stride, a_offset, zero, params);
}
#endif
}  // namespace kiln
