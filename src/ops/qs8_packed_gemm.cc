#include "ops/qs8_packed_gemm.h"

#include <cstring>
#include <limits>

#include "platform/thread_pool.h"

namespace kiln {

void QS8PackedGemm::pack(size_t n, size_t k, const int8_t* qw, ptrdiff_t stride_k, ptrdiff_t stride_n) {
  n_ = n, k_ = k;
  const std::vector<float> ones(n, 1.f);  // unit scales: the kernel's float output is the int32 sum
  packed_.assign((qd8_gemm_packed_size(kern_.nr, n, k) + 3) / 4, 0);
  qd8_gemm_pack(kern_.nr, n, k, qw, stride_k, stride_n, ones.data(), nullptr, packed_.data());
}

void QS8PackedGemm::multiply(size_t m, const int8_t* a, size_t a_stride, int32_t a_zero, float* acc,
                             size_t c_stride) const {
  if (m == 0 || n_ == 0) return;
  std::vector<QD8RowParams> rows(m, QD8RowParams{a_zero, 1.f});
  QD8GemmArgs args;
  args.m = m, args.n = n_, args.k = k_;
  args.qa = a, args.qa_stride = a_stride, args.row_params = rows.data();
  args.packed_w = packed_.data();
  args.c = acc, args.c_stride = c_stride;
  args.minmax.min = -std::numeric_limits<float>::infinity();
  args.minmax.max = std::numeric_limits<float>::infinity();
  const size_t tiles = (m + kern_.mr - 1) / kern_.mr, panels = (n_ + kern_.nr - 1) / kern_.nr;
  if (m * n_ * k_ < (size_t{1} << 18)) {
    qd8_gemm(kern_, args);
    return;
  }
  parallel_for(tiles, [&](size_t t0, size_t t1) { qd8_gemm_tiles(kern_, args, t0, t1, 0, panels); });
}

void qs8_shift_to_int8(const void* x, bool u8, size_t n, int8_t* y) {
  if (!u8) {
    std::memcpy(y, x, n);
    return;
  }
  const uint8_t* p = static_cast<const uint8_t*>(x);
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<int8_t>(p[i] ^ 0x80);
}

}  // namespace kiln
