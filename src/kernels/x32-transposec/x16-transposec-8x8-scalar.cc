// x16 transposition with plain 8x8 element tiles (also the reference for the SIMD kernels).
#include "kernels/x32-transposec/transposec-tile.h"
#include "kernels/x32-transposec/x32-transposec.h"

namespace kiln {
void x16_transposec_8x8_scalar(const void* input, void* output, size_t input_stride, size_t output_stride,
                                size_t block_width, size_t block_height) {
  transposec_scalar<2, 8>(input, output, input_stride, output_stride, block_width, block_height);
}
}  // namespace kiln
