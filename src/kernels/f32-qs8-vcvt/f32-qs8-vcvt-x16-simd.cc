// The f32-qs8-vcvt kernel, x16 per iteration (simd); see f32-qs8-vcvt-ukernel.h.
#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void f32_qs8_vcvt_x16_simd(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& params) {
  f32_qs8_vcvt_ukernel<simd::Q8x16Simd128, 1>(n, x, y, params);
}
#endif  // KILN_HAVE_SIMD128
}  // namespace kiln
