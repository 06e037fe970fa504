// MaxPool and AveragePool over 1 or 2 spatial dims (xnn_*_pooling2d_nhwc_f32, X and Y
// transposed NCHW <-> NHWC around the operator) and GlobalAveragePool
// (xnn_global_average_pooling_ncw_f32, straight on NCHW). XNNPACK leaves padding out of both
// the max and the average, so ceil_mode becomes extra end padding, and AveragePool with
// count_include_pad and non-zero pads (or dilations, which XNNPACK's average lacks) stays on
// kiln, as does MaxPool's Indices output.
#include "backends/xnnpack/xnn_op.h"
#include "ops/nn_util.h"

namespace kiln::xnnpack {
namespace {

class PoolXnnOp final : public XnnOp {
 public:
  PoolXnnOp(std::unique_ptr<Op> kiln_op, std::string who, nn::WindowAttrs attrs, bool max, bool ceil_mode,
            bool count_include_pad)
      : XnnOp(std::move(kiln_op), std::move(who)),
        attrs_(std::move(attrs)),
        max_(max),
        ceil_mode_(ceil_mode),
        count_include_pad_(count_include_pad) {}

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[0];
    if (x.dtype() != DType::kF32 || (x.rank() != 3 && x.rank() != 4) || x.size() == 0) return false;
    const Dims spatial = nn::dims_slice(x.dims(), 2, x.dims().size());
    auto win = nn::resolve_window(attrs_, spatial, attrs_.kernel_shape, ceil_mode_, who() + ": ");
    if (!win.ok()) return false;
    for (size_t d = 0; d < win->rank; ++d) {
      const int64_t eff = (win->kernel[d] - 1) * win->dilation[d] + 1;
      if (!max_ && (win->dilation[d] != 1 || (count_include_pad_ && (win->pad_begin[d] || win->pad_end[d]))))
        return false;
      // ceil_mode's partial last window: padding XNNPACK ignores, so the floor formula agrees.
      win->pad_end[d] = std::max(win->pad_end[d], (win->out[d] - 1) * win->stride[d] + eff - spatial[d] - win->pad_begin[d]);
    }
    Window2d g;
    if (!to_window2d(*win, spatial, &g)) return false;
    const size_t batch = static_cast<size_t>(x.dim(0)), channels = static_cast<size_t>(x.dim(1));
    if (!tried_ || g != window_ || channels != channels_) {  // a rejected window is not retried every run
      tried_ = true;
      window_ = g;
      channels_ = channels;
      op_.reset();
      xnn_operator_t op = nullptr;
      const float inf = std::numeric_limits<float>::infinity();
      xnn_status s = max_ ? xnn_create_max_pooling2d_nhwc_f32(g.pad_top, g.pad_right, g.pad_bottom, g.pad_left,
                                                              g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
                                                              g.dilation_h, g.dilation_w, channels, channels, channels,
                                                              -inf, inf, 0, &op)
                          : xnn_create_average_pooling2d_nhwc_f32(g.pad_top, g.pad_right, g.pad_bottom, g.pad_left,
                                                                  g.kernel_h, g.kernel_w, g.stride_h, g.stride_w,
                                                                  channels, channels, channels, -inf, inf, 0, &op);
      if (s == xnn_status_success) op_.reset(op);
    }
    if (!op_) return false;  // e.g. a 1x1 window: kiln copies it
    const size_t in_pixels = g.in_h * g.in_w, out_pixels = g.out_h * g.out_w;
    Tensor& y = out[0];
    if (y.dtype() != DType::kF32 || static_cast<size_t>(y.size()) != batch * channels * out_pixels)
      return internal_error(who() + ": output buffer does not match the pooling's output");
    float* xs = x_nhwc_.get(batch * in_pixels * channels);
    float* ys = y_nhwc_.get(batch * out_pixels * channels);
    nchw_to_nhwc(x.data<float>(), xs, batch, channels, in_pixels);
    xnn_status s = max_ ? xnn_setup_max_pooling2d_nhwc_f32(op_.get(), batch, g.in_h, g.in_w, xs, ys, nullptr)
                        : xnn_setup_average_pooling2d_nhwc_f32(op_.get(), batch, g.in_h, g.in_w, xs, ys, nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_pooling2d_nhwc_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    nhwc_to_nchw(ys, y.mutable_data<float>(), batch, channels, out_pixels);
    return true;
  }

 private:
  nn::WindowAttrs attrs_;
  bool max_, ceil_mode_, count_include_pad_;
  Operator op_;
  Window2d window_;
  size_t channels_ = 0;
  bool tried_ = false;
  Scratch x_nhwc_, y_nhwc_;
};

class GlobalAveragePoolXnnOp final : public XnnOp {
 public:
  using XnnOp::XnnOp;

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[0];
    if (x.dtype() != DType::kF32 || x.rank() < 3 || x.size() == 0) return false;
    const size_t batch = static_cast<size_t>(x.dim(0)), channels = static_cast<size_t>(x.dim(1));
    const size_t pixels = static_cast<size_t>(x.size()) / (batch * channels);
    if (!op_ || channels != channels_) {
      op_.reset();
      xnn_operator_t op = nullptr;
      const float inf = std::numeric_limits<float>::infinity();
      if (xnn_create_global_average_pooling_ncw_f32(channels, -inf, inf, 0, &op) != xnn_status_success) return false;
      op_.reset(op);
      channels_ = channels;
    }
    Tensor& y = out[0];
    if (y.dtype() != DType::kF32 || static_cast<size_t>(y.size()) != batch * channels)
      return internal_error(who() + ": output buffer does not match the pooling's output");
    xnn_status s =
        xnn_setup_global_average_pooling_ncw_f32(op_.get(), batch, pixels, x.data<float>(), y.mutable_data<float>(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_global_average_pooling_ncw_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    return true;
  }

 private:
  Operator op_;
  size_t channels_ = 0;
};

}  // namespace

std::unique_ptr<XnnOp> make_pooling(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  const Node& n = ctx.node;
  if (!n.domain.empty()) return nullptr;
  if (n.op_type == "GlobalAveragePool")
    return std::make_unique<GlobalAveragePoolXnnOp>(std::move(kiln_op), n.describe());
  const bool max = n.op_type == "MaxPool";
  if (!max && n.op_type != "AveragePool") return nullptr;
  if (max && nn::output_wanted(n, 1)) return nullptr;  // Indices
  auto attrs = nn::parse_window_attrs(n);
  auto ceil_mode = n.attr_int("ceil_mode", 0);
  auto include_pad = n.attr_int("count_include_pad", 0);
  if (!attrs.ok() || attrs->kernel_shape.empty() || !ceil_mode.ok() || !include_pad.ok()) return nullptr;
  return std::make_unique<PoolXnnOp>(std::move(kiln_op), n.describe(), std::move(attrs).value(), max, *ceil_mode != 0,
                                     *include_pad != 0);
}

}  // namespace kiln::xnnpack
