// The oracle of the qd8-f32-qc8w IGEMM family: plain loops over the indirection buffer and
// unpacked int8 weights, the zero point subtracted per element (the kernels fold it into
// per-channel sums instead).
#include <algorithm>

#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"

namespace kiln {

void qd8_f32_qc8w_igemm_reference(size_t m, size_t n, size_t kc, size_t ks, size_t mr, const int8_t* const* a,
                                  size_t a_offset, const int8_t* zero, QD8RowParams quant, const int8_t* qw,
                                  const float* w_scale, const float* bias, float* c, size_t c_stride,
                                  F32MinMax minmax) {
  for (size_t p = 0; p < m; ++p)
    for (size_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (size_t s = 0; s < ks; ++s) {
        const int8_t* row = a[(p / mr * ks + s) * mr + p % mr];
        if (row != zero) row += a_offset;  // wraps like the kernels for a "negative" offset
        for (size_t k = 0; k < kc; ++k)
          acc += (int64_t{row[k]} - quant.zero_point) * int64_t{qw[(j * kc + k) * ks + s]};
      }
      const float y = static_cast<float>(acc) * (quant.scale * w_scale[j]) + (bias ? bias[j] : 0.f);
      c[p * c_stride + j] = std::min(std::max(y, minmax.min), minmax.max);
    }
}

}  // namespace kiln
