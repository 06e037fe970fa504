// kiln.NhwcConv (graph/kiln_extensions.h): a 2-D Conv on channels-last data, written by
// the nhwc_layout pass. X [N, H, W, C], W in the ONNX layout [M, C/group, kH, kW], optional
// B [M] -> Y [N, OH, OW, M]; the attributes and fused activation are those of Conv.
// With constant weights it runs the packed kernels of ops/conv_nhwc_kernels.h: a 1x1
// convolution is one GEMM over the pixels as they lie (no transposes), depthwise layers
// run the depthwise microkernels, the rest IGEMM over an indirection buffer. Otherwise
// (weights computed at run time, KILN_REFERENCE_KERNELS=1) the reference kernel.
#include "kernels/reference/reference.h"
#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "ops/conv_nhwc_kernels.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class NhwcConvOp final : public Op {
 public:
  NhwcConvOp(std::string who, NhwcConvAttrs attrs, FusedActivation act)
      : who_(std::move(who)), attrs_(std::move(attrs)), act_(act) {
    post_act_ = split_clamp(act_, &minmax_.min, &minmax_.max);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "W"));
    if (input_present(in, 2)) KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "B"));
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims, in[1].dims, input_present(in, 2) ? &in[2].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = nhwc_conv_output_dims(g);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    const bool has_bias = input_present(in, 2);
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims(), in[1].dims(), has_bias ? &in[2].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], nhwc_conv_output_dims(g), who_));
    const float* x = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    if (fast_.packed()) {
      fast_.run(g, x, y, minmax_);
      apply_fused_activation(post_act_, y, out[0].size());
      return Status::Ok();
    }
    f32_conv_nhwc_reference(g, x, in[1].data<float>(), has_bias ? in[2].data<float>() : nullptr, y);
    apply_fused_activation(act_, y, out[0].size());
    return Status::Ok();
  }

  // Constant weights (and bias), packed once for the channels-last kernels.
  void pack(const Tensor& w, const Tensor* bias) {
    const Dims& d = w.dims();
    if (d.size() != 4 || w.dtype() != DType::kF32 || d[0] % attrs_.group != 0) return;
    if (bias && (bias->dtype() != DType::kF32 || bias->size() != d[0])) return;
    const int64_t group = attrs_.group;
    fast_.pack(static_cast<size_t>(group), static_cast<size_t>(d[1]), static_cast<size_t>(d[0] / group),
               static_cast<size_t>(d[2]), static_cast<size_t>(d[3]), w.data<float>(),
               bias ? bias->data<float>() : nullptr);
  }

 private:
  Result<ConvGeometry> geometry(const Dims& x, const Dims& w, const Dims* bias) const {
    return nhwc_conv_geometry(attrs_, x, w, {{"bias B", bias}}, who_);
  }

  std::string who_;
  NhwcConvAttrs attrs_;
  FusedActivation act_, post_act_;
  F32MinMax minmax_;
  NhwcConvKernels fast_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_nhwc_conv(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_ASSIGN_OR_RETURN(NhwcConvAttrs attrs, parse_nhwc_conv_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<NhwcConvOp>(prefix(ctx.node), std::move(attrs), act);
  const Tensor* bias = ctx.constant_input(2);
  if (const Tensor* w = ctx.constant_input(1); w && (bias || !ctx.has_input(2))) op->pack(*w, bias);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
