// Reference GEMM with arbitrary element strides. Two loop orders: when B's rows are
// contiguous (the usual MatMul case) rows of C accumulate axpy-style so the inner loop
// is unit-stride; otherwise (transposed B) each C element is a dot product.
#include "kernels/reference/reference.h"

namespace kiln {

void f32_gemm_reference(size_t m, size_t n, size_t k,
                        const float* a, ptrdiff_t a_stride_m, ptrdiff_t a_stride_k,
                        const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n,
                        float* c, ptrdiff_t c_stride_m, float alpha, float beta) {
  for (size_t i = 0; i < m; ++i) {
    float* c_row = c + static_cast<ptrdiff_t>(i) * c_stride_m;
    const float* a_row = a + static_cast<ptrdiff_t>(i) * a_stride_m;
    if (b_stride_n == 1) {
      for (size_t j = 0; j < n; ++j) c_row[j] = beta == 0.f ? 0.f : beta * c_row[j];
      for (size_t p = 0; p < k; ++p) {
        const float av = alpha * a_row[static_cast<ptrdiff_t>(p) * a_stride_k];
        const float* b_row = b + static_cast<ptrdiff_t>(p) * b_stride_k;
        for (size_t j = 0; j < n; ++j) c_row[j] += av * b_row[j];
      }
    } else {
      for (size_t j = 0; j < n; ++j) {
        const float* b_col = b + static_cast<ptrdiff_t>(j) * b_stride_n;
        float sum = 0.f;
        for (size_t p = 0; p < k; ++p)
          sum += a_row[static_cast<ptrdiff_t>(p) * a_stride_k] * b_col[static_cast<ptrdiff_t>(p) * b_stride_k];
        c_row[j] = alpha * sum + (beta == 0.f ? 0.f : beta * c_row[j]);
      }
    }
  }
}

}  // namespace kiln
