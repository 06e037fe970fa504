// qs8-qc8w GEMM: int8 A (one zero point for the tensor) x int8 weights with a scale per
// output column, int8 C. The int32 sums are requantized in the kernel epilogue:
//   c = clamp(round_half_even(acc * scale[n]) + output_zero_point, output_min, output_max)
// where acc = bias[n] + sum_k (a - a_zp) * w already includes the zero-point correction:
// the packer folds it into the int32 bias (bias - a_zp * sum_k w), as XNNPACK does, so the
// inner loop is the qd8 pair-dot (c2) loop unchanged.
//
// Packed panel of NR columns: int32 bias[NR], float scale[NR], then the weights in blocks
// of 8 k values, each 4 pairs of NR x (k, k+1) (the qd8 layout; k padded with zeros).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace kiln {

struct QS8RequantParams {
  int32_t output_zero_point;
  int8_t output_min, output_max;  // the clamp, in the quantized domain
};

// The scalar requantization the references share (and the kernels reproduce bit for bit):
// float(acc) * scale clamped to [min - zp, max - zp] in float (huge products cannot
// overflow the conversion), rounded half to even (lrintf in the default mode), + zp.
inline int8_t qs8_requantize(int32_t acc, float scale, const QS8RequantParams& params) {
  const float y = static_cast<float>(acc) * scale;
  const float lo = static_cast<float>(params.output_min - params.output_zero_point);
  const float hi = static_cast<float>(params.output_max - params.output_zero_point);
  return static_cast<int8_t>(std::lrintf(std::min(std::max(y, lo), hi)) + params.output_zero_point);
}

inline size_t qs8_padded_k(size_t k) { return (k + 7) / 8 * 8; }
inline size_t qs8_gemm_panel_bytes(size_t nr, size_t k) { return nr * 8 + nr * qs8_padded_k(k); }
size_t qs8_gemm_packed_size(size_t nr, size_t n, size_t k);

// w[k][n] at w + k*stride_k + n*stride_n; bias may be null (0).
void qs8_gemm_pack(size_t nr, size_t n, size_t k, int32_t a_zero_point, const int8_t* w, ptrdiff_t stride_k,
                   ptrdiff_t stride_n, const float* scale, const int32_t* bias, void* packed);

// C[mr x nc] (c_stride in elements) from A[mr x kc] (a_stride in bytes; the kernels read A
// in blocks of 8, so rows must be readable up to qs8_padded_k(kc) bytes; the padded tail is
// multiplied by zero weights) and nc columns of packed panels.
using QS8GemmFn = void (*)(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const void* w,
                           int8_t* c, size_t c_stride, const QS8RequantParams* params);

struct QS8GemmKernel {
  const char* name;
  QS8GemmFn fn;
  size_t mr, nr;
};

// Unpacked reference: the same formula with lrintf (round half to even in the default mode).
void qs8_gemm_reference(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, int32_t a_zero_point,
                        const int8_t* w, ptrdiff_t stride_k, ptrdiff_t stride_n, const float* scale,
                        const int32_t* bias, int8_t* c, size_t c_stride, const QS8RequantParams& params);

void qs8_qc8w_gemm_4x8c2_vec(size_t, size_t, size_t, const int8_t*, size_t, const void*, int8_t*, size_t,
                             const QS8RequantParams*);
#if defined(__wasm_simd128__)
void qs8_qc8w_gemm_4x8c2_simd(size_t, size_t, size_t, const int8_t*, size_t, const void*, int8_t*, size_t,
                              const QS8RequantParams*);
void qs8_qc8w_gemm_1x8c2_simd(size_t, size_t, size_t, const int8_t*, size_t, const void*, int8_t*, size_t,
                              const QS8RequantParams*);
#endif
#if defined(__x86_64__)
void qs8_qc8w_gemm_4x16c2_avx2(size_t, size_t, size_t, const int8_t*, size_t, const void*, int8_t*, size_t,
                               const QS8RequantParams*);
#endif

}  // namespace kiln
