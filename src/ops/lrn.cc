// LRN (local response normalization across channels, AlexNet):
//   y = x / (bias + alpha / size * sum of x^2 over channels [c - (size-1)/2, c + size/2])^beta
// on [N, C, d1..dk] float input.
#include <algorithm>
#include <cmath>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class LrnOp final : public Op {
 public:
  LrnOp(std::string who, int64_t size, double alpha, double beta, double bias)
      : who_(std::move(who)), size_(size), alpha_(alpha), beta_(beta), bias_(bias) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": input"));
    if (in[0].dims.size() < 2) return invalid_argument(who_ + ": input must be [N, C, ...], got " + dims_to_string(in[0].dims));
    out[0] = {in[0].dtype, in[0].dims, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& d = in[0].dims();
    const int64_t n = d[0], c = d[1], inner = c == 0 || n == 0 ? 0 : in[0].size() / (n * c);
    const int64_t lo = (size_ - 1) / 2, hi = size_ / 2;
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      T* y = out[0].mutable_data<T>();
      for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t i = 0; i < inner; ++i) {
            double sq = 0;
            for (int64_t k = std::max<int64_t>(0, ch - lo); k <= std::min(c - 1, ch + hi); ++k) {
              const double v = static_cast<double>(x[(b * c + k) * inner + i]);
              sq += v * v;
            }
            const int64_t e = (b * c + ch) * inner + i;
            y[e] = static_cast<T>(static_cast<double>(x[e]) / std::pow(bias_ + alpha_ / static_cast<double>(size_) * sq, beta_));
          }
    });
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t size_;
  double alpha_, beta_, bias_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_lrn(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t size, ctx.node.attr_int("size"));
  KILN_ASSIGN_OR_RETURN(float alpha, ctx.node.attr_float("alpha", 1e-4f));
  KILN_ASSIGN_OR_RETURN(float beta, ctx.node.attr_float("beta", 0.75f));
  KILN_ASSIGN_OR_RETURN(float bias, ctx.node.attr_float("bias", 1.0f));
  if (size < 1) return invalid_model(ctx.node.describe() + ": size must be at least 1, got " + std::to_string(size));
  return std::unique_ptr<Op>(new LrnOp(ctx.node.describe(), size, alpha, beta, bias));
}

}  // namespace kiln
