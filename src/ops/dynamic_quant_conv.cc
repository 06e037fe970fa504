// kiln.DynamicQuantConv (graph/kiln_extensions.h): kiln.NhwcConv with int8 weights, written
// by `kiln compress --int8` (src/compress/int8_conv.h). X float32 [N, H, W, C], W int8
// [M, C/group, kH, kW] (symmetric per output channel), W_scale float32 [M], optional B
// float32 [M] -> Y float32 [N, OH, OW, M]; Conv's attributes and the fused activation.
// Computed in int8: activations are quantized at run time (per pixel for 1x1 layers, per
// image otherwise), then the qd8 GEMM / IGEMM kernels (ops/qd8_conv_kernels.h); depthwise
// layers keep float activations and run the f32-qc8w depthwise kernels. Constant
// weights are packed once at create; otherwise (or with KILN_REFERENCE_KERNELS=1) the
// reference quantizes the same way and runs the float reference convolution.
#include "kernels/reference/reference.h"
#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "ops/qd8_conv_kernels.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class DynamicQuantConvOp final : public Op {
 public:
  DynamicQuantConvOp(std::string who, NhwcConvAttrs attrs, FusedActivation act)
      : who_(std::move(who)), attrs_(std::move(attrs)), act_(act) {
    post_act_ = split_clamp(act_, &minmax_.min, &minmax_.max);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI8}, who_ + "input W"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "W_scale"));
    const bool has_bias = input_present(in, 3);
    if (has_bias) KILN_RETURN_IF_ERROR(expect_f32(in, 3, who_, "B"));
    KILN_ASSIGN_OR_RETURN(ConvGeometry g,
                          geometry(in[0].dims, in[1].dims, in[2].dims, has_bias ? &in[3].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = nhwc_conv_output_dims(g);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    const bool has_bias = input_present(in, 3);
    KILN_ASSIGN_OR_RETURN(ConvGeometry g,
                          geometry(in[0].dims(), in[1].dims(), in[2].dims(), has_bias ? &in[3].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], nhwc_conv_output_dims(g), who_));
    const float* x = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    if (fast_.accepts(g) && !use_reference_kernels()) {
      fast_.run(g, x, y, minmax_);
      apply_fused_activation(post_act_, y, out[0].size());
      return Status::Ok();
    }
    qd8_conv_nhwc_reference(g, x, in[1].data<int8_t>(), in[2].data<float>(), has_bias ? in[3].data<float>() : nullptr,
                            y);
    apply_fused_activation(act_, y, out[0].size());
    return Status::Ok();
  }

  // Constant weights, scales (and bias), packed once.
  Status pack(const Tensor& w, const Tensor& scale, const Tensor* bias) {
    const Dims& d = w.dims();
    if (w.dtype() != DType::kI8 || d.size() != 4)
      return invalid_model(who_ + "W must be a 4-D int8 tensor, got " + std::string(dtype_name(w.dtype())) + " " +
                           dims_to_string(d));
    if (d[0] % attrs_.group != 0)
      return invalid_model(who_ + "W has " + std::to_string(d[0]) + " output channels, not divisible by group " +
                           std::to_string(attrs_.group));
    if (scale.dtype() != DType::kF32 || scale.dims() != Dims{d[0]})
      return invalid_model(who_ + "W_scale must be float32 [" + std::to_string(d[0]) + "], got " +
                           dims_to_string(scale.dims()));
    if (bias && (bias->dtype() != DType::kF32 || bias->dims() != Dims{d[0]}))
      return invalid_model(who_ + "B must be float32 [" + std::to_string(d[0]) + "], got " +
                           dims_to_string(bias->dims()));
    const int64_t group = attrs_.group;
    fast_.pack(static_cast<size_t>(group), static_cast<size_t>(d[1]), static_cast<size_t>(d[0] / group),
               static_cast<size_t>(d[2]), static_cast<size_t>(d[3]), w.data<int8_t>(), scale.data<float>(),
               bias ? bias->data<float>() : nullptr);
    return Status::Ok();
  }

 private:
  Result<ConvGeometry> geometry(const Dims& x, const Dims& w, const Dims& scale, const Dims* bias) const {
    return nhwc_conv_geometry(attrs_, x, w, {{"W_scale", &scale}, {"bias B", bias}}, who_);
  }

  std::string who_;
  NhwcConvAttrs attrs_;
  FusedActivation act_, post_act_;
  F32MinMax minmax_;
  QD8ConvKernels fast_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_dynamic_quant_conv(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 4));
  KILN_ASSIGN_OR_RETURN(NhwcConvAttrs attrs, parse_nhwc_conv_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<DynamicQuantConvOp>(prefix(ctx.node), std::move(attrs), act);
  const Tensor* w = ctx.constant_input(1);
  const Tensor* scale = ctx.constant_input(2);
  const Tensor* bias = ctx.constant_input(3);
  if (w && scale && (bias || !ctx.has_input(3))) KILN_RETURN_IF_ERROR(op->pack(*w, *scale, bias));
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
