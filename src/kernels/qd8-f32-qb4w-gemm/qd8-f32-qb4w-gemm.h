// Dynamically quantized int8 activations x int4 block-quantized weights (XNNPACK's
// "qd8-f32-qb4w"): f32 in, int8 dot products, f32 out.
//
//   C[m, n] = clamp(a_scale[m] * sum_b w_scale[b, n] * sum_{k in block b} (qa[m, k] - a_zero[m]) * qw[k, n]
//                   + bias[n])
//
// A is quantized per row at run time exactly as for qd8-f32-qc8w (qd8_quantize_rows). W is
// int4 (two's complement, -8..7), symmetric, one scale per block of 32 k per column
// (stored as fp16 in the model; float in the packed form). Each block accumulates in int32
// (exact), then adds acc * w_scale[b, n] to a float accumulator; the row scale and the
// bias come once at the end.
//
// Model form ("nibble rows", what kiln.BlockQuantMatMul stores): W as [N, ceil(K/32) * 16]
// uint8, byte t of row n holds k = 2t in the low nibble and k = 2t + 1 in the high one;
// k past K is 0. Scales [N, ceil(K/32)] fp16.
//
// Packed weights, per panel of NR columns (columns past n zero):
//   NR float  bias[n]
//   then per block of 32 k:
//     NR int32  -sum_{k in block} qw[k, n]   (times the row's zero point)
//     NR float  w_scale[b, n]
//     16 * NR bytes of nibbles: the block in the qd8-f32-qc8w int8 order (4 groups of 8 k,
//     each 4 k-pairs x NR columns x 2), byte t holding element t in its low nibble and
//     element t + 16 * NR in its high nibble, so two shifts per vector unpack it to int8.
// Quantized A rows must hold qb4w_padded_k(k) readable int8 (values past k are multiplied
// by zero weights). Microkernel signature = QD8GemmUkernelFn.
//
// The asymmetric form ("qb4w-min", the "optionally a min"): per column and block an
// fp16 scale s and an fp16 min m, codes q = 0..15 (unsigned nibbles), w = s * q + m. Packed,
// q - 8 (= q ^ 8 as a signed nibble) goes through the symmetric path and m' = m + 8 * s
// multiplies the block's sum of the row, sum_k x_k * w_k = s * sum_k x_k (q_k - 8) + m' *
// sum_k x_k: per block the panel holds NR int32 -sum(q - 8), NR float s, NR float m', then
// the nibbles as above. Its A rows must be padded to qb4w_padded_k(k) with the row's zero
// point (the row sum covers the whole block).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

inline constexpr size_t kQB4WBlock = 32;

struct QB4WGemmKernel {
  const char* name;  // e.g. "qd8_f32_qb4w_gemm_4x8c2_simd"
  size_t mr, nr;
  QD8GemmUkernelFn fn;
  bool min = false;  // reads the asymmetric (qb4w-min) panels
};

#define KILN_QB4W_GEMM(name, tile_mr, tile_nr, arch)                                                             \
  void name(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const QD8RowParams* row_params, \
            const void* w, float* c, size_t c_stride, const F32MinMax* params);
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm-list.h"
#undef KILN_QB4W_GEMM
#define KILN_QB4W_MIN_GEMM(name, tile_mr, tile_nr, arch)                                                         \
  void name(size_t mr, size_t nc, size_t kc, const int8_t* a, size_t a_stride, const QD8RowParams* row_params, \
            const void* w, float* c, size_t c_stride, const F32MinMax* params);
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-min-gemm-list.h"
#undef KILN_QB4W_MIN_GEMM

// --- config table ----------------------------------------------------------------------
std::span<const QB4WGemmKernel> qb4w_gemm_kernels();
const QB4WGemmKernel& qb4w_gemm_default_kernel();  // the GEMM tile (M > 1)
const QB4WGemmKernel& qb4w_gemv_default_kernel();  // the MR = 1 tile (one row)
std::span<const QB4WGemmKernel> qb4w_min_gemm_kernels();  // the asymmetric form's
const QB4WGemmKernel& qb4w_min_gemm_default_kernel();     // (one tile for GEMM and GEMV)

