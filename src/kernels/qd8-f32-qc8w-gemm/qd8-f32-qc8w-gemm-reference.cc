// The oracle of the qd8-f32-qc8w family: plain loops over unpacked int8 data, the
// zero point subtracted per element (the kernels fold it into column sums instead).
#include <algorithm>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

void qd8_f32_qc8w_gemm_reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride,
                                 const QD8RowParams* row_params, const int8_t* qw, const float* w_scale,
                                 const float* bias, float* c, size_t c_stride, F32MinMax minmax) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (size_t p = 0; p < k; ++p)
        acc += (int64_t{qa[i * qa_stride + p]} - row_params[i].zero_point) * int64_t{qw[p * n + j]};
      const float y = static_cast<float>(acc) * (row_params[i].scale * w_scale[j]) + (bias ? bias[j] : 0.f);
      c[i * c_stride + j] = std::min(std::max(y, minmax.min), minmax.max);
    }
}

}  // namespace kiln
