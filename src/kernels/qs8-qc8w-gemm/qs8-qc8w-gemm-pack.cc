// Packs int8 weights, per-column scales and int32 bias into qs8-qc8w GEMM panels (layout in
// qs8-qc8w-gemm.h), folding the A zero-point correction into the bias.
#include <cstring>

#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace kiln {

size_t qs8_gemm_packed_size(size_t nr, size_t n, size_t k) { return (n + nr - 1) / nr * qs8_gemm_panel_bytes(nr, k); }

void qs8_gemm_pack(size_t nr, size_t n, size_t k, int32_t a_zero_point, const int8_t* w, ptrdiff_t stride_k,
                   ptrdiff_t stride_n, const float* scale, const int32_t* bias, void* packed) {
  const size_t kp = qs8_padded_k(k);
  auto* out = static_cast<int8_t*>(packed);
  auto at = [&](size_t kk, size_t j) { return w[static_cast<ptrdiff_t>(kk) * stride_k + static_cast<ptrdiff_t>(j) * stride_n]; };
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    int8_t* panel = out + nr * 8;
    for (size_t jj = 0; jj < nr; ++jj) {
      const size_t j = j0 + jj;
      int32_t b = 0;
      float s = 0.f;
      if (j < n) {
        int32_t sum = 0;
        for (size_t p = 0; p < k; ++p) sum += at(p, j);
        // sum_k (a - zp) * w = sum_k a * w - zp * sum_k w: exact in int32 for k < 2^16.
        b = (bias ? bias[j] : 0) - a_zero_point * sum;
        s = scale[j];
      }
      std::memcpy(out + jj * 4, &b, 4);
      std::memcpy(out + nr * 4 + jj * 4, &s, 4);
    }
    for (size_t p = 0; p < kp; p += 2)
      for (size_t jj = 0; jj < nr; ++jj)
        for (size_t d = 0; d < 2; ++d) {
          const size_t kk = p + d, j = j0 + jj;
          panel[p * nr + jj * 2 + d] = kk < k && j < n ? at(kk, j) : 0;
        }
    out += qs8_gemm_panel_bytes(nr, k);
  }
}

}  // namespace kiln
