// The int8 kernels behind kiln.DynamicQuantConv (NHWC, int8 weights per output channel,
// activations quantized at run time), like NhwcConvKernels for float:
//  * 1x1 stride-1 unpadded group-1 layers: every pixel is a row, quantized with its own
//    scale and zero point, then the qd8 GEMM (the IGEMM packing with one tap is the GEMM's);
//  * depthwise layers (one input and one output channel per group): activations stay float
//    and the f32-qc8w depthwise kernels widen the int8 weights in registers (a depthwise
//    layer does too little work per input value to pay for quantizing it);
//  * everything else: each image is quantized as a whole (one scale and zero point, since
//    the indirection buffer gathers pixels from many rows), the padding row is filled with
//    that zero point, and the qd8 IGEMM runs per group over an int8 indirection buffer.
// The indirection buffer points into this object's own quantized-image buffer, so it is
// built once per input geometry and never moves. Not for concurrent runs on one object.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"
#include "kernels/reference/reference.h"

namespace kiln {

class QD8ConvKernels {
 public:
  // qw: ONNX layout [M = groups*group_out, group_in, kh, kw] int8; scale: M floats; bias: M or null.
  void pack(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw, const int8_t* qw,
            const float* scale, const float* bias);
  bool packed() const { return igemm_ != nullptr || dwconv_ != nullptr; }
  // Whether a layer runs as a GEMM over per-pixel rows (else IGEMM over whole images).
  static bool pointwise(const ConvGeometry& g);
  // Whether a layer runs the f32-qc8w depthwise kernels (float activations).
  static bool depthwise(const ConvGeometry& g) { return g.group_in == 1 && g.group_out == 1; }
  // Whether run handles g: 2-D and matching the packing (else it writes nothing; the op then
  // takes the reference loops).
  bool accepts(const ConvGeometry& g) const;
  // x: [N, H, W, C] and y: [N, OH, OW, M], both NHWC and dense; g must match the packing.
  void run(const ConvGeometry& g, const float* x, float* y, F32MinMax minmax);

 private:
  void run_depthwise(const ConvGeometry& g, const NhwcConv2dShape& s, const float* x, float* y, F32MinMax minmax);
  size_t groups_ = 0, group_in_ = 0, group_out_ = 0, kh_ = 0, kw_ = 0;
  const QD8IgemmKernel* igemm_ = nullptr;
  const QD8GemmKernel* gemm_ = nullptr;  // same nr as igemm_ (1x1 group-1 layers), or null
  const F32QC8WDwconvKernel* dwconv_ = nullptr;  // depthwise layers (then igemm_ is null)
  std::vector<int32_t> weights_;         // per group, packed for igemm_ (int32: aligned sums/scales)
  size_t group_words_ = 0;               // int32 words per group in weights_

  NhwcConv2dShape shape_;  // the geometry the indirection buffer was built for
  bool have_shape_ = false;
  std::vector<int8_t> image_;  // one quantized image (+ the tail the kernels read past the end)
  std::vector<int8_t> zero_;   // the padding row: round_up(group_in, 8) x the zero point
  std::vector<const int8_t*> indirection_;
  std::vector<QD8RowParams> row_params_;  // pointwise: one per pixel
  // Depthwise: a float indirection buffer into the input it was built for (dw_base_); later
  // inputs are reached by a byte offset, as in NhwcConvKernels.
  std::vector<const float*> dw_indirection_;
  std::vector<float> dw_zero_;
  const float* dw_base_ = nullptr;
};

// The oracle for QD8ConvKernels::run with the same quantization (reference quantizer, per
// pixel for pointwise layers, per image otherwise; depthwise layers keep float input), then
// the float reference convolution over the dequantized input and weights. Used with KILN_REFERENCE_KERNELS=1 and when the
// weights are not constant.
void qd8_conv_nhwc_reference(const ConvGeometry& g, const float* x, const int8_t* qw, const float* scale,
                             const float* bias, float* y);

}  // namespace kiln
