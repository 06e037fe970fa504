// The int8 depthwise convolution runner behind kiln.QLinearNhwcConv's depthwise layers
// (group = C = M): int8 NHWC in and out, int8 weights per channel, int32 bias, and the
// requantization of qs8-qc8w-dwconv (the same as the qs8-qc8w GEMM's, so both agree
// bit-exactly with ops/qlinear_util.h's requantize()).
//
// Lifecycle as XNNPACK's operators: pack() once per constant weights (the input zero
// point is folded into the packed int32 bias, so it is fixed at pack time), then run() per
// input; the indirection buffer (with a padding row filled with the input zero point, so
// padding taps add (zp - zp) * w = 0) is rebuilt only when the input geometry changes and
// reused for every batch image and a moved input. Not for concurrent runs on one object.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"
#include "kernels/reference/reference.h"

namespace kiln {

class QS8DwconvNhwc {
 public:
  // Whether g is a 2-D depthwise convolution this runner takes (one input and one output
  // channel per group).
  static bool supported(const ConvGeometry& g) { return g.rank == 2 && g.group_in == 1 && g.group_out == 1; }

  // g: the layer (its spatial input sizes may change later; kernel size and channels may
  // not). w: int8 [C, 1, kH, kW] (ONNX layout); bias: C int32 or null; requant_scale: C
  // floats, x_scale * w_scale[c] / y_scale; x_zero_point: the input's (per tensor).
  Status pack(const ConvGeometry& g, const int8_t* w, const int32_t* bias, const float* requant_scale,
              int32_t x_zero_point);
  bool packed() const { return kernel_ != nullptr; }

  // x [N, H, W, C], y [N, OH, OW, C] (dense NHWC); g must have the packed channels and
  // kernel size. out: output zero point and int8 clamp (fused Relu/Clip).
  Status run(const ConvGeometry& g, const int8_t* x, int8_t* y, const QS8RequantParams& out);

  const QS8DwconvKernel* kernel() const { return kernel_; }

  // The int32-sums form (for fused activations that need the real value): packs for the
  // sums kernel (qs8_dwconv_default_sums_kernel), no scales; run_sums writes
  // sums [N, OH, OW, C] (bias included, input zero point subtracted), which the caller
  // requantizes. A runner is packed for one form or the other.
  Status pack_sums(const ConvGeometry& g, const int8_t* w, const int32_t* bias, int32_t x_zero_point);
  bool packed_sums() const { return sums_kernel_ != nullptr; }
  Status run_sums(const ConvGeometry& g, const int8_t* x, int32_t* sums);

  // The activation form (qs8-act-epilogue.h): in_scale[c] = x_scale * w_scale[c]; the
  // kernels compute act(acc * in_scale) / y_scale, rounded, + zero point, clamped (out).
  // Fails (unsupported) when this build has no kernel for `act`.
  Status pack_act(const ConvGeometry& g, const int8_t* w, const int32_t* bias, const float* in_scale,
                  int32_t x_zero_point, QS8Act act);
  bool packed_act() const { return act_kernel_ != nullptr; }
  Status run_act(const ConvGeometry& g, const int8_t* x, int8_t* y, const QS8ActParams& out);

 private:
  Status pack_common(const ConvGeometry& g, const int8_t* w, int32_t x_zero_point);
  // Checks g against the packing, (re)builds the indirection buffer for x; the input's byte
  // offset from the buffer's base, or an error.
  Result<size_t> prepare(const ConvGeometry& g, const int8_t* x);

  size_t channels_ = 0, kh_ = 0, kw_ = 0;
  int32_t x_zero_point_ = 0;
  const QS8DwconvKernel* kernel_ = nullptr;
  const QS8DwconvSumsKernel* sums_kernel_ = nullptr;
  const QS8DwconvActKernel* act_kernel_ = nullptr;
  std::vector<int32_t> weights_;  // packed for kernel_ (int32 words: aligned bias/scales)

  NhwcConv2dShape shape_;  // the geometry the indirection buffer was built for
  bool have_shape_ = false;
  std::vector<const int8_t*> indirection_;
  std::vector<int8_t> zero_;  // the padding row: channels x the input zero point
  const int8_t* base_ = nullptr;  // the input the indirection buffer was built for
};

// The activation form's oracle: act(acc * in_scale[c]) through qs8_act_requantize.
void qs8_dwconv_nhwc_act_reference(const ConvGeometry& g, const int8_t* x, int32_t x_zero_point, const int8_t* w,
                                   const int32_t* bias, const float* in_scale, QS8Act act, const QS8ActParams& out,
                                   int8_t* y);

// The oracle for QS8DwconvNhwc: plain loops over ConvGeometry with the zero point
// subtracted per element, int32 sums and qs8_requantize (for the tests, and for the op to
// run when use_reference_kernels() / KILN_REFERENCE_KERNELS=1 asks for reference kernels).
void qs8_dwconv_nhwc_reference(const ConvGeometry& g, const int8_t* x, int32_t x_zero_point, const int8_t* w,
                               const int32_t* bias, const float* requant_scale, const QS8RequantParams& out,
                               int8_t* y);

}  // namespace kiln
