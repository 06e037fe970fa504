// kiln.DynamicQuantMatMul (graph/kiln_extensions.h): Y[..., N] = X[..., K] x dequant(W) + bias
// with W int8 [K, N] and one float scale per output column, computed in int8: every row
// of X is quantized at run time (asymmetric int8, its own scale and zero point), then the
// qd8-f32-qc8w GEMM multiplies in int32 and scales back to float. Written by the int8
// dynamic quantizer (src/compress/int8_dynamic.h) in place of float MatMul / Gemm.
// Constant W, W_scale and bias are packed once at create; otherwise per run.
#include <vector>

#include "graph/kiln_extensions.h"
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class DynamicQuantMatMulOp final : public Op {
 public:
  DynamicQuantMatMulOp(std::string who, FusedActivation act) : who_(std::move(who)), act_(act) {
    act_ = split_clamp(act_, &minmax_.min, &minmax_.max);  // what runs after the kernel
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI8}, who_ + "input W"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "W_scale"));
    const bool has_bias = input_present(in, 3);
    if (has_bias) KILN_RETURN_IF_ERROR(expect_f32(in, 3, who_, "bias"));
    KILN_ASSIGN_OR_RETURN(Dims y, output_dims(in[0].dims, in[1].dims, in[2].dims, has_bias ? &in[3].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = std::move(y);
    return Status::Ok();
  }

  // W [K, N] int8 (row-major), its scales and the bias, in the default kernel's panels
  // (int32 elements: the panels' sums and scales stay aligned).
  static std::vector<int32_t> pack(const QD8GemmKernel& kern, const Tensor& w, const Tensor& scale,
                                   const Tensor* bias) {
    const size_t k = static_cast<size_t>(w.dim(0)), n = static_cast<size_t>(w.dim(1));
    std::vector<int32_t> packed((qd8_gemm_packed_size(kern.nr, n, k) + 3) / 4, 0);
    qd8_gemm_pack(kern.nr, n, k, w.data<int8_t>(), static_cast<ptrdiff_t>(n), 1, scale.data<float>(),
                  bias ? bias->data<float>() : nullptr, packed.data());
    return packed;
  }
  void pack_constant(const Tensor& w, const Tensor& scale, const Tensor* bias) {
    packed_ = pack(kern_, w, scale, bias);
    packed_k_ = static_cast<size_t>(w.dim(0)), packed_n_ = static_cast<size_t>(w.dim(1));
    constant_weights_ = true;
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    const bool has_bias = input_present(in, 3);
    KILN_ASSIGN_OR_RETURN(Dims yd, output_dims(in[0].dims(), in[1].dims(), in[2].dims(),
                                                has_bias ? &in[3].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], yd, who_));
    const size_t k = static_cast<size_t>(in[1].dim(0)), n = static_cast<size_t>(in[1].dim(1));
    const size_t m = n == 0 ? 0 : static_cast<size_t>(out[0].size()) / n;
    float* y = out[0].mutable_data<float>();
    if (m == 0 || n == 0) return Status::Ok();
    // Run-time state stays local, so concurrent runs of one op do not share scratch.
    const size_t kp = qd8_padded_k(k);
    std::vector<int8_t> qa(m * kp);
    std::vector<QD8RowParams> row_params(m);
    const float* x = in[0].data<float>();
    if (use_reference_kernels()) {
      qd8_quantize_rows_reference(m, k, x, k, qa.data(), kp, row_params.data());
      qd8_f32_qc8w_gemm_reference(m, n, k, qa.data(), kp, row_params.data(), in[1].data<int8_t>(),
                                  in[2].data<float>(), has_bias ? in[3].data<float>() : nullptr, y, n, minmax_);
    } else {
      std::vector<int32_t> run_packed;  // weights computed at run time: packed per run
      const bool constant = constant_weights_ && packed_k_ == k && packed_n_ == n;
      if (!constant) run_packed = pack(kern_, in[1], in[2], has_bias ? &in[3] : nullptr);
      qd8_quantize_rows(m, k, x, k, qa.data(), kp, row_params.data());
      QD8GemmArgs args;
      args.m = m, args.n = n, args.k = k, args.qa = qa.data(), args.qa_stride = kp;
      args.row_params = row_params.data(), args.packed_w = constant ? packed_.data() : run_packed.data();
      args.c = y, args.c_stride = n, args.minmax = minmax_;
      qd8_gemm(kern_, args);
    }
    apply_fused_activation(act_, y, out[0].size());
    return Status::Ok();
  }

 private:
  Result<Dims> output_dims(const Dims& x, const Dims& w, const Dims& scale, const Dims* bias) const {
    if (w.size() != 2) return invalid_argument(who_ + "W must be 2-D [K, N], got " + dims_to_string(w));
    const int64_t k = w[0], n = w[1];
    if (x.empty() || x.back() != k)
      return invalid_argument(who_ + "X " + dims_to_string(x) + " must end in K = " + std::to_string(k) +
                              " (W is " + dims_to_string(w) + ")");
    if (scale != Dims{n})
      return invalid_argument(who_ + "W_scale must have shape [" + std::to_string(n) + "], got " +
                              dims_to_string(scale));
    if (bias && *bias != Dims{n})
      return invalid_argument(who_ + "bias must have shape [" + std::to_string(n) + "], got " + dims_to_string(*bias));
    Dims y(x.begin(), x.end() - 1);
    y.push_back(n);
    return y;
  }

  std::string who_;
  FusedActivation act_;
  F32MinMax minmax_;
  const QD8GemmKernel& kern_ = qd8_gemm_default_kernel();
  std::vector<int32_t> packed_;  // constant weights, packed at create
  size_t packed_k_ = 0, packed_n_ = 0;
  bool constant_weights_ = false;
};

}  // namespace

Result<std::unique_ptr<Op>> create_dynamic_quant_mat_mul(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 4));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<DynamicQuantMatMulOp>(prefix(ctx.node), act);
  const Tensor* w = ctx.constant_input(1);
  const Tensor* scale = ctx.constant_input(2);
  const Tensor* bias = ctx.constant_input(3);
  const bool want_bias = ctx.has_input(3);
  if (w && scale && (bias || !want_bias)) {
    const Dims& wd = w->dims();
    if (w->dtype() != DType::kI8 || wd.size() != 2)
      return invalid_model(prefix(ctx.node) + "W must be a 2-D int8 tensor, got " +
                           std::string(dtype_name(w->dtype())) + " " + dims_to_string(wd));
    if (scale->dtype() != DType::kF32 || scale->dims() != Dims{wd[1]})
      return invalid_model(prefix(ctx.node) + "W_scale must be float32 [" + std::to_string(wd[1]) + "], got " +
                           dims_to_string(scale->dims()));
    if (bias && (bias->dtype() != DType::kF32 || bias->dims() != Dims{wd[1]}))
      return invalid_model(prefix(ctx.node) + "bias must be float32 [" + std::to_string(wd[1]) + "], got " +
                           dims_to_string(bias->dims()));
    op->pack_constant(*w, *scale, bias);
  }
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
