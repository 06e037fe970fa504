// Diagonal-band ops on the last two axes: Trilu (keep the upper / lower triangle, any
// dtype) and EyeLike (ones on diagonal k).
#include <algorithm>
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class TriluOp final : public Op {
 public:
  TriluOp(std::string who, bool upper) : who_(std::move(who)), upper_(upper) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    if (in[0].dims.size() < 2)
      return invalid_argument(who_ + ": input must have rank >= 2, got " + dims_to_string(in[0].dims));
    if (has_in(in, 1)) {
      KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64}, who_ + ": k"));
      if (num_elements(in[1].dims) != 1) return invalid_argument(who_ + ": k must be a scalar");
    }
    out[0].dtype = in[0].dtype;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const int64_t k = has_in(in, 1) ? in[1].get_i64(0) : 0;
    const int64_t r = in[0].rank(), rows = in[0].dim(r - 2), cols = in[0].dim(r - 1);
    const size_t es = dtype_size(in[0].dtype());
    if (in[0].bytes()) std::memcpy(out[0].mutable_raw(), in[0].raw(), in[0].bytes());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    const int64_t mats = rows > 0 && cols > 0 ? in[0].size() / (rows * cols) : 0;
    // Clamp k so i + k cannot overflow; beyond +-cols the band is all or nothing anyway.
    const int64_t kk = std::clamp<int64_t>(k, -rows - cols, rows + cols);
    for (int64_t m = 0; m < mats; ++m)
      for (int64_t i = 0; i < rows; ++i) {
        uint8_t* row = y + static_cast<size_t>((m * rows + i) * cols) * es;
        // upper keeps j >= i + k: zero [0, i + k); lower keeps j <= i + k: zero (i + k, cols).
        const int64_t b = upper_ ? 0 : std::clamp<int64_t>(i + kk + 1, 0, cols);
        const int64_t e = upper_ ? std::clamp<int64_t>(i + kk, 0, cols) : cols;
        if (e > b) std::memset(row + static_cast<size_t>(b) * es, 0, static_cast<size_t>(e - b) * es);
      }
    return Status::Ok();
  }

 private:
  std::string who_;
  bool upper_;
};

class EyeLikeOp final : public Op {
 public:
  EyeLikeOp(std::string who, DType dtype, int64_t k) : who_(std::move(who)), dtype_(dtype), k_(k) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    if (in[0].dims.size() != 2)
      return invalid_argument(who_ + ": input must be 2-D, got " + dims_to_string(in[0].dims));
    const DType t = dtype_ == DType::kUndefined ? in[0].dtype : dtype_;
    if (t != DType::kBool && !visit_dtype(t, NumericTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": unsupported dtype " + dtype_name(t));
    out[0].dtype = t;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const int64_t rows = out[0].dim(0), cols = out[0].dim(1);
    auto fill = [&](auto one) {
      using T = decltype(one);
      T* y = out[0].mutable_data<T>();
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t j = i + k_;
        if (j >= 0 && j < cols) y[i * cols + j] = one;
      }
    };
    if (out[0].dtype() == DType::kBool) fill(uint8_t{1});
    else visit_dtype(out[0].dtype(), NumericTypes{}, [&](auto tag) { fill(static_cast<decltype(tag)>(1)); });
    return Status::Ok();
  }

 private:
  std::string who_;
  DType dtype_;
  int64_t k_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_trilu(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t upper, ctx.node.attr_int("upper", 1));
  return std::unique_ptr<Op>(new TriluOp(ctx.node.describe(), upper != 0));
}

Result<std::unique_ptr<Op>> create_eye_like(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  DType t = DType::kUndefined;
  if (ctx.node.has_attr("dtype")) {
    KILN_ASSIGN_OR_RETURN(int64_t d, ctx.node.attr_int("dtype"));
    t = static_cast<DType>(d);
    if (d < 1 || d > 13 || !dtype_is_valid_storage(t))
      return unsupported(ctx.node.describe() + ": dtype " + std::to_string(d) + " is not supported");
  }
  KILN_ASSIGN_OR_RETURN(int64_t k, ctx.node.attr_int("k", 0));
  if (k < -(int64_t{1} << 40) || k > (int64_t{1} << 40))
    return invalid_model(ctx.node.describe() + ": k is out of range");
  return std::unique_ptr<Op>(new EyeLikeOp(ctx.node.describe(), t, k));
}

}  // namespace kiln
