// Packs one group of int8 Conv weights (ONNX order w[n][kc][ks]) for the qs8-qc8w IGEMM:
// the taps are laid out as the rows of a GEMM weight matrix with K = ks * round_up(kc, 8)
// (tap s, channel c at row s * round_up(kc, 8) + c; padding rows zero), which the qs8 GEMM
// packer then turns into panels, folding the A zero-point correction into the bias.
#include <vector>

#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace kiln {

size_t qs8_igemm_packed_size(size_t nr, size_t n, size_t kc, size_t ks) {
  return qs8_gemm_packed_size(nr, n, qs8_igemm_k(kc, ks));
}

void qs8_igemm_pack(size_t nr, size_t n, size_t kc, size_t ks, int32_t a_zero_point, const int8_t* w,
                    const float* scale, const int32_t* bias, void* packed) {
  const size_t kp = qs8_padded_k(kc), k = qs8_igemm_k(kc, ks);
  std::vector<int8_t> rows(k * n, 0);  // rows[(s * kp + c) * n + j]
  for (size_t j = 0; j < n; ++j)
    for (size_t c = 0; c < kc; ++c)
      for (size_t s = 0; s < ks; ++s) rows[(s * kp + c) * n + j] = w[(j * kc + c) * ks + s];
  qs8_gemm_pack(nr, n, k, a_zero_point, rows.data(), static_cast<ptrdiff_t>(n), 1, scale, bias, packed);
}

}  // namespace kiln
