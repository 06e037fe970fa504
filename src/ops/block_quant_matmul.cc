// kiln.BlockQuantMatMul (graph/kiln_extensions.h): Y[..., N] = X[..., K] x dequant(W) + bias
// with W int4 in blocks of 32 along K, one fp16 scale per block and output column, computed
// with int8 dot products: every row of X is quantized at run time (asymmetric int8, as for
// kiln.DynamicQuantMatMul), then the qd8-f32-qb4w GEMM (GEMV for one row) accumulates each
// block in int32 and scales it into float. Written by `kiln compress --int4`
// (src/compress/int4_block.h). Constant W, scales and bias are packed once at create. With
// a 5th input W_min (the asymmetric form, `--int4-min`) the codes are unsigned and each
// block adds min * (the row's sum over the block): the qd8-f32-qb4w-min kernels.
#include <vector>

#include "core/half.h"
#include "graph/kiln_extensions.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "ops/qb4w_rows.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class BlockQuantMatMulOp final : public Op {
 public:
  BlockQuantMatMulOp(std::string who, FusedActivation act, bool min)
      : who_(std::move(who)), act_(act), min_(min), gemm_(qb4w_layer_gemm_kernel(min)), gemv_(qb4w_layer_gemv_kernel(min)) {
    act_ = split_clamp(act_, &minmax_.min, &minmax_.max);  // what runs after the kernel
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kU8}, who_ + "input W"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[2], {DType::kF16}, who_ + "input W_scale"));
    const bool has_bias = input_present(in, 3);
    if (has_bias) KILN_RETURN_IF_ERROR(expect_f32(in, 3, who_, "bias"));
    KILN_RETURN_IF_ERROR(check_min_info(in));
    KILN_ASSIGN_OR_RETURN(Dims y, output_dims(in[0].dims, in[1].dims, in[2].dims, has_bias ? &in[3].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = std::move(y);
    return Status::Ok();
  }

  void pack_constant(const Tensor& w, const Tensor& scale, const Tensor* bias, const Tensor* min) {
    packed_gemm_ = pack_qb4w(gemm_, w, scale, bias, min);
    if (&gemv_ != &gemm_) packed_gemv_ = pack_qb4w(gemv_, w, scale, bias, min);
    packed_n_ = static_cast<size_t>(w.dim(0)), packed_row_ = static_cast<size_t>(w.dim(1));
    constant_weights_ = true;
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    const bool has_bias = input_present(in, 3);
    KILN_ASSIGN_OR_RETURN(Dims yd, output_dims(in[0].dims(), in[1].dims(), in[2].dims(),
                                                has_bias ? &in[3].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], yd, who_));
    const size_t k = static_cast<size_t>(in[0].dims().back()), n = static_cast<size_t>(in[1].dim(0));
    const size_t m = n == 0 ? 0 : static_cast<size_t>(out[0].size()) / n;
    float* y = out[0].mutable_data<float>();
    if (m == 0 || n == 0) return Status::Ok();
    const size_t kw = static_cast<size_t>(in[1].dim(1)) * 2;
    const Tensor* bias = has_bias ? &in[3] : nullptr;
    KILN_RETURN_IF_ERROR(check_min(in));
    const Tensor* min = min_ ? &in[4] : nullptr;
    const bool reference = use_reference_kernels();
    const QB4WGemmKernel& kern = m == 1 ? gemv_ : gemm_;
    std::vector<int32_t> run_packed;  // weights computed at run time: packed per run
    const bool constant = constant_weights_ && packed_n_ == n && packed_row_ == kw / 2;
    if (!reference && !constant) run_packed = pack_qb4w(kern, in[1], in[2], bias, min);
    const bool gemv = m == 1 && &gemv_ != &gemm_;
    const int32_t* packed = constant ? (gemv ? packed_gemv_.data() : packed_gemm_.data()) : run_packed.data();
    qb4w_rows(m, k, in[0].data<float>(), in[1], in[2], bias, kern, packed, minmax_, y, reference, min);
    apply_fused_activation(act_, y, out[0].size());
    return Status::Ok();
  }

 private:
  // W_min (input 4) is there exactly when the node was created with it (its kernels).
  Status check_min_info(std::span<const TensorInfo> in) const {
    if (input_present(in, 4) != min_) return invalid_argument(who_ + "W_min must stay present or absent as at create");
    if (min_) {
      KILN_RETURN_IF_ERROR(expect_dtype(in[4], {DType::kF16}, who_ + "input W_min"));
      if (in[4].dims != in[2].dims)
        return invalid_argument(who_ + "W_min must have W_scale's shape " + dims_to_string(in[2].dims) + ", got " +
                                dims_to_string(in[4].dims));
    }
    return Status::Ok();
  }
  Status check_min(std::span<const Tensor> in) const {
    if (input_present(in, 4) != min_) return invalid_argument(who_ + "W_min must stay present or absent as at create");
    if (min_ && (in[4].dtype() != DType::kF16 || in[4].dims() != in[2].dims()))
      return invalid_argument(who_ + "W_min must be float16 with W_scale's shape " + dims_to_string(in[2].dims()) +
                              ", got " + dims_to_string(in[4].dims()));
    return Status::Ok();
  }

  Result<Dims> output_dims(const Dims& x, const Dims& w, const Dims& scale, const Dims* bias) const {
    if (w.size() != 2) return invalid_argument(who_ + "W must be 2-D [N, ceil(K/32)*16], got " + dims_to_string(w));
    const int64_t n = w[0], row = w[1];
    if (x.empty() || x.back() < 0 || static_cast<int64_t>(qb4w_row_bytes(static_cast<size_t>(x.back()))) != row)
      return invalid_argument(who_ + "X " + dims_to_string(x) + " must end in a K with ceil(K/32)*16 = " +
                              std::to_string(row) + " (W is " + dims_to_string(w) + ")");
    if (scale != Dims{n, row / 16})
      return invalid_argument(who_ + "W_scale must have shape [" + std::to_string(n) + ", " +
                              std::to_string(row / 16) + "], got " + dims_to_string(scale));
    if (bias && *bias != Dims{n})
      return invalid_argument(who_ + "bias must have shape [" + std::to_string(n) + "], got " + dims_to_string(*bias));
    Dims y(x.begin(), x.end() - 1);
    y.push_back(n);
    return y;
  }

  std::string who_;
  FusedActivation act_;
  F32MinMax minmax_;
  bool min_;  // the asymmetric form (input 4, W_min)
  const QB4WGemmKernel& gemm_;
  const QB4WGemmKernel& gemv_;
  std::vector<int32_t> packed_gemm_, packed_gemv_;  // constant weights, packed at create
  size_t packed_n_ = 0, packed_row_ = 0;
  bool constant_weights_ = false;
};

}  // namespace

Result<std::unique_ptr<Op>> create_block_quant_mat_mul(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 5));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto block = ctx.node.attr_int("block_size", static_cast<int64_t>(kQB4WBlock));
  if (!block.ok()) return block.status();
  if (block.value() != static_cast<int64_t>(kQB4WBlock))
    return invalid_model(prefix(ctx.node) + "block_size must be 32, got " + std::to_string(block.value()));
  const bool want_min = ctx.has_input(4);
  auto op = std::make_unique<BlockQuantMatMulOp>(prefix(ctx.node), act, want_min);
  const Tensor* w = ctx.constant_input(1);
  const Tensor* scale = ctx.constant_input(2);
  const Tensor* bias = ctx.constant_input(3);
  const Tensor* min = ctx.constant_input(4);
  const bool want_bias = ctx.has_input(3);
  if (w && scale && (bias || !want_bias) && (min || !want_min)) {
    KILN_RETURN_IF_ERROR(check_qb4w_constants(prefix(ctx.node), *w, *scale, bias, "[N, ceil(K/32)*16]", min));
    op->pack_constant(*w, *scale, bias, min);
  }
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
