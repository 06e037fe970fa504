// MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9) with mean and variance
// over `axes` (default [0, 2, 3]), as ONNX's function definition computes it.
#include <cmath>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class MvnOp final : public Op {
 public:
  MvnOp(std::string who, std::vector<int64_t> axes) : who_(std::move(who)), axes_(std::move(axes)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": input"));
    KILN_RETURN_IF_ERROR(normalize_axes(axes_, static_cast<int64_t>(in[0].dims.size()), who_).status());
    out[0] = {in[0].dtype, in[0].dims, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& d = in[0].dims();
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normalize_axes(axes_, static_cast<int64_t>(d.size()), who_));
    std::vector<bool> reduced(d.size(), false);
    for (int64_t a : axes) reduced[static_cast<size_t>(a)] = true;
    // Group index of each element: its coordinates on the kept axes, row-major.
    const int64_t n = in[0].size();
    std::vector<int64_t> group(static_cast<size_t>(n));
    int64_t groups = 1;
    for (size_t i = 0; i < d.size(); ++i)
      if (!reduced[i]) groups *= d[i];
    std::vector<int64_t> idx(d.size(), 0);
    for (int64_t e = 0; e < n; ++e) {
      int64_t g = 0;
      for (size_t i = 0; i < d.size(); ++i)
        if (!reduced[i]) g = g * d[i] + idx[i];
      group[static_cast<size_t>(e)] = g;
      for (size_t i = d.size(); i-- > 0;) {
        if (++idx[i] < d[i]) break;
        idx[i] = 0;
      }
    }
    std::vector<double> sum(static_cast<size_t>(groups)), sq(static_cast<size_t>(groups));
    const double count = groups == 0 ? 1 : static_cast<double>(n) / static_cast<double>(groups);
    for (int64_t e = 0; e < n; ++e) {
      const double v = in[0].get_f64(e);
      sum[static_cast<size_t>(group[static_cast<size_t>(e)])] += v;
      sq[static_cast<size_t>(group[static_cast<size_t>(e)])] += v * v;
    }
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      T* y = out[0].mutable_data<T>();
      for (int64_t e = 0; e < n; ++e) {
        const size_t g = static_cast<size_t>(group[static_cast<size_t>(e)]);
        const double mean = sum[g] / count, var = std::max(0.0, sq[g] / count - mean * mean);
        y[e] = static_cast<T>((static_cast<double>(x[e]) - mean) / (std::sqrt(var) + 1e-9));
      }
    });
    return Status::Ok();
  }

 private:
  std::string who_;
  std::vector<int64_t> axes_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_mean_variance_normalization(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ctx.node.attr_ints("axes", std::vector<int64_t>{0, 2, 3}));
  return std::unique_ptr<Op>(new MvnOp(ctx.node.describe(), std::move(axes)));
}

}  // namespace kiln
