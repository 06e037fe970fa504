// Channels-last bilinear, 1 channels per step, scalar; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
void f32_ibilinear_c1_scalar(size_t pixels, size_t channels, const float* const* input, size_t input_offset, const float* weights,
    float* output, size_t out_stride) {
  f32_ibilinear_ukernel<void, 1>(pixels, channels, input, input_offset, weights, output, out_stride);
}
}  // namespace kiln
