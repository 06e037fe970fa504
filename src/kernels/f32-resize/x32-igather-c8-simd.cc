// Nearest-neighbour gather copy, 8 channels per step, simd; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void x32_igather_c8_simd(size_t pixels, size_t channels, const uint32_t* const* input, size_t input_offset, uint32_t* output,
    size_t out_stride) {
  x32_igather_ukernel<simd::F32x4Simd128, 2>(pixels, channels, input, input_offset, output, out_stride);
}
#endif
}  // namespace kiln
