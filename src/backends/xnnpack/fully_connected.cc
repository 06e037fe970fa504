// Gemm and MatMul by constant 2-D float32 weights on xnn_fully_connected_nc_f32: the weights
// (scaled by Gemm's alpha) and the bias (Gemm's beta * C when C is one value per column, or
// MatMul's fused kiln.bias) are packed once when the node is created. A's leading dims are
// the batch. Gemm with transA, a per-row C, or weights only known at run time stay on kiln.
#include <cmath>

#include "backends/xnnpack/xnn_op.h"
#include "graph/kiln_extensions.h"

namespace kiln::xnnpack {
namespace {

class FullyConnectedXnnOp final : public XnnOp {
 public:
  FullyConnectedXnnOp(std::unique_ptr<Op> kiln_op, std::string who, Operator op, size_t k, size_t n,
                      FusedActivation rest)
      : XnnOp(std::move(kiln_op), std::move(who)), op_(std::move(op)), k_(k), n_(n), rest_(rest) {}

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& a = in[0];
    if (a.dtype() != DType::kF32 || a.rank() < 1 || a.size() == 0 || static_cast<size_t>(a.dims().back()) != k_) return false;
    const size_t batch = static_cast<size_t>(a.size()) / k_;
    Tensor& y = out[0];
    if (y.dtype() != DType::kF32 || static_cast<size_t>(y.size()) != batch * n_)
      return internal_error(who() + ": output buffer does not match the product's output");
    xnn_status s = xnn_setup_fully_connected_nc_f32(op_.get(), batch, a.data<float>(), y.mutable_data<float>(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_fully_connected_nc_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    apply_fused_activation(rest_, y.mutable_data<float>(), y.size());
    return true;
  }

 private:
  Operator op_;
  size_t k_, n_;
  FusedActivation rest_;
};

// The operator for y = x * W + bias with W [K, N] (or [N, K] when `n_by_k`), scaled by alpha.
Operator create_fc(const Tensor& w, bool n_by_k, float alpha, const float* bias, const OutputClamp& clamp) {
  const size_t rows = static_cast<size_t>(w.dim(0)), cols = static_cast<size_t>(w.dim(1));
  const size_t k = n_by_k ? cols : rows, n = n_by_k ? rows : cols;
  std::vector<float> scaled;
  const float* kernel = w.data<float>();
  if (alpha != 1.f) {
    scaled.assign(kernel, kernel + rows * cols);
    for (float& v : scaled) v *= alpha;
    kernel = scaled.data();
  }
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_fully_connected_nc_f32(k, n, k, n, kernel, bias, clamp.min, clamp.max,
                                                   n_by_k ? 0 : XNN_FLAG_TRANSPOSE_WEIGHTS, &op);
  return Operator(s == xnn_status_success ? op : nullptr);
}

bool usable_weights(const Tensor* w) {
  return w && w->dtype() == DType::kF32 && w->rank() == 2 && w->dim(0) > 0 && w->dim(1) > 0;
}

std::unique_ptr<XnnOp> make_gemm(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  const Node& node = ctx.node;
  const Tensor* b = ctx.constant_input(1);
  auto trans_a = node.attr_int("transA", 0);
  auto trans_b = node.attr_int("transB", 0);
  auto alpha = node.attr_float("alpha", 1.f);
  auto beta = node.attr_float("beta", 1.f);
  auto act = parse_fused_activation(node);
  if (!usable_weights(b) || !trans_a.ok() || *trans_a != 0 || !trans_b.ok() || !alpha.ok() || !beta.ok() ||
      !act.ok() || !std::isfinite(*alpha))
    return nullptr;
  const bool n_by_k = *trans_b != 0;
  const int64_t n = n_by_k ? b->dim(0) : b->dim(1);
  std::vector<float> bias;
  if (ctx.has_input(2) && *beta != 0.f) {
    const Tensor* c = ctx.constant_input(2);
    if (!c || c->dtype() != DType::kF32) return nullptr;
    const Dims& cd = c->dims();
    const bool per_column = cd.size() <= 2 && (cd.size() < 2 || cd[0] == 1) && (cd.empty() || cd.back() == n || cd.back() == 1);
    if (!per_column) return nullptr;
    bias.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) bias[j] = *beta * c->data<float>()[c->size() == 1 ? 0 : j];
  }
  const OutputClamp clamp = split_activation(*act);
  Operator op = create_fc(*b, n_by_k, *alpha, bias.empty() ? nullptr : bias.data(), clamp);
  if (!op) return nullptr;
  const size_t k = static_cast<size_t>(n_by_k ? b->dim(1) : b->dim(0));
  return std::make_unique<FullyConnectedXnnOp>(std::move(kiln_op), node.describe(), std::move(op), k,
                                               static_cast<size_t>(n), clamp.rest);
}

std::unique_ptr<XnnOp> make_matmul(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  const Node& node = ctx.node;
  const Tensor* b = ctx.constant_input(1);
  auto has_bias = node.attr_int(ext::kMatMulBias, 0);
  auto act = parse_fused_activation(node);
  if (!usable_weights(b) || !has_bias.ok() || !act.ok()) return nullptr;
  const float* bias = nullptr;
  if (*has_bias) {
    const Tensor* c = ctx.constant_input(2);
    if (!c || c->dtype() != DType::kF32 || c->dims() != Dims{b->dim(1)}) return nullptr;
    bias = c->data<float>();
  }
  const OutputClamp clamp = split_activation(*act);
  Operator op = create_fc(*b, false, 1.f, bias, clamp);
  if (!op) return nullptr;
  return std::make_unique<FullyConnectedXnnOp>(std::move(kiln_op), node.describe(), std::move(op),
                                               static_cast<size_t>(b->dim(0)), static_cast<size_t>(b->dim(1)),
                                               clamp.rest);
}

}  // namespace

std::unique_ptr<XnnOp> make_fully_connected(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  if (!ctx.node.domain.empty()) return nullptr;
  if (ctx.node.op_type == "Gemm") return make_gemm(ctx, kiln_op);
  if (ctx.node.op_type == "MatMul") return make_matmul(ctx, kiln_op);
  return nullptr;
}

}  // namespace kiln::xnnpack
