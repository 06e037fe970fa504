// The fast path of QLinearMatMul and QLinearConv (ops/qlinear_matmul.cc, qlinear_conv.cc):
// the int8 x int8 -> int32 product runs on the qd8 GEMM microkernels
// (kernels/qd8-f32-qc8w-gemm: SIMD128 in WASM, AVX2 or portable natively) with unit scales
// and zero bias, so their float output is the int32 accumulator itself (exact while
// |acc| < 2^24, i.e. always for k up to 1024 and in practice far beyond); the op then adds
// its int32 bias and requantizes with ops/qlinear_util.h exactly as the reference loops do.
// Weights must be symmetric int8 after the uint8 shift (zero point 0 for int8, 128 for
// uint8); other weights run the reference loops. uint8 activations are shifted by 128 into
// int8 (x ^ 0x80) with the zero point moved by -128, which leaves every product unchanged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

class QS8PackedGemm {
 public:
  // qw[p * stride_k + j * stride_n]: k x n int8 with zero point 0.
  void pack(size_t n, size_t k, const int8_t* qw, ptrdiff_t stride_k, ptrdiff_t stride_n);
  bool packed() const { return !packed_.empty(); }
  size_t n() const { return n_; }
  size_t k() const { return k_; }
  // Row length of A buffers: k rounded up to the kernels' block (the tail is never used).
  size_t padded_k() const { return qd8_padded_k(k_); }
  // acc[i * c_stride + j] = sum_p (a[i * a_stride + p] - a_zero) * qw[p, j] as float, for
  // m rows; rows are split across the thread pool.
  void multiply(size_t m, const int8_t* a, size_t a_stride, int32_t a_zero, float* acc, size_t c_stride) const;

 private:
  const QD8GemmKernel& kern_ = qd8_gemm_default_kernel();
  size_t n_ = 0, k_ = 0;
  std::vector<int32_t> packed_;  // int32 words: the packing holds aligned sums and scales
};

// x (uint8 when `u8`, else int8) -> int8 (uint8 shifted by 128), n values.
void qs8_shift_to_int8(const void* x, bool u8, size_t n, int8_t* y);

}  // namespace kiln
