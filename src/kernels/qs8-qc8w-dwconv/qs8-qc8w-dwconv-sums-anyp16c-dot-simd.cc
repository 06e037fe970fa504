// qs8_qc8w_dwconv_sums_anyp16c_dot_simd: qs8-qc8w-dwconv-dot-ukernel.h with int32 sums out.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-dot-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qs8_qc8w_dwconv_sums_anyp16c_dot_simd(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
    const void* w, int32_t* out, size_t out_stride, size_t a_offset, const int8_t* zero) {
  static constexpr QS8RequantParams kUnused{};
  qs8_dwconv_dot_ukernel<QS8DwDotSimd128, 2, 0, int32_t>(channels, pixels, ks, input, w, out, out_stride, a_offset, zero, &kUnused);
}
#endif
}  // namespace kiln
