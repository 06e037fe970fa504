// Packs int8 weights (per-column scales, optional bias) into the panels the qd8-f32-qc8w
// microkernels read (layout in qd8-f32-qc8w-gemm.h), with the negated column sums the
// kernels multiply by each row's zero point.
#include <cstring>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

size_t qd8_gemm_packed_size(size_t nr, size_t n, size_t k) { return (n + nr - 1) / nr * qd8_gemm_panel_bytes(nr, k); }

void qd8_gemm_pack(size_t nr, size_t n, size_t k, const int8_t* qw, ptrdiff_t stride_k, ptrdiff_t stride_n,
                   const float* scale, const float* bias, void* packed) {
  const size_t kp = qd8_padded_k(k);
  auto* out = static_cast<int8_t*>(packed);
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    int32_t* ksum = reinterpret_cast<int32_t*>(out);
    float* sc = reinterpret_cast<float*>(out + nr * 4);
    float* bs = reinterpret_cast<float*>(out + nr * 8);
    int8_t* panel = out + nr * 12;
    for (size_t jj = 0; jj < nr; ++jj) {
      const size_t j = j0 + jj;
      int32_t sum = 0;
      if (j < n)
        for (size_t p = 0; p < k; ++p) sum += qw[static_cast<ptrdiff_t>(p) * stride_k + static_cast<ptrdiff_t>(j) * stride_n];
      ksum[jj] = -sum;
      sc[jj] = j < n ? scale[j] : 0.f;
      bs[jj] = j < n && bias ? bias[j] : 0.f;
    }
    // Block of 8 k = 4 pairs; pair t of block b: nr columns x (k = 8b+2t, 8b+2t+1).
    for (size_t p = 0; p < kp; p += 2)
      for (size_t jj = 0; jj < nr; ++jj)
        for (size_t d = 0; d < 2; ++d) {
          const size_t kk = p + d, j = j0 + jj;
          panel[p * nr + jj * 2 + d] =
              kk < k && j < n ? qw[static_cast<ptrdiff_t>(kk) * stride_k + static_cast<ptrdiff_t>(j) * stride_n] : 0;
        }
    out += qd8_gemm_panel_bytes(nr, k);
  }
}

}  // namespace kiln
