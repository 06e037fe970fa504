// Separable N-D resize from per-axis tap tables: each output element is the weighted sum
// over the product of its axes' taps (1 for nearest, 2^k for k linear axes, 4^k cubic),
// or the extrapolation value where an axis marks its output index as outside the input.
#include "kernels/reference/index_util.h"
#include "kernels/reference/reference.h"

namespace kiln {

using refk::next_index;

void f32_resize_reference(size_t rank, const ResizeAxis* axes, const float* x, float* y, float extrapolation) {
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  int64_t in_stride[kMaxResizeRank], out_dims[kMaxResizeRank], tap_dims[kMaxResizeRank];
  in_stride[rank - 1] = 1;
  for (size_t d = rank - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * axes[d + 1].in_size;
  for (size_t d = 0; d < rank; ++d) {
    out_dims[d] = axes[d].out_size;
    tap_dims[d] = static_cast<int64_t>(axes[d].taps);
    if (out_dims[d] == 0) return;
  }
  int64_t oidx[kMaxResizeRank] = {};
  int64_t o = 0;
  do {
    bool outside = false;
    for (size_t d = 0; d < rank; ++d) outside = outside || (axes[d].outside && axes[d].outside[oidx[d]]);
    if (outside) {
      y[o++] = extrapolation;
      continue;
    }
    float sum = 0.f;
    int64_t tidx[kMaxResizeRank] = {};
    do {
      float w = 1.f;
      int64_t off = 0;
      for (size_t d = 0; d < rank; ++d) {
        const int64_t k = oidx[d] * tap_dims[d] + tidx[d];
        w *= axes[d].weight[k];
        off += axes[d].index[k] * in_stride[d];
      }
      sum += w * x[off];
    } while (next_index(tidx, tap_dims, rank));
    y[o++] = sum;
  } while (next_index(oidx, out_dims, rank));
}

}  // namespace kiln
