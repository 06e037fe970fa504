// kiln.QLinearMatMul (graph/kiln_extensions.h), written by the fuse_qdq pass for a QDQ
// MatMul: ONNX QLinearMatMul's eight inputs (a, a_scale, a_zero_point, b, b_scale,
// b_zero_point, y_scale, y_zero_point) plus an optional int32 bias [N] (input 8) and the
// fused kiln.activation; A int8 [..., K] with per-tensor scale / zero point, B int8 [K, N]
// with zero point 0 and a scale per column (or one), Y int8 [..., N]. Every row of A is one
// GEMM row: with constant B and parameters it runs ops/qs8_requant_gemm.h (packed once),
// otherwise the int32 reference loop; both requantize with QS8Epilogue.
#include <cstring>
#include <vector>

#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"  // use_reference_kernels
#include "ops/qlinear_util.h"
#include "ops/qs8_requant_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: ops/nn_util.h helpers
namespace {

enum : size_t { kA, kAScale, kAZero, kB, kBScale, kBZero, kYScale, kYZero, kBias };

class QLinearMatMulFusedOp final : public Op {
 public:
  QLinearMatMulFusedOp(std::string who, FusedActivation act) : who_(std::move(who)), act_(act) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 8, out.size(), 1, who_));
    if (!input_present(in, kA) || !input_present(in, kB)) return invalid_model(who_ + "A and B are required");
    if (in[kA].dtype != DType::kI8) return unsupported(who_ + "input A must be int8, got " + dtype_name(in[kA].dtype));
    if (in[kB].dtype != DType::kI8) return unsupported(who_ + "input B must be int8, got " + dtype_name(in[kB].dtype));
    const Dims& a = in[kA].dims;
    const Dims& b = in[kB].dims;
    if (a.empty() || b.size() != 2 || a.back() != b[0])
      return invalid_argument(who_ + "A " + dims_to_string(a) + " [..., K] and B " + dims_to_string(b) +
                              " [K, N] do not match");
    const int64_t n = b[1];
    KILN_RETURN_IF_ERROR(check_scale_input(in, kAScale, 1, "a_scale", who_));
    KILN_RETURN_IF_ERROR(check_scale_input(in, kBScale, n, "b_scale", who_));
    KILN_RETURN_IF_ERROR(check_scale_input(in, kYScale, 1, "y_scale", who_));
    KILN_RETURN_IF_ERROR(check_zero_point_input(in, kAZero, DType::kI8, 1, "a_zero_point", who_));
    KILN_RETURN_IF_ERROR(check_zero_point_input(in, kBZero, DType::kI8, n, "b_zero_point", who_));
    if (!input_present(in, kYZero) || in[kYZero].dtype != DType::kI8)
      return unsupported(who_ + "y_zero_point must be present and int8 (the output type)");
    KILN_RETURN_IF_ERROR(check_zero_point_input(in, kYZero, DType::kI8, 1, "y_zero_point", who_));
    if (input_present(in, kBias)) {
      KILN_RETURN_IF_ERROR(expect_dtype(in[kBias], {DType::kI32}, who_ + "input bias"));
      if (in[kBias].dims != Dims{n})
        return invalid_argument(who_ + "bias must have shape [" + std::to_string(n) + "], got " +
                                dims_to_string(in[kBias].dims));
    }
    out[0].dtype = DType::kI8;
    out[0].dims = a;
    out[0].dims.back() = n;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor& a = in[kA];
    const size_t k = static_cast<size_t>(in[kB].dim(0)), n = static_cast<size_t>(in[kB].dim(1));
    const size_t rows = k == 0 ? 0 : static_cast<size_t>(a.size()) / k;
    Dims want = a.dims();
    want.back() = static_cast<int64_t>(n);
    if (out[0].dtype() != DType::kI8 || out[0].dims() != want)
      return internal_error(who_ + "output buffer is " + dtype_name(out[0].dtype()) + dims_to_string(out[0].dims()) +
                            ", expected int8" + dims_to_string(want));
    int8_t* y = out[0].mutable_data<int8_t>();
    if (gemm_.packed()) {
      const size_t kp = gemm_.padded_k();
      if (kp == k) {
        gemm_.run(rows, a.data<int8_t>(), k, y, n);
      } else {
        // Rows padded to the kernels' block: their reads stay inside the buffer.
        rows_.assign(rows * kp, 0);
        for (size_t r = 0; r < rows; ++r) std::memcpy(rows_.data() + r * kp, a.data<int8_t>() + r * k, k);
        gemm_.run(rows, rows_.data(), kp, y, n);
      }
      return Status::Ok();
    }
    const int32_t za = input_present(in, kAZero) ? static_cast<int32_t>(in[kAZero].get_i64(0)) : 0;
    const std::vector<int32_t> zb = input_present(in, kBZero) ? int_values(in[kBZero]) : std::vector<int32_t>{0};
    const std::vector<int32_t> bias = input_present(in, kBias) ? int_values(in[kBias]) : std::vector<int32_t>(n, 0);
    QS8Epilogue ep;
    ep.init(in[kAScale].data<float>()[0], in[kBScale].data<float>(), static_cast<size_t>(in[kBScale].size()), n,
            in[kYScale].data<float>()[0], static_cast<int32_t>(in[kYZero].get_i64(0)), act_);
    const int8_t* av = a.data<int8_t>();
    const int8_t* bv = in[kB].data<int8_t>();
    std::vector<int32_t> acc(n);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < n; ++j) {
        int32_t s = bias[j];
        const int32_t z = zb[zb.size() == 1 ? 0 : j];
        for (size_t p = 0; p < k; ++p) s += (av[r * k + p] - za) * (bv[p * n + j] - z);
        acc[j] = s;
      }
      ep.apply(acc.data(), n, y + r * n);
    }
    return Status::Ok();
  }

  // Constant B (zero point 0) and constant parameters: packed once.
  void pack(const OpContext& ctx) {
    if (use_reference_kernels()) return;
    const Tensor* b = ctx.constant_input(kB);
    const Tensor* as = ctx.constant_input(kAScale);
    const Tensor* bs = ctx.constant_input(kBScale);
    const Tensor* ys = ctx.constant_input(kYScale);
    const Tensor* yz = ctx.constant_input(kYZero);
    if (!b || !as || !bs || !ys || !yz || b->dtype() != DType::kI8 || b->rank() != 2) return;
    const size_t k = static_cast<size_t>(b->dim(0)), n = static_cast<size_t>(b->dim(1));
    if (as->dtype() != DType::kF32 || bs->dtype() != DType::kF32 || ys->dtype() != DType::kF32 ||
        yz->dtype() != DType::kI8 || as->size() != 1 || ys->size() != 1 || yz->size() != 1 ||
        (bs->size() != 1 && static_cast<size_t>(bs->size()) != n))
      return;
    int32_t a_zero = 0;
    if (ctx.has_input(kAZero)) {
      const Tensor* z = ctx.constant_input(kAZero);
      if (!z || z->dtype() != DType::kI8 || z->size() != 1) return;
      a_zero = z->data<int8_t>()[0];
    }
    if (ctx.has_input(kBZero)) {
      const Tensor* z = ctx.constant_input(kBZero);
      if (!z || z->dtype() != DType::kI8) return;
      for (int64_t i = 0; i < z->size(); ++i)
        if (z->data<int8_t>()[i] != 0) return;
    }
    const int32_t* bias = nullptr;
    if (ctx.has_input(kBias)) {
      const Tensor* t = ctx.constant_input(kBias);
      if (!t || t->dtype() != DType::kI32 || static_cast<size_t>(t->size()) != n) return;
      bias = t->data<int32_t>();
    }
    QS8Epilogue ep;
    ep.init(as->data<float>()[0], bs->data<float>(), static_cast<size_t>(bs->size()), n, ys->data<float>()[0],
            yz->data<int8_t>()[0], act_);
    gemm_.pack(n, k, b->data<int8_t>(), static_cast<ptrdiff_t>(n), 1, bias, a_zero, std::move(ep));
  }

 private:
  std::string who_;
  FusedActivation act_;
  QS8RequantGemm gemm_;
  std::vector<int8_t> rows_;  // A rows padded; the op is not run concurrently
};

}  // namespace

Result<std::unique_ptr<Op>> create_qlinear_mat_mul_fused(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 8, 9));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  auto op = std::make_unique<QLinearMatMulFusedOp>(prefix(ctx.node), act);
  op->pack(ctx);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
