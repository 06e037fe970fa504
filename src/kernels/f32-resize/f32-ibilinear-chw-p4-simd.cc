// Planar bilinear, 4 output pixels per step, simd; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void f32_ibilinear_chw_p4_simd(size_t pixels, size_t planes, const float* const* input, size_t input_offset,
    const float* weights, float* output, size_t out_plane_stride, size_t input_increment) {
  f32_ibilinear_chw_ukernel<simd::F32x4Simd128, 1>(pixels, planes, input, input_offset, weights, output, out_plane_stride,
      input_increment);
}
#endif
}  // namespace kiln
