// Channels-last bilinear, 8 channels per step, avx2; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void f32_ibilinear_c8_avx2(size_t pixels, size_t channels, const float* const* input, size_t input_offset, const float* weights,
    float* output, size_t out_stride) {
  f32_ibilinear_ukernel<simd::F32x8Avx2, 1>(pixels, channels, input, input_offset, weights, output, out_stride);
}
#endif
}  // namespace kiln
