// Nearest-neighbour gather copy, 4 channels per step, vec; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
#if !defined(__EMSCRIPTEN__)
void x32_igather_c4_vec(size_t pixels, size_t channels, const uint32_t* const* input, size_t input_offset, uint32_t* output,
    size_t out_stride) {
  x32_igather_ukernel<simd::F32x4Vec, 1>(pixels, channels, input, input_offset, output, out_stride);
}
#endif
}  // namespace kiln
