// HannWindow, HammingWindow, BlackmanWindow: generalized cosine windows of `size` points,
//   w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N),
// with N = size when `periodic` (the default, for spectral analysis) and size - 1 when
// symmetric. The output dtype is output_datatype (default float32).
#include <cmath>

#include "core/half.h"
#include "ops/elementwise.h"

namespace kiln {
namespace {

struct Coefficients {
  double a0, a1, a2;
};

class WindowOp final : public Op {
 public:
  WindowOp(std::string who, Coefficients c, bool periodic, DType out)
      : who_(std::move(who)), c_(c), periodic_(periodic), out_(out) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input size is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kI32, DType::kI64}, who_ + ": size"));
    if (!in[0].value) return needs_value(0);
    KILN_ASSIGN_OR_RETURN(int64_t n, read_scalar_i64(*in[0].value, who_ + ": size"));
    if (n < 0 || n > (int64_t{1} << 28)) return invalid_argument(who_ + ": size " + std::to_string(n) + " is out of range");
    out[0] = {out_, Dims{n}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const int64_t size = out[0].size();
    const double denom = static_cast<double>(periodic_ ? size : size - 1);
    const double pi = 3.14159265358979323846;
    for (int64_t i = 0; i < size; ++i) {
      const double x = denom > 0 ? 2 * pi * static_cast<double>(i) / denom : 0;
      const double w = c_.a0 - c_.a1 * std::cos(x) + c_.a2 * std::cos(2 * x);
      if (out_ == DType::kF16) out[0].mutable_data<uint16_t>()[i] = float_to_half(static_cast<float>(w));
      else visit_dtype(out_, NumericTypes{}, [&](auto t) { out[0].mutable_data<decltype(t)>()[i] = static_cast<decltype(t)>(w); });
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  Coefficients c_;
  bool periodic_;
  DType out_;
};

Result<std::unique_ptr<Op>> create(const OpContext& ctx, Coefficients c) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t periodic, ctx.node.attr_int("periodic", 1));
  KILN_ASSIGN_OR_RETURN(int64_t dt, ctx.node.attr_int("output_datatype", 1));
  // kiln's DType codes are ONNX's TensorProto element types.
  const DType out = static_cast<DType>(dt);
  if (out != DType::kF16 && !visit_dtype(out, NumericTypes{}, [](auto) {}))
    return invalid_model(ctx.node.describe() + ": output_datatype " + std::to_string(dt) + " is not a numeric type");
  return std::unique_ptr<Op>(new WindowOp(ctx.node.describe(), c, periodic != 0, out));
}

}  // namespace

Result<std::unique_ptr<Op>> create_hann_window(const OpContext& ctx) { return create(ctx, {0.5, 0.5, 0}); }
Result<std::unique_ptr<Op>> create_hamming_window(const OpContext& ctx) {
  return create(ctx, {25.0 / 46.0, 21.0 / 46.0, 0});
}
Result<std::unique_ptr<Op>> create_blackman_window(const OpContext& ctx) { return create(ctx, {0.42, 0.5, 0.08}); }

}  // namespace kiln
