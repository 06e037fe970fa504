// The f32-qs8-vcvt kernel, x16 per iteration (vec); see f32-qs8-vcvt-ukernel.h.
#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt-ukernel.h"

namespace kiln {
void f32_qs8_vcvt_x16_vec(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& params) {
  f32_qs8_vcvt_ukernel<simd::Q8x16Vec, 1>(n, x, y, params);
}
}  // namespace kiln
