// qs8_qc8w_dwconv_25p16c_simd: see qs8-qc8w-dwconv-ukernel.h.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128) && !KILN_KERNEL_PICKED_ONLY
void qs8_qc8w_dwconv_25p16c_simd(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
    const void* w, int8_t* out, size_t out_stride, size_t a_offset, const int8_t* zero,
    const QS8RequantParams* params) {
  qs8_dwconv_ukernel<QS8DwSimd128, 2, 25>(channels, pixels, ks, input, w, out, out_stride, a_offset, zero, params);
}
#endif
}  // namespace kiln
