// ArgMax / ArgMin along one axis -> int64 indices (keepdims, select_last_index).
// A NaN counts as the extreme value, like numpy.
#include <cmath>

#include "ops/elementwise.h"

namespace kiln {
namespace {

using ArgTypes = TypeList<float, double, int32_t, int64_t, int8_t, uint8_t, int16_t, uint16_t, uint32_t, uint64_t>;

template <class T> bool nan_of(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
  else return false;
}

// True when candidate v should replace the current best b.
template <class T>
bool better(T v, T b, bool is_max, bool last) {
  if (nan_of(b)) return false;
  if (nan_of(v)) return true;
  if (last) return is_max ? v >= b : v <= b;
  return is_max ? v > b : v < b;
}

class ArgOp final : public Op {
 public:
  ArgOp(std::string who, bool is_max, int64_t axis, bool keepdims, bool last)
      : who_(std::move(who)), is_max_(is_max), axis_(axis), keepdims_(keepdims), last_(last) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    if (!visit_dtype(in[0].dtype, ArgTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": input must be numeric, got " + std::string(dtype_name(in[0].dtype)));
    const Dims& d = in[0].dims;
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()), who_));
    if (d[static_cast<size_t>(a)] == 0)
      return invalid_argument(who_ + ": cannot take the arg" + (is_max_ ? "max" : "min") + " of an empty axis");
    out[0].dtype = DType::kI64;
    out[0].dims.clear();
    for (size_t i = 0; i < d.size(); ++i) {
      if (static_cast<int64_t>(i) != a) out[0].dims.push_back(d[i]);
      else if (keepdims_) out[0].dims.push_back(1);
    }
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& d = in[0].dims();
    const size_t a = static_cast<size_t>(axis_ < 0 ? axis_ + in[0].rank() : axis_);
    int64_t outer = 1, inner = 1;
    for (size_t i = 0; i < d.size(); ++i) {
      if (i < a) outer *= d[i];
      else if (i > a) inner *= d[i];
    }
    const int64_t len = d[a];
    int64_t* y = out[0].mutable_data<int64_t>();
    visit_dtype(in[0].dtype(), ArgTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const T* p = x + o * len * inner + i;
          int64_t best = 0;
          for (int64_t k = 1; k < len; ++k)
            if (better(p[k * inner], p[best * inner], is_max_, last_)) best = k;
          y[o * inner + i] = best;
        }
    });
    return Status::Ok();
  }

 private:
  std::string who_;
  bool is_max_;
  int64_t axis_;
  bool keepdims_, last_;
};

Result<std::unique_ptr<Op>> make_arg(const OpContext& ctx, bool is_max) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 0));
  KILN_ASSIGN_OR_RETURN(int64_t keepdims, ctx.node.attr_int("keepdims", 1));
  KILN_ASSIGN_OR_RETURN(int64_t last, ctx.node.attr_int("select_last_index", 0));
  return std::unique_ptr<Op>(new ArgOp(ctx.node.describe(), is_max, axis, keepdims != 0, last != 0));
}

}  // namespace

Result<std::unique_ptr<Op>> create_arg_max(const OpContext& ctx) { return make_arg(ctx, true); }
Result<std::unique_ptr<Op>> create_arg_min(const OpContext& ctx) { return make_arg(ctx, false); }

}  // namespace kiln
