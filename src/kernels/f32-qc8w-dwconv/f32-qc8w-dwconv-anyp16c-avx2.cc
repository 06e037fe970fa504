#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void f32_qc8w_dwconv_anyp16c_avx2(size_t channels, size_t pixels, size_t ks, const float* const* input, const void* w,
                       float* out, size_t out_stride, size_t a_offset, const float* zero, const F32MinMax* params) {
  f32_qc8w_dwconv_ukernel<simd::F32x8Avx2, 2, 0>(channels, pixels, ks, input, w, out, out_stride, a_offset, zero, params);
}
#endif
}  // namespace kiln
