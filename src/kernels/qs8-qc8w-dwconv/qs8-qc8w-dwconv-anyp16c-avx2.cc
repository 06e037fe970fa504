// qs8_qc8w_dwconv_anyp16c_avx2: see qs8-qc8w-dwconv-ukernel.h.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void qs8_qc8w_dwconv_anyp16c_avx2(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
    const void* w, int8_t* out, size_t out_stride, size_t a_offset, const int8_t* zero,
    const QS8RequantParams* params) {
  qs8_dwconv_ukernel<QS8DwAvx2, 1, 0>(channels, pixels, ks, input, w, out, out_stride, a_offset, zero, params);
}
#endif
}  // namespace kiln
