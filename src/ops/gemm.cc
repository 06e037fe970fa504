// Gemm (opsets 7..22): Y = alpha * A' * B' + beta * C, A' / B' optionally transposed;
// A and B are 2-D, C broadcasts to [M, N] and is optional (required before opset 11,
// accepted absent everywhere).
#include "kernels/reference/reference.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class GemmOp final : public Op {
 public:
  GemmOp(std::string who, bool trans_a, bool trans_b, float alpha, float beta, FusedActivation act)
      : who_(std::move(who)), trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha), beta_(beta), act_(act) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "A"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "B"));
    const bool has_c = input_present(in, 2);
    if (has_c) KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "C"));
    KILN_ASSIGN_OR_RETURN(Dims y, output_dims(in[0].dims, in[1].dims, has_c ? &in[2].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = y;
    return Status::Ok();
  }

  // Constant 2-D f32 B, packed once (transB, alpha and a per-column constant C folded in).
  void pack_constant(const Tensor& b, const Tensor* c) {
    if (b.dtype() != DType::kF32 || b.dims().size() != 2 || trans_a_ || use_reference_kernels()) return;
    const int64_t rows = b.dim(0), cols = b.dim(1);
    const int64_t n = trans_b_ ? rows : cols, k = trans_b_ ? cols : rows;
    const float* bias = nullptr;
    ptrdiff_t bias_stride = 0;
    if (c && beta_ != 0.f) {
      if (c->dtype() != DType::kF32 || !column_bias(c->dims(), n)) return;  // [M, *] C: reference path
      bias = c->data<float>();
      bias_stride = c->size() == 1 ? 0 : 1;
    }
    packed_.pack(n, k, b.data<float>(), trans_b_ ? 1 : cols, trans_b_ ? cols : 1, alpha_, bias, bias_stride, beta_);
    packed_has_c_ = c != nullptr && beta_ != 0.f;
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), 1, who_));
    const bool has_c = input_present(in, 2);
    KILN_ASSIGN_OR_RETURN(Dims yd, output_dims(in[0].dims(), in[1].dims(), has_c ? &in[2].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], yd, who_));
    const int64_t m = yd[0], n = yd[1];
    const int64_t k = trans_a_ ? in[0].dim(0) : in[0].dim(1);
    float* y = out[0].mutable_data<float>();
    const bool use_c = has_c && beta_ != 0.f;
    if (packed_.packed() && packed_has_c_ == use_c && !use_reference_kernels()) {
      packed_.multiply(static_cast<size_t>(m), in[0].data<float>(), static_cast<size_t>(k), y, static_cast<size_t>(n));
      apply_fused_activation(act_, y, m * n);
      return Status::Ok();
    }
    if (use_c) {  // Y starts as C broadcast to [M, N]; the kernel scales it by beta.
      const std::vector<int64_t> cs = broadcast_strides(in[2].dims(), yd);
      const float* c = in[2].data<float>();
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) y[i * n + j] = c[i * cs[0] + j * cs[1]];
    }
    // A is [M,K] (or [K,M] transposed), B is [K,N] (or [N,K]): transposes are stride swaps.
    const int64_t a_cols = in[0].dim(1), b_cols = in[1].dim(1);
    f32_gemm_reference(static_cast<size_t>(m), static_cast<size_t>(n), static_cast<size_t>(k), in[0].data<float>(),
                       trans_a_ ? 1 : a_cols, trans_a_ ? a_cols : 1, in[1].data<float>(), trans_b_ ? 1 : b_cols,
                       trans_b_ ? b_cols : 1, y, n, alpha_, use_c ? beta_ : 0.f);
    apply_fused_activation(act_, y, m * n);
    return Status::Ok();
  }

 private:
  Result<Dims> output_dims(const Dims& a, const Dims& b, const Dims* c) const {
    if (a.size() != 2 || b.size() != 2)
      return invalid_argument(who_ + "A and B must be 2-D, got " + dims_to_string(a) + " and " + dims_to_string(b));
    const int64_t m = trans_a_ ? a[1] : a[0], ka = trans_a_ ? a[0] : a[1];
    const int64_t kb = trans_b_ ? b[1] : b[0], n = trans_b_ ? b[0] : b[1];
    if (ka != kb)
      return invalid_argument(who_ + "inner dimensions differ: A " + dims_to_string(a) + (trans_a_ ? " (transposed)" : "") +
                              " and B " + dims_to_string(b) + (trans_b_ ? " (transposed)" : ""));
    const Dims y = {m, n};
    if (c) {  // unidirectional broadcast of C to [M, N]
      bool ok = c->size() <= 2;
      for (size_t i = 0; ok && i < c->size(); ++i) {
        const int64_t cd = (*c)[i], yd = y[2 - c->size() + i];
        ok = cd == yd || cd == 1;
      }
      if (!ok) return invalid_argument(who_ + "C " + dims_to_string(*c) + " does not broadcast to " + dims_to_string(y));
    }
    return y;
  }

  // C of shape [], [1], [N] or [1, N]: one value per column, foldable into the packed bias.
  static bool column_bias(const Dims& c, int64_t n) {
    if (c.size() > 2 || (c.size() == 2 && c[0] != 1)) return false;
    return c.empty() || c.back() == n || c.back() == 1;
  }

  std::string who_;
  bool trans_a_, trans_b_;
  float alpha_, beta_;
  FusedActivation act_;
  PackedGemmWeights packed_;
  bool packed_has_c_ = false;
};

}  // namespace

Result<std::unique_ptr<Op>> create_gemm(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_ASSIGN_OR_RETURN(int64_t trans_a, ctx.node.attr_int("transA", 0));
  KILN_ASSIGN_OR_RETURN(int64_t trans_b, ctx.node.attr_int("transB", 0));
  KILN_ASSIGN_OR_RETURN(float alpha, ctx.node.attr_float("alpha", 1.f));
  KILN_ASSIGN_OR_RETURN(float beta, ctx.node.attr_float("beta", 1.f));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<GemmOp>(prefix(ctx.node), trans_a != 0, trans_b != 0, alpha, beta, act);
  const Tensor* c = ctx.constant_input(2);
  if (const Tensor* b = ctx.constant_input(1); b && (c || !ctx.has_input(2))) op->pack_constant(*b, c);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
