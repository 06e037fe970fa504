// Nearest-neighbour gather copy, 1 channels per step, scalar; instantiates f32-resize-ukernel.h.
#include "kernels/f32-resize/f32-resize-ukernel.h"

namespace kiln {
void x32_igather_c1_scalar(size_t pixels, size_t channels, const uint32_t* const* input, size_t input_offset, uint32_t* output,
    size_t out_stride) {
  x32_igather_ukernel<void, 1>(pixels, channels, input, input_offset, output, out_stride);
}
}  // namespace kiln
