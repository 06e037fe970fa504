// CumSum along an axis given as input 1 (exclusive / reverse attributes).
#include "ops/elementwise.h"

namespace kiln {
namespace {

class CumSumOp final : public Op {
 public:
  CumSumOp(std::string who, bool exclusive, bool reverse)
      : who_(std::move(who)), exclusive_(exclusive), reverse_(reverse) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs x and axis are required");
    if (!visit_dtype(in[0].dtype, ArithTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": x must be " + dtype_list_names(ArithTypes{}) + ", got " +
                              dtype_name(in[0].dtype));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64, DType::kI32}, who_ + ": axis"));
    if (num_elements(in[1].dims) != 1 || in[1].dims.size() > 1)
      return invalid_argument(who_ + ": axis must be a scalar, got shape " + dims_to_string(in[1].dims));
    if (in[1].value)
      KILN_RETURN_IF_ERROR(
          normalize_axis(in[1].value->get_i64(0), static_cast<int64_t>(in[0].dims.size()), who_).status());
    out[0].dtype = in[0].dtype;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(in[1].get_i64(0), in[0].rank(), who_));
    const Dims& d = in[0].dims();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < in[0].rank(); ++i) {
      if (i < a) outer *= d[static_cast<size_t>(i)];
      else if (i > a) inner *= d[static_cast<size_t>(i)];
    }
    const int64_t len = d[static_cast<size_t>(a)];
    visit_dtype(in[0].dtype(), ArithTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      T* y = out[0].mutable_data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          T acc{0};
          for (int64_t s = 0; s < len; ++s) {
            const int64_t k = reverse_ ? len - 1 - s : s;
            const int64_t off = (o * len + k) * inner + i;
            if (exclusive_) {
              y[off] = acc;
              acc = wrap_add(acc, x[off]);
            } else {
              acc = wrap_add(acc, x[off]);
              y[off] = acc;
            }
          }
        }
    });
    return Status::Ok();
  }

 private:
  std::string who_;
  bool exclusive_, reverse_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_cum_sum(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t exclusive, ctx.node.attr_int("exclusive", 0));
  KILN_ASSIGN_OR_RETURN(int64_t reverse, ctx.node.attr_int("reverse", 0));
  return std::unique_ptr<Op>(new CumSumOp(ctx.node.describe(), exclusive != 0, reverse != 0));
}

}  // namespace kiln
