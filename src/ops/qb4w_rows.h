// What kiln.BlockQuantMatMul and kiln.BlockQuantConv share: checking and packing their
// constant int4 weights, and multiplying float rows by them (rows quantized to int8, then
// the qd8-f32-qb4w GEMM, or the reference pair under KILN_REFERENCE_KERNELS).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {

// W uint8 [N, KB * 16] nibble rows, W_scale float16 [N, KB], bias float32 [N] (optional),
// W_min float16 [N, KB] (optional: the asymmetric form, unsigned codes); `w_shape` names W's
// layout in the error ("[N, ceil(K/32)*16]").
Status check_qb4w_constants(const std::string& who, const Tensor& w, const Tensor& scale, const Tensor* bias,
                            const char* w_shape, const Tensor* min = nullptr);

// The kernels for a layer: the asymmetric (min) form has one tile for GEMM and GEMV.
inline const QB4WGemmKernel& qb4w_layer_gemm_kernel(bool min) {
  return min ? qb4w_min_gemm_default_kernel() : qb4w_gemm_default_kernel();
}
inline const QB4WGemmKernel& qb4w_layer_gemv_kernel(bool min) {
  return min ? qb4w_min_gemm_default_kernel() : qb4w_gemv_default_kernel();
}

// W, its scales and the bias in `kern`'s panels (int32 elements keep the panels' sums and
// scales aligned). K = KB * 32: past the real K the nibbles are 0.
// With `min` (kern.min must match), the asymmetric panels.
std::vector<int32_t> pack_qb4w(const QB4WGemmKernel& kern, const Tensor& w, const Tensor& scale, const Tensor* bias,
                               const Tensor* min = nullptr);

// Y [m, N] = X [m, k] (dense rows) x dequant(W) + bias, clamped to minmax. `packed` is W
// packed for `kern` (unused by the reference path, which reads w / scale / bias).
void qb4w_rows(size_t m, size_t k, const float* x, const Tensor& w, const Tensor& scale,
               const Tensor* bias, const QB4WGemmKernel& kern, const int32_t* packed, F32MinMax minmax, float* y,
               bool reference, const Tensor* min = nullptr);

}  // namespace kiln
