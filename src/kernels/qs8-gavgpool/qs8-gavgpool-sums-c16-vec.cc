// The qs8-gavgpool sums kernel over c16 channels per block (vec); see qs8-gavgpool-ukernel.h.
#include "kernels/qs8-gavgpool/qs8-gavgpool-ukernel.h"

namespace kiln {
void qs8_gavgpool_sums_c16_vec(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums) {
  qs8_gavgpool_sums_ukernel<I16x8Vec, 2>(rows, channels, x, x_stride, sums);
}
}  // namespace kiln
