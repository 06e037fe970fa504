// Dynamically quantized int8 GEMM (XNNPACK's "qd8-f32-qc8w"): f32 in, int8 compute, f32 out.
//
//   C[m, n] = clamp(a_scale[m] * w_scale[n] * sum_k (qa[m, k] - a_zero[m]) * qw[k, n] + bias[n])
//
// A (activations) is quantized at run time, one row at a time, asymmetric int8 with a
// per-row scale and zero point (qd8_quantize_rows: no calibration). W (weights) is int8,
// symmetric per output column (qc8w), quantized offline by src/compress/int8_dynamic.
//
// Packed weights, per panel of NR columns (columns past n zero):
//   NR int32  -sum_k qw[k, n]   (times the row's zero point: the zero-point correction)
//   NR float  w_scale[n]
//   NR float  bias[n]
//   then ceil(k / 8) blocks of 8 k values; a block holds 4 k-pairs, each pair NR columns
//   x 2 int8 (column-major pairs: qw[k, n], qw[k+1, n]). k past the end is zero.
// Quantized A rows hold round_up(k, 8) int8 (padding is never read as meaningful: the
// weights there are zero). Microkernel signature (XNNPACK style, strides in elements):
//   fn(mr, nc, kc, qa, qa_stride, row_params, w, c, c_stride, &minmax); nc may span panels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"

namespace kiln {

// Per quantized row: real value = scale * (q - zero_point).
struct QD8RowParams {
  int32_t zero_point = 0;
  float scale = 1.f;
};

using QD8GemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride,
                                  const QD8RowParams* row_params, const void* w, float* c, size_t c_stride,
                                  const F32MinMax* params);

struct QD8GemmKernel {
  const char* name;  // e.g. "qd8_f32_qc8w_gemm_4x8c2_simd": file, test and benchmark share it
  size_t mr, nr;
  QD8GemmUkernelFn fn;
};

#define KILN_QD8_GEMM(name, tile_mr, tile_nr, arch)                                                             \
  void name(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const QD8RowParams* row_params, \
            const void* w, float* c, size_t c_stride, const F32MinMax* params);
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm-list.h"
#undef KILN_QD8_GEMM

// --- config table ----------------------------------------------------------------------
std::span<const QD8GemmKernel> qd8_gemm_kernels();
const QD8GemmKernel& qd8_gemm_default_kernel();

// --- quantizing activations ----------------------------------------------------------------
// k rounded up to the block of 8 the kernels read.
inline size_t qd8_padded_k(size_t k) { return (k + 7) / 8 * 8; }
// Row i of x (m rows, x_stride floats apart) -> q + i * q_stride (round_up(k, 8) int8, the
// tail zero-point padded) and params[i]. The range always includes 0 (so 0 is exact);
// a constant row gets scale 1. Reference version = the oracle for the fast one.
void qd8_quantize_rows_reference(size_t m, size_t k, const float* x, size_t x_stride, int8_t* q, size_t q_stride,
                                 QD8RowParams* params);
void qd8_quantize_rows(size_t m, size_t k, const float* x, size_t x_stride, int8_t* q, size_t q_stride,
                       QD8RowParams* params);

// --- weights -----------------------------------------------------------------------------
// Symmetric per-column quantization of a float k x n matrix (b[p * stride_k + j * stride_n]):
// scale[j] = max_p |b[p, j]| / 127 (1 for an all-zero column), q = round(b / scale).
void qc8w_quantize_columns(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n, int8_t* q,
                           float* scale);

// Bytes of the packed form of a k x n int8 matrix with NR-column panels.
size_t qd8_gemm_packed_size(size_t nr, size_t n, size_t k);
inline size_t qd8_gemm_panel_bytes(size_t nr, size_t k) { return nr * (3 * 4 + qd8_padded_k(k)); }
// qw[p, j] = qw[p * stride_k + j * stride_n]; scale (n values), bias (n values or null = 0).
// `packed` must hold qd8_gemm_packed_size bytes, 4-byte aligned.
void qd8_gemm_pack(size_t nr, size_t n, size_t k, const int8_t* qw, ptrdiff_t stride_k, ptrdiff_t stride_n,
                   const float* scale, const float* bias, void* packed);

// --- reference (the oracle) ------------------------------------------------------------------
// Plain loops over unpacked data: qw is k x n row-major, c is m x n with row stride c_stride.
void qd8_f32_qc8w_gemm_reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride,
                                 const QD8RowParams* row_params, const int8_t* qw, const float* w_scale,
                                 const float* bias, float* c, size_t c_stride, F32MinMax minmax);

// --- driver ------------------------------------------------------------------------------------
struct QD8GemmArgs {
  size_t m = 0, n = 0, k = 0;
  const int8_t* qa = nullptr;  // quantized rows
  size_t qa_stride = 0;        // >= qd8_padded_k(k)
  const QD8RowParams* row_params = nullptr;
  const void* packed_w = nullptr;  // packed with the kernel's nr
  float* c = nullptr;
  size_t c_stride = 0;
  F32MinMax minmax;
};
void qd8_gemm_tiles(const QD8GemmKernel& kern, const QD8GemmArgs& args, size_t row_begin, size_t row_end,
                    size_t panel_begin, size_t panel_end);
void qd8_gemm(const QD8GemmKernel& kern, const QD8GemmArgs& args);

}  // namespace kiln
