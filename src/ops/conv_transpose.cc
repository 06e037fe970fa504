// ConvTranspose (opsets 1..22): the adjoint of Conv. W is [C, M/group, k...]; output size
// from pads + output_padding, or from output_shape / auto_pad SAME_* with generated pads
// (SAME_UPPER puts the odd padding at the end, as in Conv; ONNX spec and ORT >= 1.14).
// 1-D and 2-D layers run as GEMM + col2im (ops/conv_transpose_gemm.h): constant weights
// packed at creation, weights computed at run time packed per call; other ranks, and
// KILN_REFERENCE_KERNELS=1, run the reference scatter loop.
#include "kernels/reference/reference.h"
#include "ops/conv_transpose_gemm.h"
#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class ConvTransposeOp final : public Op {
 public:
  ConvTransposeOp(std::string who, WindowAttrs attrs, int64_t group, std::vector<int64_t> output_padding,
                  std::vector<int64_t> output_shape, FusedActivation act)
      : who_(std::move(who)), attrs_(std::move(attrs)), group_(group), output_padding_(std::move(output_padding)),
        output_shape_(std::move(output_shape)), act_(act) {
    post_act_ = split_clamp(act_, &minmax_.min, &minmax_.max);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "W"));
    if (input_present(in, 2)) KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "B"));
    const Dims* bias = input_present(in, 2) ? &in[2].dims : nullptr;
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims, in[1].dims, bias));
    out[0].dtype = DType::kF32;
    out[0].dims = output_dims(g);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    const bool has_bias = input_present(in, 2);
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims(), in[1].dims(), has_bias ? &in[2].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], output_dims(g), who_));
    ConvTransposeGemm* fast = nullptr;
    if (!use_reference_kernels()) {
      if (fast_.covers(g)) {
        fast = &fast_;
      } else if (!fast_.packed() && (g.rank == 1 || g.rank == 2) && g.group_in > 0 && g.group_out > 0 &&
                 g.kernel[0] > 0 && g.kernel[g.rank - 1] > 0) {
        // W or B computed at run time (e.g. DequantizeLinear of int8 weights): packing is
        // O(weights), the layer O(weights * pixels), so pack for this call.
        run_time_.pack(g.groups, g.group_in, g.group_out, g.rank == 2 ? static_cast<size_t>(g.kernel[0]) : 1,
                       static_cast<size_t>(g.kernel[g.rank - 1]), in[1].data<float>(),
                       has_bias ? in[2].data<float>() : nullptr);
        fast = &run_time_;
      }
    }
    if (fast) {
      float* y = out[0].mutable_data<float>();
      fast->run(g, in[0].data<float>(), y, minmax_);
      if (post_act_.active()) {
        const int64_t planes = out[0].dim(0) * out[0].dim(1);
        const int64_t plane = planes > 0 ? out[0].size() / planes : 0;
        parallel_for(static_cast<size_t>(planes), [&](size_t begin, size_t end) {
          apply_fused_activation(post_act_, y + static_cast<int64_t>(begin) * plane,
                                 static_cast<int64_t>(end - begin) * plane);
        });
      }
      return Status::Ok();
    }
    f32_conv_transpose_reference(g, in[0].data<float>(), in[1].data<float>(),
                                 has_bias ? in[2].data<float>() : nullptr, out[0].mutable_data<float>());
    apply_fused_activation(act_, out[0].mutable_data<float>(), out[0].size());
    return Status::Ok();
  }

  // Constant W (and bias) of a 1-D or 2-D layer, packed once for GEMM + col2im.
  void pack(const Tensor& w, const Tensor* bias) {
    const Dims& d = w.dims();
    if ((d.size() != 3 && d.size() != 4) || w.dtype() != DType::kF32 || d[0] % group_ != 0 || use_reference_kernels())
      return;
    if (bias && (bias->dtype() != DType::kF32 || bias->size() != d[1] * group_)) return;
    for (int64_t v : d)
      if (v <= 0) return;
    const size_t kh = d.size() == 4 ? static_cast<size_t>(d[2]) : 1, kw = static_cast<size_t>(d.back());
    fast_.pack(static_cast<size_t>(group_), static_cast<size_t>(d[0] / group_), static_cast<size_t>(d[1]), kh, kw,
               w.data<float>(), bias ? bias->data<float>() : nullptr);
  }

 private:
  Result<ConvGeometry> geometry(const Dims& x, const Dims& w, const Dims* bias) const {
    if (x.size() < 3)
      return invalid_argument(who_ + "input X must have rank >= 3 (N, C, spatial...), got " + dims_to_string(x));
    if (w.size() != x.size())
      return invalid_argument(who_ + "weights W " + dims_to_string(w) + " must have the rank of X " +
                              dims_to_string(x));
    const size_t r = x.size() - 2;
    if (r > kMaxSpatialDims)
      return unsupported(who_ + std::to_string(r) + " spatial dims; kiln supports 1.." +
                         std::to_string(kMaxSpatialDims));
    KILN_RETURN_IF_ERROR(check_window_lengths(attrs_, r, who_));
    const int64_t c = x[1];
    if (w[0] != c || c % group_ != 0)
      return invalid_argument(who_ + "X has " + std::to_string(c) + " channels but W " + dims_to_string(w) +
                              " with group " + std::to_string(group_) + " expects W[0] == C divisible by group");
    const int64_t m = w[1] * group_;
    if (bias && (bias->size() != 1 || (*bias)[0] != m))
      return invalid_argument(who_ + "bias B must have shape [" + std::to_string(m) + "], got " +
                              dims_to_string(*bias));
    std::vector<int64_t> kernel = dims_slice(w, 2, w.size());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      return invalid_argument(who_ + "kernel_shape " + dims_to_string(attrs_.kernel_shape) +
                              " does not match the weights " + dims_to_string(w));
    if (!output_padding_.empty() && output_padding_.size() != r)
      return invalid_model(who_ + "output_padding has " + std::to_string(output_padding_.size()) +
                           " values, expected " + std::to_string(r));
    // output_shape may list only spatial dims (the spec) or all dims (some exporters).
    if (!output_shape_.empty() && output_shape_.size() != r && output_shape_.size() != r + 2)
      return invalid_model(who_ + "output_shape " + dims_to_string(output_shape_) + " does not have " +
                           std::to_string(r) + " spatial dims");

    ConvGeometry g;
    g.batch = static_cast<size_t>(x[0]);
    g.groups = static_cast<size_t>(group_);
    g.group_in = static_cast<size_t>(c / group_);
    g.group_out = static_cast<size_t>(w[1]);
    g.rank = r;
    for (size_t d = 0; d < r; ++d) {
      const int64_t in = x[d + 2], s = attrs_.strides.empty() ? 1 : attrs_.strides[d];
      const int64_t dil = attrs_.dilations.empty() ? 1 : attrs_.dilations[d];
      const int64_t adj = output_padding_.empty() ? 0 : output_padding_[d];
      const int64_t full = s * (in - 1) + adj + (kernel[d] - 1) * dil + 1;  // output with no padding
      int64_t pb = 0, pe = 0, out;
      const bool same = attrs_.auto_pad == AutoPad::kSameUpper || attrs_.auto_pad == AutoPad::kSameLower;
      if (!output_shape_.empty() || same) {
        out = !output_shape_.empty() ? output_shape_[output_shape_.size() - r + d] : in * s;
        const int64_t total = std::max<int64_t>(0, full - out);
        // SAME_UPPER: the smaller half first; otherwise (SAME_LOWER and the spec's "else") the larger.
        pb = attrs_.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      } else {
        if (attrs_.auto_pad == AutoPad::kNotSet && !attrs_.pads.empty()) {
          pb = attrs_.pads[d];
          pe = attrs_.pads[d + r];
        }
        out = full - pb - pe;
      }
      if (out <= 0 && in > 0)
        return invalid_argument(who_ + "output spatial dim " + std::to_string(d) + " would be " +
                                std::to_string(out) + " (input " + std::to_string(in) + ", padding " +
                                std::to_string(pb + pe) + ")");
      g.in[d] = in;
      g.out[d] = std::max<int64_t>(out, 0);
      g.kernel[d] = kernel[d];
      g.stride[d] = s;
      g.dilation[d] = dil;
      g.pad_begin[d] = pb;
    }
    return g;
  }

  static Dims output_dims(const ConvGeometry& g) {
    Dims d = {static_cast<int64_t>(g.batch), static_cast<int64_t>(g.groups * g.group_out)};
    for (size_t i = 0; i < g.rank; ++i) d.push_back(g.out[i]);
    return d;
  }

  std::string who_;
  WindowAttrs attrs_;
  int64_t group_;
  std::vector<int64_t> output_padding_, output_shape_;
  FusedActivation act_;
  F32MinMax minmax_;          // Relu / Clip, applied in the col2im scatter
  FusedActivation post_act_;  // other activations, applied after it
  ConvTransposeGemm fast_;      // constant weights, packed at creation
  ConvTransposeGemm run_time_;  // weights computed at run time, packed per call
};

}  // namespace

Result<std::unique_ptr<Op>> create_conv_transpose(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  const std::string who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(int64_t group, ctx.node.attr_int("group", 1));
  if (group <= 0 || group >= (int64_t{1} << 31))
    return invalid_model(who + "group must be positive (and sane), got " + std::to_string(group));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> output_padding, ctx.node.attr_ints("output_padding", std::vector<int64_t>{}));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> output_shape, ctx.node.attr_ints("output_shape", std::vector<int64_t>{}));
  for (int64_t v : output_padding)
    if (v < 0) return invalid_model(who + "output_padding must be non-negative, got " + dims_to_string(output_padding));
  for (int64_t v : output_shape)
    if (v < 0) return invalid_model(who + "output_shape must be non-negative, got " + dims_to_string(output_shape));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<ConvTransposeOp>(who, std::move(attrs), group, std::move(output_padding),
                                              std::move(output_shape), act);
  const Tensor* bias = ctx.constant_input(2);
  if (const Tensor* w = ctx.constant_input(1); w && (bias || !ctx.has_input(2))) op->pack(*w, bias);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
