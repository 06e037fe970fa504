// qs8_qc8w_dwconv_sums_anyp8c_vec: qs8-qc8w-dwconv-ukernel.h (portable) with int32 sums out.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-ukernel.h"

namespace kiln {
#if KILN_F32_GEMM_VEC && !(KILN_F32_GEMM_SIMD && KILN_KERNEL_PICKED_ONLY)
void qs8_qc8w_dwconv_sums_anyp8c_vec(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
    const void* w, int32_t* out, size_t out_stride, size_t a_offset, const int8_t* zero) {
  static constexpr QS8RequantParams kUnused{};
  qs8_dwconv_ukernel<QS8DwVec, 1, 0, int32_t>(channels, pixels, ks, input, w, out, out_stride, a_offset, zero, &kUnused);
}
#endif
}  // namespace kiln
