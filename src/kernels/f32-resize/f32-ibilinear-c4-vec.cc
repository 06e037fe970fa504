// Channels-last bilinear, 4 channels per step, vec; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
#if !defined(__EMSCRIPTEN__)
void f32_ibilinear_c4_vec(size_t pixels, size_t channels, const float* const* input, size_t input_offset, const float* weights,
    float* output, size_t out_stride) {
  f32_ibilinear_ukernel<simd::F32x4Vec, 1>(pixels, channels, input, input_offset, weights, output, out_stride);
}
#endif
}  // namespace kiln