// --- sizes -----------------------------------------------------------------------------
inline size_t qb4w_blocks(size_t k) { return (k + kQB4WBlock - 1) / kQB4WBlock; }
inline size_t qb4w_padded_k(size_t k) { return qb4w_blocks(k) * kQB4WBlock; }
inline size_t qb4w_row_bytes(size_t k) { return qb4w_blocks(k) * kQB4WBlock / 2; }  // nibble row of one column
inline size_t qb4w_gemm_panel_bytes(size_t nr, size_t k) { return nr * 4 + qb4w_blocks(k) * nr * (8 + kQB4WBlock / 2); }
size_t qb4w_gemm_packed_size(size_t nr, size_t n, size_t k);
inline size_t qb4w_min_gemm_panel_bytes(size_t nr, size_t k) { return nr * 4 + qb4w_blocks(k) * nr * (12 + kQB4WBlock / 2); }
size_t qb4w_min_gemm_packed_size(size_t nr, size_t n, size_t k);
inline size_t qb4w_kernel_panel_bytes(const QB4WGemmKernel& kern, size_t k) {
  return kern.min ? qb4w_min_gemm_panel_bytes(kern.nr, k) : qb4w_gemm_panel_bytes(kern.nr, k);
}

// --- weights -----------------------------------------------------------------------------
// Symmetric block quantization of a float k x n matrix (b[p * stride_k + j * stride_n]):
// per column and block of 32 k, scale = fp16(max |b| / 7) and q = clamp(round(b / scale),
// -8, 7) with that fp16-rounded scale (so the stored scale is the one the codes assume).
// nibbles: n rows of qb4w_row_bytes(k); scale_f16: n rows of qb4w_blocks(k).
void qb4w_quantize_blocks(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                          uint8_t* nibbles, uint16_t* scale_f16);
// The int8 value of element (n, p) of nibble rows.
inline int8_t qb4w_nibble(const uint8_t* nibbles, size_t k, size_t j, size_t p) {
  const uint8_t byte = nibbles[j * qb4w_row_bytes(k) + p / 2];
  const int v = (p & 1) ? byte >> 4 : byte & 15;
  return static_cast<int8_t>(v >= 8 ? v - 16 : v);
}
// Asymmetric: per column and block lo / hi of the block, m = fp16(lo), s = fp16((hi - m) / 15),
// q = clamp(round((b - m) / s), 0, 15) with the stored s and m (a constant block: s = 0, q = 0).
void qb4w_quantize_blocks_min(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                              uint8_t* nibbles, uint16_t* scale_f16, uint16_t* min_f16);
// The unsigned code 0..15 of element (n, p) of asymmetric nibble rows.
inline uint8_t qb4w_nibble_u(const uint8_t* nibbles, size_t k, size_t j, size_t p) {
  const uint8_t byte = nibbles[j * qb4w_row_bytes(k) + p / 2];
  return (p & 1) ? byte >> 4 : byte & 15;
}
// `packed` must hold qb4w_gemm_packed_size bytes, 4-byte aligned; bias may be null (0).
void qb4w_gemm_pack(size_t nr, size_t n, size_t k, const uint8_t* nibbles, const uint16_t* scale_f16,
                    const float* bias, void* packed);
// Asymmetric nibble rows + fp16 scales and mins -> qb4w_min_gemm_packed_size bytes.
void qb4w_min_gemm_pack(size_t nr, size_t n, size_t k, const uint8_t* nibbles, const uint16_t* scale_f16,
                        const uint16_t* min_f16, const float* bias, void* packed);

// --- reference (the oracle) ------------------------------------------------------------------
// Plain loops over the model form (nibble rows, fp16 scales); c is m x n, row stride c_stride.
void qd8_f32_qb4w_gemm_reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride,
                                 const QD8RowParams* row_params, const uint8_t* nibbles, const uint16_t* scale_f16,
                                 const float* bias, float* c, size_t c_stride, F32MinMax minmax);
// The asymmetric form's oracle: w = s * q + m with unsigned q, over k < K only.
void qd8_f32_qb4w_min_gemm_reference(size_t m, size_t n, size_t k, const int8_t* qa, size_t qa_stride,
                                     const QD8RowParams* row_params, const uint8_t* nibbles,
                                     const uint16_t* scale_f16, const uint16_t* min_f16, const float* bias, float* c,
                                     size_t c_stride, F32MinMax minmax);

// --- driver ------------------------------------------------------------------------------------
// QD8GemmArgs with packed_w packed for `kern` (qa_stride >= qb4w_padded_k(k)).
void qb4w_gemm_tiles(const QB4WGemmKernel& kern, const QD8GemmArgs& args, size_t row_begin, size_t row_end,
                     size_t panel_begin, size_t panel_end);
void qb4w_gemm(const QB4WGemmKernel& kern, const QD8GemmArgs& args);

}  // namespace kiln
