// Scalar qs8-qc8w GEMM on unpacked weights: the ground truth for the microkernels.
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace kiln {

void qs8_gemm_reference(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, int32_t a_zero_point,
                        const int8_t* w, ptrdiff_t stride_k, ptrdiff_t stride_n, const float* scale,
                        const int32_t* bias, int8_t* c, size_t c_stride, const QS8RequantParams& params) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      int32_t acc = bias ? bias[j] : 0;
      for (size_t p = 0; p < k; ++p)
        acc += (static_cast<int32_t>(a[i * a_stride + p]) - a_zero_point) *
               w[static_cast<ptrdiff_t>(p) * stride_k + static_cast<ptrdiff_t>(j) * stride_n];
      c[i * c_stride + j] = qs8_requantize(acc, scale[j], params);
    }
}

}  // namespace kiln
