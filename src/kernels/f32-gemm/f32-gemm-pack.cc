// Packing B (k x n, any strides) plus bias into NR-column panels: per panel NR biases,
// then k rows of NR values, zero padded past n. The reference packer walks elements in
// output order; the fast one copies row-major rows with memcpy and transposes column-
// major (transposed B) panels a column at a time.
#include <algorithm>
#include <cstring>

#include "kernels/f32-gemm/f32-gemm.h"

namespace kiln {

size_t f32_gemm_packed_size(size_t nr, size_t n, size_t k) { return (n + nr - 1) / nr * nr * (k + 1); }

void f32_gemm_pack_reference(size_t nr, size_t n, size_t k, const float* b, ptrdiff_t b_stride_k,
                             ptrdiff_t b_stride_n, const float* bias, ptrdiff_t bias_stride, float* packed) {
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    for (size_t j = j0; j < j0 + nr; ++j)
      *packed++ = (j < n && bias) ? bias[static_cast<ptrdiff_t>(j) * bias_stride] : 0.f;
    for (size_t p = 0; p < k; ++p)
      for (size_t j = j0; j < j0 + nr; ++j)
        *packed++ = j < n ? b[static_cast<ptrdiff_t>(p) * b_stride_k + static_cast<ptrdiff_t>(j) * b_stride_n] : 0.f;
  }
}

void f32_gemm_pack(size_t nr, size_t n, size_t k, const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n,
                   const float* bias, ptrdiff_t bias_stride, float* packed) {
  if (b_stride_n != 1 && b_stride_k != 1) {
    f32_gemm_pack_reference(nr, n, k, b, b_stride_k, b_stride_n, bias, bias_stride, packed);
    return;
  }
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t cols = std::min(nr, n - j0);
    float* panel = packed;
    for (size_t j = 0; j < nr; ++j)
      panel[j] = (j < cols && bias) ? bias[static_cast<ptrdiff_t>(j0 + j) * bias_stride] : 0.f;
    float* rows = panel + nr;
    if (cols < nr) std::memset(rows, 0, nr * k * sizeof(float));
    if (b_stride_n == 1) {  // row-major B: each panel row is a contiguous run
      for (size_t p = 0; p < k; ++p)
        std::memcpy(rows + p * nr, b + static_cast<ptrdiff_t>(p) * b_stride_k + static_cast<ptrdiff_t>(j0),
                    cols * sizeof(float));
    } else {  // transposed B: each column is a contiguous run over k
      for (size_t j = 0; j < cols; ++j) {
        const float* col = b + static_cast<ptrdiff_t>(j0 + j) * b_stride_n;
        for (size_t p = 0; p < k; ++p) rows[p * nr + j] = col[p];
      }
    }
    packed += nr * (k + 1);
  }
}

}  // namespace kiln
