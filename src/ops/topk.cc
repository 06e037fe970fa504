// TopK: the k largest (or smallest) values along an axis and their int64 indices; k is
// an attribute before opset 10, input 1 from 10. Ties keep the lower index first.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/elementwise.h"

namespace kiln {
namespace {

using TopKTypes = TypeList<float, double, int32_t, int64_t, int8_t, uint8_t, int16_t, uint16_t, uint32_t, uint64_t>;

class TopKOp final : public Op {
 public:
  TopKOp(std::string who, std::optional<int64_t> k_attr, int64_t axis, bool largest)
      : who_(std::move(who)), k_attr_(k_attr), axis_(axis), largest_(largest) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input X is missing");
    if (!visit_dtype(in[0].dtype, TopKTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": X must be numeric, got " + std::string(dtype_name(in[0].dtype)));
    const Dims& d = in[0].dims;
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()), who_));
    KILN_ASSIGN_OR_RETURN(int64_t k, k_of(in));
    if (k < 0 || k > d[static_cast<size_t>(a)])
      return invalid_argument(who_ + ": k = " + std::to_string(k) + " is out of range for axis " + std::to_string(a) +
                              " of " + dims_to_string(d));
    for (size_t i = 0; i < out.size() && i < 2; ++i) {
      out[i].dtype = i == 0 ? in[0].dtype : DType::kI64;
      out[i].dims = d;
      out[i].dims[static_cast<size_t>(a)] = k;
    }
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in), expect(out.size());
    KILN_RETURN_IF_ERROR(infer(info, expect));
    KILN_RETURN_IF_ERROR(check_outputs(out, expect, who_));
    const Dims& d = in[0].dims();
    const size_t a = static_cast<size_t>(axis_ < 0 ? axis_ + in[0].rank() : axis_);
    int64_t outer = 1, inner = 1;
    for (size_t i = 0; i < d.size(); ++i) {
      if (i < a) outer *= d[i];
      else if (i > a) inner *= d[i];
    }
    const int64_t len = d[a], k = out[0].dim(static_cast<int64_t>(a));
    std::vector<int64_t> order(static_cast<size_t>(len));
    visit_dtype(in[0].dtype(), TopKTypes{}, [&](auto tag) {
      using T = decltype(tag);
      const T* x = in[0].data<T>();
      T* v = out[0].mutable_data<T>();
      int64_t* idx = out.size() > 1 ? out[1].mutable_data<int64_t>() : nullptr;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const T* col = x + o * len * inner + i;
          std::iota(order.begin(), order.end(), int64_t{0});
          // NaN sorts as the largest value, like numpy.
          auto before = [&](int64_t p, int64_t q) {
            const T va = col[p * inner], vb = col[q * inner];
            const bool an = is_nan(va), bn = is_nan(vb);
            if (an || bn) return an && !bn ? largest_ : (!an && bn ? !largest_ : p < q);
            if (va != vb) return largest_ ? va > vb : va < vb;
            return p < q;
          };
          std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
          for (int64_t j = 0; j < k; ++j) {
            const int64_t off = (o * k + j) * inner + i;
            v[off] = col[order[static_cast<size_t>(j)] * inner];
            if (idx) idx[off] = order[static_cast<size_t>(j)];
          }
        }
    });
    return Status::Ok();
  }

 private:
  template <class T> static bool is_nan(T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
    else return false;
  }

  Result<int64_t> k_of(std::span<const TensorInfo> in) const {
    if (k_attr_) return *k_attr_;
    if (!has_in(in, 1)) return invalid_model(who_ + ": input K is missing");
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64}, who_ + ": K"));
    if (!in[1].value) return needs_value(1);
    return read_scalar_i64(*in[1].value, who_ + ": K");
  }

  std::string who_;
  std::optional<int64_t> k_attr_;
  int64_t axis_;
  bool largest_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_top_k(const OpContext& ctx) {
  const bool k_input = ctx.opset >= 10;
  KILN_RETURN_IF_ERROR(check_input_count(ctx, k_input ? 2 : 1, k_input ? 2 : 1));
  if (ctx.node.outputs.empty() || ctx.node.outputs.size() > 2)
    return invalid_model(ctx.node.describe() + ": expects outputs Values and Indices");
  std::optional<int64_t> k;
  if (!k_input) {
    KILN_ASSIGN_OR_RETURN(k, ctx.node.attr_int("k"));
  }
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", -1));
  KILN_ASSIGN_OR_RETURN(int64_t largest, ctx.node.attr_int("largest", 1));
  return std::unique_ptr<Op>(new TopKOp(ctx.node.describe(), k, axis, largest != 0));
}

}  // namespace kiln
