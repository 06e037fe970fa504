// Packs Conv weights (one group, ONNX order W[n][kc][ks]) for the IGEMM microkernels:
// per NR panel, NR biases, then per tap kc rows of NR values, zero padded past n.
#include <algorithm>
#include <cstring>

#include "kernels/f32-igemm/f32-igemm.h"

namespace kiln {

size_t f32_igemm_packed_size(size_t nr, size_t n, size_t kc, size_t ks) {
  return (n + nr - 1) / nr * nr * (1 + ks * kc);
}

void f32_igemm_pack(size_t nr, size_t n, size_t kc, size_t ks, const float* w, const float* bias, float* packed) {
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t cols = std::min(nr, n - j0);
    for (size_t j = 0; j < nr; ++j) packed[j] = (j < cols && bias) ? bias[j0 + j] : 0.f;
    float* rows = packed + nr;
    if (cols < nr) std::memset(rows, 0, ks * kc * nr * sizeof(float));
    // W[j][p][s] -> rows[(s * kc + p) * nr + j]
    for (size_t j = 0; j < cols; ++j) {
      const float* wj = w + (j0 + j) * kc * ks;
      for (size_t p = 0; p < kc; ++p)
        for (size_t s = 0; s < ks; ++s) rows[(s * kc + p) * nr + j] = wj[p * ks + s];
    }
    packed += nr * (1 + ks * kc);
  }
}

}  // namespace kiln
