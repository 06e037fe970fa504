// The qs8-gavgpool oracle: plain int32 column sums.
#include "kernels/qs8-gavgpool/qs8-gavgpool.h"

namespace kiln {

void qs8_gavgpool_sums_reference(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c) sums[c] += x[r * x_stride + c];
}

}  // namespace kiln
