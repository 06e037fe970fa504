// ConvTranspose on the packed f32 GEMM (the XNNPACK / ggml way): per image and group,
//   cols[HW_in, group_out * kh * kw] = X^T[HW_in, group_in] x W'[group_in, group_out * kh * kw]
// with W' = the ONNX weights [C, M/group, kh, kw] read as they are (one row per input
// channel), packed once; then a col2im scatter puts every column value at its output
// pixel (strides, dilations, pads; output_padding only grows the output). When the
// windows cannot overlap (stride >= the dilated kernel extent, as in the DB head's 2x2
// stride-2 layers) the scatter writes each output once with the bias added; otherwise
// it accumulates on top of the bias.
//
// The op hands NCHW (ONNX's layout: the nhwc_layout pass does not rewrite ConvTranspose),
// so X is transposed to channels-last first: O(C * pixels), against the GEMM's
// O(C * M * taps * pixels). Rank 1 (as H = 1) and rank 2 only.
#pragma once
#include <cstddef>
#include <vector>

#include "kernels/reference/reference.h"
#include "ops/packed_gemm.h"

namespace kiln {

class ConvTransposeGemm {
 public:
  // w: [groups*group_in, group_out, kh, kw] (ONNX ConvTranspose); bias: groups*group_out
  // values or null.
  void pack(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw, const float* w,
            const float* bias);
  bool packed() const { return !weights_.empty(); }
  // Whether run() takes g: rank 1 or 2 with the packed groups, channels and kernel.
  bool covers(const ConvGeometry& g) const;
  // x: [N, groups*group_in, in...], y: [N, groups*group_out, out...], NCHW, dense;
  // y = clamp(convtranspose(x) + bias). Splits the work over the current thread pool
  // (bit-identical for any thread count). Not to be called concurrently on one object.
  void run(const ConvGeometry& g, const float* x, float* y, F32MinMax minmax = F32MinMax());

 private:
  size_t groups_ = 0, group_in_ = 0, group_out_ = 0, kh_ = 0, kw_ = 0;
  std::vector<PackedGemmWeights> weights_;  // one per group
  std::vector<float> bias_;                 // empty: no bias
  std::vector<float> x_t_, cols_;           // per-image scratch: X^T and the GEMM's columns
};

}  // namespace kiln
