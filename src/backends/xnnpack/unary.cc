// Elementwise activations on XNNPACK's *_nc_f32 operators, created with one channel so a
// tensor of any shape is one contiguous batch: Relu and Clip (xnn_clamp), Sigmoid, HardSwish,
// LeakyRelu, Elu; and Softmax over the last axis (or, before opset 13, over the flattened
// dims from `axis` on). This XNNPACK (2022) has no float32 Tanh, so Tanh stays on kiln.
#include <cmath>

#include "backends/xnnpack/xnn_op.h"

namespace kiln::xnnpack {
namespace {

using SetupFn = xnn_status (*)(xnn_operator_t, size_t, const float*, float*, pthreadpool_t);

class UnaryXnnOp final : public XnnOp {
 public:
  UnaryXnnOp(std::unique_ptr<Op> kiln_op, std::string who, Operator op, SetupFn setup)
      : XnnOp(std::move(kiln_op), std::move(who)), op_(std::move(op)), setup_(setup) {}

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[0];
    Tensor& y = out[0];
    if (x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || y.size() != x.size()) return false;
    if (x.size() == 0) return true;
    xnn_status s = setup_(op_.get(), static_cast<size_t>(x.size()), x.data<float>(), y.mutable_data<float>(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_*_nc_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    return true;
  }

 private:
  Operator op_;
  SetupFn setup_;
};

class SoftmaxXnnOp final : public XnnOp {
 public:
  SoftmaxXnnOp(std::unique_ptr<Op> kiln_op, std::string who, int64_t axis, bool per_axis)
      : XnnOp(std::move(kiln_op), std::move(who)), axis_(axis), per_axis_(per_axis) {}

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& x = in[0];
    Tensor& y = out[0];
    if (x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || x.rank() == 0 || x.size() == 0 || y.size() != x.size())
      return false;
    const int64_t axis = axis_ < 0 ? axis_ + x.rank() : axis_;
    if (axis < 0 || axis >= x.rank() || (per_axis_ && axis != x.rank() - 1)) return false;
    int64_t channels = 1;
    for (int64_t d = axis; d < x.rank(); ++d) channels *= x.dim(d);
    if (!op_ || static_cast<size_t>(channels) != channels_) {
      op_.reset();
      xnn_operator_t op = nullptr;
      const size_t c = static_cast<size_t>(channels);
      if (xnn_create_softmax_nc_f32(c, c, c, 0, &op) != xnn_status_success) return false;
      op_.reset(op);
      channels_ = c;
    }
    const size_t batch = static_cast<size_t>(x.size()) / channels_;
    xnn_status s = xnn_setup_softmax_nc_f32(op_.get(), batch, x.data<float>(), y.mutable_data<float>(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_softmax_nc_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    return true;
  }

 private:
  int64_t axis_;
  bool per_axis_;
  Operator op_;
  size_t channels_ = 0;
};

// Clip's bounds: attributes before opset 11, optional constant scalar inputs after.
bool clip_bounds(const OpContext& ctx, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (ctx.opset < 11) {
    auto a = ctx.node.attr_float("min", *lo);
    auto b = ctx.node.attr_float("max", *hi);
    if (!a.ok() || !b.ok()) return false;
    *lo = *a;
    *hi = *b;
    return true;
  }
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const Tensor* t = ctx.constant_input(i);
    if (!t || t->dtype() != DType::kF32 || t->size() != 1) return false;
    (i == 1 ? *lo : *hi) = t->data<float>()[0];
  }
  return !std::isnan(*lo) && !std::isnan(*hi) && *lo < *hi;
}

// `create` makes the operator (a lambda, so it runs before the handle is read).
template <class Create>
std::unique_ptr<XnnOp> unary(const OpContext& ctx, std::unique_ptr<Op>& kiln_op, Create create, SetupFn setup) {
  xnn_operator_t op = nullptr;
  if (create(&op) != xnn_status_success) return nullptr;
  return std::make_unique<UnaryXnnOp>(std::move(kiln_op), ctx.node.describe(), Operator(op), setup);
}

}  // namespace

std::unique_ptr<XnnOp> make_unary(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  const Node& n = ctx.node;
  const std::string& t = n.op_type;
  if (!n.domain.empty()) return nullptr;
  if (t == "Relu" || t == "Clip") {
    float lo = 0.f, hi = std::numeric_limits<float>::infinity();
    if (t == "Clip" && !clip_bounds(ctx, &lo, &hi)) return nullptr;
    return unary(
        ctx, kiln_op, [=](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, lo, hi, 0, op); },
        &xnn_setup_clamp_nc_f32);
  }
  if (t == "Sigmoid")
    return unary(
        ctx, kiln_op, [](xnn_operator_t* op) { return xnn_create_sigmoid_nc_f32(1, 1, 1, 0, op); },
        &xnn_setup_sigmoid_nc_f32);
  if (t == "HardSwish")
    return unary(
        ctx, kiln_op, [](xnn_operator_t* op) { return xnn_create_hardswish_nc_f32(1, 1, 1, 0, op); },
        &xnn_setup_hardswish_nc_f32);
  if (t == "LeakyRelu" || t == "Elu") {
    auto alpha = n.attr_float("alpha", t == "Elu" ? 1.f : 0.01f);
    if (!alpha.ok() || !std::isfinite(*alpha)) return nullptr;
    const float a = *alpha;
    if (t == "Elu")
      return unary(
          ctx, kiln_op, [=](xnn_operator_t* op) { return xnn_create_elu_nc_f32(1, 1, 1, a, 0, op); },
          &xnn_setup_elu_nc_f32);
    return unary(
        ctx, kiln_op, [=](xnn_operator_t* op) { return xnn_create_leaky_relu_nc_f32(1, 1, 1, a, 0, op); },
        &xnn_setup_leaky_relu_nc_f32);
  }
  if (t == "Softmax") {
    const bool per_axis = ctx.opset >= 13;
    auto axis = n.attr_int("axis", per_axis ? -1 : 1);
    if (!axis.ok()) return nullptr;
    return std::make_unique<SoftmaxXnnOp>(std::move(kiln_op), n.describe(), *axis, per_axis);
  }
  return nullptr;
}

}  // namespace kiln::xnnpack
