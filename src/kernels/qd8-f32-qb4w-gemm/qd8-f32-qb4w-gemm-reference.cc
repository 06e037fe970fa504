// The oracle of the qd8-f32-qb4w family: plain loops over the model form (nibble rows and
// fp16 scales), the zero point subtracted per element, each block's exact integer sum
// scaled and added in float in block order (the order the kernels use).
#include <algorithm>

#include "core/half.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {

namespace {

// Both forms in one loop: symmetric (signed codes, min_f16 null) and with a min (unsigned
// codes, + m * the block's sum of the row), over k < K only.
void reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride, const QD8RowParams* row_params,
               const uint8_t* nibbles, const uint16_t* scale_f16, const uint16_t* min_f16, const float* bias, float* c,
               size_t c_stride, F32MinMax minmax) {
  const size_t nb = qb4w_blocks(k);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float acc = 0.f;
      for (size_t blk = 0; blk < nb; ++blk) {
        int64_t sq = 0, sa = 0;  // sum of (qa - zero) * q and of (qa - zero) over the block
        for (size_t p = blk * kQB4WBlock; p < std::min(k, (blk + 1) * kQB4WBlock); ++p) {
          const int64_t a = int64_t{qa[i * qa_stride + p]} - row_params[i].zero_point;
          sq += a * (min_f16 ? int64_t{qb4w_nibble_u(nibbles, k, j, p)} : int64_t{qb4w_nibble(nibbles, k, j, p)});
          sa += a;
        }
        acc += static_cast<float>(sq) * half_to_float(scale_f16[j * nb + blk]);
        if (min_f16) acc += static_cast<float>(sa) * half_to_float(min_f16[j * nb + blk]);
      }
      const float y = acc * row_params[i].scale + (bias ? bias[j] : 0.f);
      c[i * c_stride + j] = std::min(std::max(y, minmax.min), minmax.max);
    }
}

}  // namespace

void qd8_f32_qb4w_gemm_reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride,
                                 const QD8RowParams* row_params, const uint8_t* nibbles, const uint16_t* scale_f16,
                                 const float* bias, float* c, size_t c_stride, F32MinMax minmax) {
  reference(m, n, k, qa, qa_stride, row_params, nibbles, scale_f16, nullptr, bias, c, c_stride, minmax);
}

void qd8_f32_qb4w_min_gemm_reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride,
                                     const QD8RowParams* row_params, const uint8_t* nibbles,
                                     const uint16_t* scale_f16, const uint16_t* min_f16, const float* bias, float* c,
                                     size_t c_stride, F32MinMax minmax) {
  reference(m, n, k, qa, qa_stride, row_params, nibbles, scale_f16, min_f16, bias, c, c_stride, minmax);
}

}  // namespace kiln
