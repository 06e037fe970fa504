// Nearest-neighbour gather copy, 16 channels per step, avx2; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void x32_igather_c16_avx2(size_t pixels, size_t channels, const uint32_t* const* input, size_t input_offset, uint32_t* output,
    size_t out_stride) {
  x32_igather_ukernel<simd::F32x8Avx2, 2>(pixels, channels, input, input_offset, output, out_stride);
}
#endif
}  // namespace kiln
