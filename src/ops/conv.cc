// Conv (opsets 1..22 share one form): N-D, groups (incl. depthwise), strides, dilations,
// explicit or automatic padding, optional bias; kernel_shape may be omitted (taken from W).
#include <algorithm>

#include "kernels/reference/reference.h"
#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class ConvOp final : public Op {
 public:
  ConvOp(std::string who, WindowAttrs attrs, int64_t group, FusedActivation act)
      : who_(std::move(who)), attrs_(std::move(attrs)), group_(group), act_(act) {}

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
    float* y = out[0].mutable_data<float>();
    if (packed_.packed() && is_pointwise(g) && !use_reference_kernels()) {
      run_pointwise(g, in[0].data<float>(), y);
      return Status::Ok();
    }
    // Threads split the (image, output channel) planes; each applies the activation to its own.
    const float* x = in[0].data<float>();
    const float* w = in[1].data<float>();
    const float* bias = has_bias ? in[2].data<float>() : nullptr;
    const int64_t plane = out[0].size() / std::max<int64_t>(1, out[0].dim(0) * out[0].dim(1));
    parallel_for(g.batch * g.groups * g.group_out, [&](size_t begin, size_t end) {
      f32_conv_reference_channels(g, x, w, bias, y, begin, end);
      apply_fused_activation(act_, y + static_cast<int64_t>(begin) * plane, static_cast<int64_t>(end - begin) * plane);
    });
    return Status::Ok();
  }

  // A 1x1 convolution (group 1, constant W and bias) is a GEMM: W^T [Cin, Cout] is packed
  // once with the bias, so per image Y^T[HW, Cout] = X^T[HW, Cin] x W^T (transposes of X
  // and Y are O(C*HW) against the GEMM's O(Cin*Cout*HW)).
  void pack_pointwise(const Tensor& w, const Tensor* bias) {
    const Dims& d = w.dims();
    if (group_ != 1 || d.size() < 3 || w.dtype() != DType::kF32 || use_reference_kernels()) return;
    for (size_t i = 2; i < d.size(); ++i)
      if (d[i] != 1) return;
    if (bias && (bias->dtype() != DType::kF32 || bias->size() != d[0])) return;
    packed_.pack(static_cast<size_t>(d[0]), static_cast<size_t>(d[1]), w.data<float>(), 1, d[1], 1.f,
                 bias ? bias->data<float>() : nullptr, 1);
  }

 private:
  Result<ConvGeometry> geometry(const Dims& x, const Dims& w, const Dims* bias) const {
    if (x.size() < 3)
      return invalid_argument(who_ + "input X must have rank >= 3 (N, C, spatial...), got " + dims_to_string(x));
    if (w.size() != x.size())
      return invalid_argument(who_ + "weights W " + dims_to_string(w) + " must have the rank of X " +
                              dims_to_string(x));
    const int64_t c = x[1], m = w[0];
    if (c % group_ != 0 || w[1] * group_ != c)
      return invalid_argument(who_ + "X has " + std::to_string(c) + " channels but W " + dims_to_string(w) +
                              " with group " + std::to_string(group_) + " expects " +
                              std::to_string(w[1] * group_));
    if (m % group_ != 0)
      return invalid_argument(who_ + "W has " + std::to_string(m) + " output channels, not divisible by group " +
                              std::to_string(group_));
    if (bias && (bias->size() != 1 || (*bias)[0] != m))
      return invalid_argument(who_ + "bias B must have shape [" + std::to_string(m) + "], got " +
                              dims_to_string(*bias));
    const size_t r = x.size() - 2;
    std::vector<int64_t> kernel = dims_slice(w, 2, w.size());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      return invalid_argument(who_ + "kernel_shape " + dims_to_string(attrs_.kernel_shape) +
                              " does not match the weights " + dims_to_string(w));
    KILN_ASSIGN_OR_RETURN(Window win, resolve_window(attrs_, dims_slice(x, 2, x.size()), kernel, false, who_));
    ConvGeometry g;
    g.batch = static_cast<size_t>(x[0]);
    g.groups = static_cast<size_t>(group_);
    g.group_in = static_cast<size_t>(c / group_);
    g.group_out = static_cast<size_t>(m / group_);
    g.rank = r;
    for (size_t d = 0; d < r; ++d) {
      g.in[d] = x[d + 2];
      g.out[d] = win.out[d];
      g.kernel[d] = win.kernel[d];
      g.stride[d] = win.stride[d];
      g.dilation[d] = win.dilation[d];
      g.pad_begin[d] = win.pad_begin[d];
    }
    return g;
  }

  bool is_pointwise(const ConvGeometry& g) const {
    if (g.groups != 1 || g.group_in != packed_.k() || g.group_out != packed_.n()) return false;
    for (size_t d = 0; d < g.rank; ++d)
      if (g.kernel[d] != 1 || g.stride[d] != 1 || g.pad_begin[d] != 0 || g.out[d] != g.in[d]) return false;
    return true;
  }

  void run_pointwise(const ConvGeometry& g, const float* x, float* y) const {
    size_t hw = 1;
    for (size_t d = 0; d < g.rank; ++d) hw *= static_cast<size_t>(g.in[d]);
    const size_t cin = g.group_in, cout = g.group_out;
    std::vector<float> xt(hw * cin), yt(hw * cout);
    for (size_t b = 0; b < g.batch; ++b) {
      // Each step splits over the threads by the rows it writes: pixels, then channels.
      const float* xb = x + b * cin * hw;
      float* yb = y + b * cout * hw;
      parallel_for(hw, [&](size_t p0, size_t p1) {
        f32_transpose_reference(cin, p1 - p0, xb + p0, hw, xt.data() + p0 * cin, cin);
      });
      packed_.multiply(hw, xt.data(), cin, yt.data(), cout);
      parallel_for(cout, [&](size_t c0, size_t c1) {
        f32_transpose_reference(hw, c1 - c0, yt.data() + c0, cout, yb + c0 * hw, hw);
        apply_fused_activation(act_, yb + c0 * hw, static_cast<int64_t>((c1 - c0) * hw));
      });
    }
  }

  static Dims output_dims(const ConvGeometry& g) {
    Dims d = {static_cast<int64_t>(g.batch), static_cast<int64_t>(g.groups * g.group_out)};
    for (size_t i = 0; i < g.rank; ++i) d.push_back(g.out[i]);
    return d;
  }

  std::string who_;
  WindowAttrs attrs_;
  int64_t group_;
  FusedActivation act_;
  PackedGemmWeights packed_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_conv(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(int64_t group, ctx.node.attr_int("group", 1));
  if (group <= 0 || group >= (int64_t{1} << 31))
    return invalid_model(prefix(ctx.node) + "group must be positive (and sane), got " + std::to_string(group));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<ConvOp>(prefix(ctx.node), std::move(attrs), group, act);
  const Tensor* bias = ctx.constant_input(2);
  if (const Tensor* w = ctx.constant_input(1); w && (bias || !ctx.has_input(2))) op->pack_pointwise(*w, bias);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
