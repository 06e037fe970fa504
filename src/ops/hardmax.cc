// Hardmax: 1 at the first maximum along the axis, 0 elsewhere. Before opset 13 the input
// is coerced to 2-D at `axis` (default 1) and the maximum taken over the flattened
// trailing dims; from opset 13 along the single dim `axis` (default -1), like Softmax.
#include "ops/elementwise.h"

namespace kiln {
namespace {

class HardmaxOp final : public Op {
 public:
  HardmaxOp(std::string who, int64_t axis, bool per_axis) : who_(std::move(who)), axis_(axis), per_axis_(per_axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": input"));
    int64_t outer, n, inner;
    KILN_RETURN_IF_ERROR(split(in[0].dims, &outer, &n, &inner));
    out[0] = {in[0].dtype, in[0].dims, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    int64_t outer, n, inner;
    KILN_RETURN_IF_ERROR(split(in[0].dims(), &outer, &n, &inner));
    TensorInfo expect{in[0].dtype(), in[0].dims(), nullptr};
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      T* y = out[0].mutable_data<T>();
      for (int64_t i = 0, e = in[0].size(); i < e; ++i) y[i] = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < inner; ++j) {
          const int64_t base = o * n * inner + j;
          int64_t best = 0;
          for (int64_t k = 1; k < n; ++k)
            if (x[base + k * inner] > x[base + best * inner]) best = k;
          if (n > 0) y[base + best * inner] = 1;
        }
    });
    return Status::Ok();
  }

 private:
  Status split(const Dims& x, int64_t* outer, int64_t* n, int64_t* inner) const {
    const int64_t rank = static_cast<int64_t>(x.size());
    int64_t a;
    if (per_axis_) {
      KILN_ASSIGN_OR_RETURN(a, normalize_axis(axis_, rank, who_));
    } else {
      if (axis_ < -rank || axis_ > rank)
        return invalid_argument(who_ + ": axis " + std::to_string(axis_) + " is out of range for rank " +
                                std::to_string(rank));
      a = axis_ < 0 ? axis_ + rank : axis_;
    }
    *outer = 1, *n = 1, *inner = 1;
    for (int64_t i = 0; i < rank; ++i) {
      if (i < a) *outer *= x[static_cast<size_t>(i)];
      else if (i == a || !per_axis_) *n *= x[static_cast<size_t>(i)];
      else *inner *= x[static_cast<size_t>(i)];
    }
    return Status::Ok();
  }

  std::string who_;
  int64_t axis_;
  bool per_axis_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_hardmax(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  const bool per_axis = ctx.opset >= 13;
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", per_axis ? -1 : 1));
  return std::unique_ptr<Op>(new HardmaxOp(ctx.node.describe(), axis, per_axis));
}

}  // namespace kiln
