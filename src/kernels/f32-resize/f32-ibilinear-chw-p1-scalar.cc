// Planar bilinear, 1 output pixels per step, scalar; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
void f32_ibilinear_chw_p1_scalar(size_t pixels, size_t planes, const float* const* input, size_t input_offset,
    const float* weights, float* output, size_t out_plane_stride, size_t input_increment) {
  f32_ibilinear_chw_ukernel<void, 1>(pixels, planes, input, input_offset, weights, output, out_plane_stride,
      input_increment);
}
}  // namespace kiln
