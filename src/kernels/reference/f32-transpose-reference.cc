// Blocked 2-D transpose: 16 x 16 tiles keep both the read and the write side within a
// few cache lines (a plain double loop strides through memory on one side).
#include <algorithm>

#include "kernels/reference/reference.h"

namespace kiln {

void f32_transpose_reference(size_t rows, size_t cols, const float* src, size_t src_stride, float* dst,
                             size_t dst_stride) {
  constexpr size_t kTile = 16;
  for (size_t i0 = 0; i0 < rows; i0 += kTile) {
    const size_t i1 = std::min(rows, i0 + kTile);
    for (size_t j0 = 0; j0 < cols; j0 += kTile) {
      const size_t j1 = std::min(cols, j0 + kTile);
      for (size_t i = i0; i < i1; ++i)
        for (size_t j = j0; j < j1; ++j) dst[j * dst_stride + i] = src[i * src_stride + j];
    }
  }
}

}  // namespace kiln
