// QLinearMatMul (opsets 10, 21) and MatMulInteger (opset 10): MatMul's shape rules (1-D
// promotion, broadcast batch dims) on uint8/int8 inputs, accumulated exactly in int32 after
// subtracting the zero points. A's scale / zero point may be per tensor or per row ([M], or
// one per row of every stored matrix, e.g. [D, M, 1]); B's per tensor or per column ([N] or
// [D, 1, N]). MatMulInteger outputs the int32; QLinearMatMul requantizes each element with
// a_scale * b_scale / y_scale (ops/qlinear_util.h) to y_zero_point's type. A constant 2-D B
// with a symmetric zero point (0 for int8, 128 for uint8) is packed once for the int8 GEMM
// microkernels (ops/qs8_packed_gemm.h), used when A's zero point and scale are per tensor;
// everything else runs the reference loops, with identical results.
#include <cmath>
#include <vector>

#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "ops/qlinear_util.h"
#include "ops/qs8_packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: ops/nn_util.h helpers
namespace {

class QuantMatMulOp final : public Op {
 public:
  QuantMatMulOp(std::string who, bool qlinear) : who_(std::move(who)), qlinear_(qlinear) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), qlinear_ ? 8 : 2, out.size(), 1, who_));
    const TensorInfo& a = in[0];
    const TensorInfo& b = in[b_];
    if (!a.present() || !b.present()) return invalid_model(who_ + "A and B are required");
    if (!is_int8_type(a.dtype)) return unsupported(who_ + "input A must be uint8 or int8, got " + dtype_name(a.dtype));
    if (!is_int8_type(b.dtype)) return unsupported(who_ + "input B must be uint8 or int8, got " + dtype_name(b.dtype));
    KILN_ASSIGN_OR_RETURN(IntMatMulPlan p, int_matmul_plan(a.dims, b.dims, who_));
    KILN_RETURN_IF_ERROR(check_param(in, azp_, a.dtype, p.a_batches, p.m, "A", "a_zero_point"));
    KILN_RETURN_IF_ERROR(check_param(in, bzp_, b.dtype, p.b_batches, p.n, "B", "b_zero_point"));
    out[0].dims = p.out;
    if (!qlinear_) {
      out[0].dtype = DType::kI32;
      return Status::Ok();
    }
    for (size_t i : {size_t{1}, size_t{4}, size_t{6}})
      if (!input_present(in, i)) return invalid_model(who_ + "the scales (inputs 1, 4, 6) are required");
    KILN_RETURN_IF_ERROR(check_param(in, 1, DType::kF32, p.a_batches, p.m, "A", "a_scale"));
    KILN_RETURN_IF_ERROR(check_param(in, 4, DType::kF32, p.b_batches, p.n, "B", "b_scale"));
    KILN_RETURN_IF_ERROR(check_param(in, 6, DType::kF32, 1, 1, "Y", "y_scale"));
    const DType yt = input_present(in, 7) ? in[7].dtype : DType::kU8;
    if (!is_int8_type(yt)) return unsupported(who_ + "y_zero_point must be uint8 or int8, got " + dtype_name(yt));
    KILN_RETURN_IF_ERROR(check_param(in, 7, yt, 1, 1, "Y", "y_zero_point"));
    out[0].dtype = yt;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(IntMatMulPlan p, int_matmul_plan(in[0].dims(), in[b_].dims(), who_));
    if (fast_.packed() && !use_reference_kernels() && in[b_].rank() == 2 && in[b_].dim(0) == static_cast<int64_t>(fast_.k()) &&
        in[b_].dim(1) == static_cast<int64_t>(fast_.n()) && (!input_present(in, azp_) || in[azp_].size() == 1) &&
        (!qlinear_ || in[1].size() == 1))
      return run_fast(in, out[0]);
    const std::vector<int32_t> a = widen_centered(in[0], {0}, 1), b = widen_centered(in[b_], {0}, 1);
    const std::vector<int32_t> azp = values_or_zero(in, azp_), bzp = values_or_zero(in, bzp_);
    const int64_t m = p.m, k = p.k, n = p.n;
    std::vector<int32_t> ac(static_cast<size_t>(m * k)), bc(static_cast<size_t>(k * n));
    int32_t* y32 = qlinear_ ? nullptr : out[0].mutable_data<int32_t>();
    Requantization rq;
    if (qlinear_) {
      rq.zero_point = input_present(in, 7) ? static_cast<int32_t>(in[7].get_i64(0)) : 0;
      int8_type_range(out[0].dtype(), &rq.min, &rq.max);
    }
    const float ys = qlinear_ ? in[6].data<float>()[0] : 1.f;
    for (int64_t i = 0; i < p.batches; ++i) {
      const int64_t ai = p.a_index[static_cast<size_t>(i)], bi = p.b_index[static_cast<size_t>(i)];
      // Center this pair of matrices; zero points vary per row of A / per column of B.
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < k; ++c)
          ac[static_cast<size_t>(r * k + c)] = a[static_cast<size_t>((ai * m + r) * k + c)] - azp[pick(azp, ai, m, r)];
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < n; ++c)
          bc[static_cast<size_t>(r * n + c)] = b[static_cast<size_t>((bi * k + r) * n + c)] - bzp[pick(bzp, bi, n, c)];
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c) {
          int32_t acc = 0;
          for (int64_t t = 0; t < k; ++t) acc += ac[static_cast<size_t>(r * k + t)] * bc[static_cast<size_t>(t * n + c)];
          const int64_t o = (i * m + r) * n + c;
          if (!qlinear_) {
            y32[o] = acc;
            continue;
          }
          const float* as = in[1].data<float>();
          const float* bs = in[4].data<float>();
          rq.multiplier = as[pick_n(in[1].size(), ai, m, r)] * bs[pick_n(in[4].size(), bi, n, c)] / ys;
          const int32_t v = requantize(acc, rq);
          if (out[0].dtype() == DType::kU8)
            out[0].mutable_data<uint8_t>()[o] = static_cast<uint8_t>(v);
          else
            out[0].mutable_data<int8_t>()[o] = static_cast<int8_t>(v);
        }
    }
    return Status::Ok();
  }

  // Packs a constant 2-D B whose zero point makes it symmetric int8 (0 for int8, 128 for
  // uint8 after the shift); otherwise the op keeps the reference loops.
  void pack(const Tensor& b, const Tensor* bzp) {
    if (b.rank() != 2 || !is_int8_type(b.dtype()) || use_reference_kernels()) return;
    const bool u8 = b.dtype() == DType::kU8;
    const int32_t want = u8 ? 128 : 0;
    if (bzp) {
      if (bzp->dtype() != b.dtype()) return;
      for (int32_t z : int_values(*bzp))
        if (z != want) return;
    } else if (u8) {
      return;
    }
    const size_t k = static_cast<size_t>(b.dim(0)), n = static_cast<size_t>(b.dim(1));
    std::vector<int8_t> w(k * n);
    qs8_shift_to_int8(b.raw(), u8, w.size(), w.data());
    fast_.pack(n, k, w.data(), static_cast<ptrdiff_t>(n), 1);
  }

 private:
  // A (all its batch matrices stacked as rows) times the packed B on the int8 kernels.
  Status run_fast(std::span<const Tensor> in, Tensor& y) {
    const Tensor& a = in[0];
    const bool u8 = a.dtype() == DType::kU8;
    const size_t k = fast_.k(), n = fast_.n(), kp = fast_.padded_k();
    const size_t rows = static_cast<size_t>(a.size()) / std::max<size_t>(1, k);
    a8_.assign(rows * kp, 0);
    for (size_t r = 0; r < rows; ++r)
      qs8_shift_to_int8(static_cast<const uint8_t*>(a.raw()) + r * k, u8, k, a8_.data() + r * kp);
    const int32_t azp = (input_present(in, azp_) ? static_cast<int32_t>(in[azp_].get_i64(0)) : 0) - (u8 ? 128 : 0);
    acc_.resize(rows * n);
    fast_.multiply(rows, a8_.data(), kp, azp, acc_.data(), n);
    if (!qlinear_) {
      int32_t* y32 = y.mutable_data<int32_t>();
      for (size_t i = 0; i < rows * n; ++i) y32[i] = static_cast<int32_t>(acc_[i]);
      return Status::Ok();
    }
    std::vector<Requantization> rq(n);
    const float as = in[1].data<float>()[0], ys = in[6].data<float>()[0];
    const float* bs = in[4].data<float>();
    for (size_t j = 0; j < n; ++j) {
      rq[j].multiplier = as * bs[in[4].size() == 1 ? 0 : j] / ys;
      rq[j].zero_point = input_present(in, 7) ? static_cast<int32_t>(in[7].get_i64(0)) : 0;
      int8_type_range(y.dtype(), &rq[j].min, &rq[j].max);
    }
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < n; ++j) {
        const int32_t v = requantize(static_cast<int32_t>(acc_[r * n + j]), rq[j]);
        if (y.dtype() == DType::kU8)
          y.mutable_data<uint8_t>()[r * n + j] = static_cast<uint8_t>(v);
        else
          y.mutable_data<int8_t>()[r * n + j] = static_cast<int8_t>(v);
      }
    return Status::Ok();
  }

  // Index of the parameter for row/column `j` of stored matrix `batch` (see side_param_mode).
  static size_t pick_n(int64_t count, int64_t batch, int64_t rows, int64_t j) {
    if (count == 1) return 0;
    if (count == rows) return static_cast<size_t>(j);
    return static_cast<size_t>(batch * rows + j);
  }
  static size_t pick(const std::vector<int32_t>& v, int64_t batch, int64_t rows, int64_t j) {
    return pick_n(static_cast<int64_t>(v.size()), batch, rows, j);
  }

  static std::vector<int32_t> values_or_zero(std::span<const Tensor> in, size_t i) {
    return input_present(in, i) ? int_values(in[i]) : std::vector<int32_t>{0};
  }

  Status check_param(std::span<const TensorInfo> in, size_t i, DType want, int64_t batches, int64_t rows,
                     const char* side, const char* name) const {
    if (!input_present(in, i)) return Status::Ok();
    if (in[i].dtype != want)
      return invalid_model(who_ + name + " must be " + dtype_name(want) + ", got " + dtype_name(in[i].dtype));
    if (side_param_mode(num_elements(in[i].dims), batches, rows) < 0)
      return unsupported(who_ + name + " " + dims_to_string(in[i].dims) + " must have 1, " + std::to_string(rows) +
                         " or " + std::to_string(batches * rows) + " elements (per tensor, or per " +
                         (side[0] == 'A' ? "row" : "column") + " of " + side + ")");
    return Status::Ok();
  }

  std::string who_;
  bool qlinear_;
  size_t b_ = qlinear_ ? 3 : 1, azp_ = 2, bzp_ = qlinear_ ? 5 : 3;  // input slots
  QS8PackedGemm fast_;
  std::vector<int8_t> a8_;   // A shifted to int8, rows padded; the op is not run concurrently
  std::vector<float> acc_;   // the kernels' accumulators
};

Result<std::unique_ptr<Op>> create(const OpContext& ctx, bool qlinear) {
  KILN_RETURN_IF_ERROR(qlinear ? check_input_count(ctx, 8, 8) : check_input_count(ctx, 2, 4));
  auto op = std::make_unique<QuantMatMulOp>(prefix(ctx.node), qlinear);
  const size_t b = qlinear ? 3 : 1, bzp = qlinear ? 5 : 3;
  if (const Tensor* w = ctx.constant_input(b); w && (!ctx.has_input(bzp) || ctx.constant_input(bzp)))
    op->pack(*w, ctx.has_input(bzp) ? ctx.constant_input(bzp) : nullptr);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace

Result<std::unique_ptr<Op>> create_qlinear_mat_mul(const OpContext& ctx) { return create(ctx, true); }
Result<std::unique_ptr<Op>> create_mat_mul_integer(const OpContext& ctx) { return create(ctx, false); }

}  // namespace kiln
