// Conv (1-D and 2-D; groups, depthwise, strides, dilations, explicit or automatic pads) with
// constant float32 weights and bias on xnn_convolution2d_nhwc_f32. The operator is created
// per input size (auto_pad makes the pads depend on it; the weights are re-packed then) from
// the model's weights, transposed from ONNX's [M, C/g, kh, kw] to XNNPACK's [M, kh, kw, C/g].
// X and Y are transposed NCHW <-> NHWC around the operator; kiln.NhwcConv (written by the
// nhwc_layout pass) is already channels-last and maps onto it directly.
#include "backends/xnnpack/xnn_op.h"
#include "ops/nn_util.h"

namespace kiln::xnnpack {
namespace {

class ConvXnnOp final : public XnnOp {
 public:
  ConvXnnOp(std::unique_ptr<Op> kiln_op, std::string who, nn::WindowAttrs attrs, size_t groups, const Tensor& w,
            const Tensor* bias, FusedActivation act, bool nhwc)
      : XnnOp(std::move(kiln_op), std::move(who)),
        nhwc_(nhwc),
        attrs_(std::move(attrs)),
        groups_(groups),
        w_(w),
        bias_(bias),
        clamp_(split_activation(act)) {}

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[0];
    const Dims& wd = w_.dims();
    const size_t c_axis = nhwc_ ? x.dims().size() - 1 : 1;
    if (x.dtype() != DType::kF32 || x.size() == 0 || x.rank() != static_cast<int64_t>(wd.size()) ||
        x.dim(static_cast<int64_t>(c_axis)) != wd[1] * static_cast<int64_t>(groups_) ||
        in[1].data<float>() != w_.data<float>())
      return false;
    const Dims spatial = nhwc_ ? nn::dims_slice(x.dims(), 1, x.dims().size() - 1)
                               : nn::dims_slice(x.dims(), 2, x.dims().size());
    auto win = nn::resolve_window(attrs_, spatial, nn::dims_slice(wd, 2, wd.size()), false, who() + ": ");
    if (!win.ok()) return false;  // kiln's op reports the error
    Window2d g;
    if (!to_window2d(*win, spatial, &g)) return false;
    if (!tried_ || g != window_) {  // a window XNNPACK rejected is not retried every run
      tried_ = true;
      window_ = g;
      op_.reset();
      KILN_RETURN_IF_ERROR(create(g));
    }
    if (!op_) return false;
    const size_t batch = static_cast<size_t>(x.dim(0)), cin = static_cast<size_t>(x.dim(static_cast<int64_t>(c_axis)));
    const size_t cout = static_cast<size_t>(wd[0]);
    const size_t in_pixels = g.in_h * g.in_w, out_pixels = g.out_h * g.out_w;
    Tensor& y = out[0];
    if (y.dtype() != DType::kF32 || static_cast<size_t>(y.size()) != batch * cout * out_pixels)
      return internal_error(who() + ": output buffer does not match the convolution's output");
    const float* xs = x.data<float>();
    float* ys = y.mutable_data<float>();
    if (!nhwc_) {
      float* xt = x_nhwc_.get(batch * in_pixels * cin);
      nchw_to_nhwc(x.data<float>(), xt, batch, cin, in_pixels);
      xs = xt;
      ys = y_nhwc_.get(batch * out_pixels * cout);
    }
    xnn_status s = xnn_setup_convolution2d_nhwc_f32(op_.get(), batch, g.in_h, g.in_w, xs, ys, nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_convolution2d_nhwc_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    if (!nhwc_) nhwc_to_nchw(ys, y.mutable_data<float>(), batch, cout, out_pixels);
    apply_fused_activation(clamp_.rest, y.mutable_data<float>(), y.size());
    return true;
  }

 private:
  // Creates op_ for window g; leaves it null when XNNPACK rejects the parameters.
  Status create(const Window2d& g) {
    const Dims& wd = w_.dims();
    const size_t cout = static_cast<size_t>(wd[0]), gin = static_cast<size_t>(wd[1]);
    const size_t taps = static_cast<size_t>(num_elements(wd)) / (cout * gin);
    std::vector<float> ohwi(cout * taps * gin);
    for (size_t o = 0; o < cout; ++o)
      f32_transpose_reference(gin, taps, w_.data<float>() + o * gin * taps, taps, ohwi.data() + o * taps * gin, gin);
    xnn_operator_t op = nullptr;
    const size_t gout = cout / groups_;
    xnn_status s = xnn_create_convolution2d_nhwc_f32(
        g.pad_top, g.pad_right, g.pad_bottom, g.pad_left, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
        g.dilation_h, g.dilation_w, static_cast<uint32_t>(groups_), gin, gout, groups_ * gin, groups_ * gout,
        ohwi.data(), bias_ ? bias_->data<float>() : nullptr, clamp_.min, clamp_.max, 0, &op);
    if (s == xnn_status_invalid_parameter || s == xnn_status_unsupported_parameter) return Status::Ok();
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_create_convolution2d_nhwc_f32");
    op_.reset(op);
    return Status::Ok();
  }

  bool nhwc_;  // kiln.NhwcConv: X and Y are channels-last already
  nn::WindowAttrs attrs_;
  size_t groups_;
  const Tensor& w_;      // the model's constant, alive as long as the session
  const Tensor* bias_;   // likewise, or nullptr
  OutputClamp clamp_;
  Operator op_;
  Window2d window_;
  bool tried_ = false;
  Scratch x_nhwc_, y_nhwc_;
};

}  // namespace

std::unique_ptr<XnnOp> make_conv(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  const Node& n = ctx.node;
  const bool nhwc = n.op_type == "NhwcConv" && n.domain == "kiln";
  if (!nhwc && (n.op_type != "Conv" || !n.domain.empty())) return nullptr;
  const Tensor* w = ctx.constant_input(1);
  const Tensor* bias = ctx.constant_input(2);
  if (!w || w->dtype() != DType::kF32 || (w->rank() != 3 && w->rank() != 4) || (nhwc && w->rank() != 4) ||
      w->dim(0) <= 0 || w->dim(1) <= 0)
    return nullptr;
  for (int64_t d : w->dims())
    if (d <= 0) return nullptr;
  if (ctx.has_input(2) && (!bias || bias->dtype() != DType::kF32 || bias->dims() != Dims{w->dim(0)})) return nullptr;
  auto attrs = nn::parse_window_attrs(n);
  auto group = n.attr_int("group", 1);
  auto act = parse_fused_activation(n);
  if (!attrs.ok() || !group.ok() || !act.ok() || *group <= 0 || w->dim(0) % *group != 0) return nullptr;
  return std::make_unique<ConvXnnOp>(std::move(kiln_op), n.describe(), std::move(attrs).value(),
                                     static_cast<size_t>(*group), *w, bias, *act, nhwc);
}

}  // namespace kiln::xnnpack
