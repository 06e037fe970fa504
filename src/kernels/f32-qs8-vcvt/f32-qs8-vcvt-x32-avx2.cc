// The f32-qs8-vcvt kernel, x32 per iteration (avx2); see f32-qs8-vcvt-ukernel.h.
#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void f32_qs8_vcvt_x32_avx2(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& params) {
  f32_qs8_vcvt_ukernel<simd::Q8x16Avx2, 2>(n, x, y, params);
}
#endif  // KILN_HAVE_AVX2
}  // namespace kiln
