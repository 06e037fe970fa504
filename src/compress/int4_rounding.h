// Error-minimizing int4 block rounding (`kiln compress --int4`, the default; `--int4-rounding
// absmax` is the plain form): the same model bytes as qb4w_quantize_blocks(_min) (nibble
// rows, fp16 scale and min per block of 32 along K), but each block's scale (and min) is the
// one, from a small grid of clipped ranges plus a least-squares refit, that gives the
// smallest squared error of the block's dequantized weights. Clipping the block's one large
// weight costs a little on it and buys a finer step for the other 31: on real weights this
// lowers the error of most blocks (absmax is the first candidate, so no block gets worse).
//
// Optional `importance[p]` (>= 0, per row p of K) weights the squared error, e.g. the mean
// of x_p^2 over calibration inputs: the error that reaches the layer's output.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln {

// Weighted squared error of one symmetric block (codes clamp(round(w / scale), -8, 7)).
double int4_block_error(size_t len, const float* w, ptrdiff_t stride, const float* importance, float scale);
// ... of one asymmetric block (codes clamp(round((w - min) / scale), 0, 15); scale 0: all min).
double int4_block_error_min(size_t len, const float* w, ptrdiff_t stride, const float* importance, float scale,
                            float min);

// The chosen fp16 scale of one symmetric block: never a larger error than absmax / 7.
uint16_t int4_fit_scale(size_t len, const float* w, ptrdiff_t stride, const float* importance);
// The chosen fp16 (scale, min) of one asymmetric block: never a larger error than [lo, hi] / 15.
void int4_fit_scale_min(size_t len, const float* w, ptrdiff_t stride, const float* importance, uint16_t* scale_f16,
                        uint16_t* min_f16);

// qb4w_quantize_blocks / qb4w_quantize_blocks_min (kernels/qd8-f32-qb4w-gemm) with the fitted
// scales: b[p * stride_k + j * stride_n], k x n; importance: k values or null (all 1).
void int4_quantize_blocks_fit(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                              const float* importance, uint8_t* nibbles, uint16_t* scale_f16);
void int4_quantize_blocks_min_fit(size_t n, size_t k, const float* b, ptrdiff_t stride_k, ptrdiff_t stride_n,
                                  const float* importance, uint8_t* nibbles, uint16_t* scale_f16, uint16_t* min_f16);

}  // namespace kiln
