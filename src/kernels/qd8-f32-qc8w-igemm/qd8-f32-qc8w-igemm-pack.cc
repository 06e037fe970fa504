// Packs int8 Conv weights (one group, ONNX order qw[n][kc][ks]) with their per-channel
// scales and bias into the panels the qd8-f32-qc8w IGEMM microkernels read (layout in
// qd8-f32-qc8w-igemm.h), with the negated sums the kernels multiply by the zero point.
#include <cstring>

#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"

namespace kiln {

size_t qd8_igemm_packed_size(size_t nr, size_t n, size_t kc, size_t ks) {
  return (n + nr - 1) / nr * qd8_igemm_panel_bytes(nr, kc, ks);
}

void qd8_igemm_pack(size_t nr, size_t n, size_t kc, size_t ks, const int8_t* qw, const float* scale, const float* bias,
                    void* packed) {
  const size_t kp = qd8_padded_k(kc);
  auto* out = static_cast<int8_t*>(packed);
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    // Header: nr sums, nr scales, nr biases (memcpy: `packed` is only 4-byte aligned).
    for (size_t jj = 0; jj < nr; ++jj) {
      const size_t j = j0 + jj;
      int32_t sum = 0;
      if (j < n)
        for (size_t t = 0; t < kc * ks; ++t) sum += qw[j * kc * ks + t];
      const int32_t neg = -sum;
      const float sc = j < n ? scale[j] : 0.f, bs = j < n && bias ? bias[j] : 0.f;
      std::memcpy(out + jj * 4, &neg, 4);
      std::memcpy(out + nr * 4 + jj * 4, &sc, 4);
      std::memcpy(out + nr * 8 + jj * 4, &bs, 4);
    }
    int8_t* taps = out + nr * 12;
    // Tap s: kp k in pairs; pair (p, p+1) is nr columns x 2 int8 at taps[(s * kp + p) * nr + jj * 2 + d].
    for (size_t s = 0; s < ks; ++s)
      for (size_t p = 0; p < kp; p += 2)
        for (size_t jj = 0; jj < nr; ++jj)
          for (size_t d = 0; d < 2; ++d) {
            const size_t k = p + d, j = j0 + jj;
            taps[(s * kp + p) * nr + jj * 2 + d] = k < kc && j < n ? qw[(j * kc + k) * ks + s] : 0;
          }
    out += qd8_igemm_panel_bytes(nr, kc, ks);
  }
}

}  // namespace kiln
