// OneHot: indices -> a new axis of size depth holding values[1] at the index and
// values[0] elsewhere. Negative indices count from depth; out-of-range ones give a row
// of values[0], as ONNX specifies.
#include <cmath>
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class OneHotOp final : public Op {
 public:
  OneHotOp(std::string who, int64_t axis) : who_(std::move(who)), axis_(axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    for (size_t i = 0; i < 3; ++i)
      if (!has_in(in, i)) return invalid_model(who_ + ": inputs indices, depth and values are required");
    if (!visit_dtype(in[0].dtype, NumericTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": indices must be numeric, got " + std::string(dtype_name(in[0].dtype)));
    if (num_elements(in[2].dims) != 2 || in[2].dims.size() != 1)
      return invalid_argument(who_ + ": values must be [off_value, on_value], got shape " + dims_to_string(in[2].dims));
    const size_t es = dtype_size(in[2].dtype);
    if (es == 0 || es > 8) return invalid_argument(who_ + ": unsupported values dtype " + dtype_name(in[2].dtype));
    if (!in[1].value) return needs_value(1);
    KILN_ASSIGN_OR_RETURN(double depth_f, read_scalar_f64(*in[1].value, who_ + ": depth"));
    if (!(depth_f >= 1) || depth_f > static_cast<double>(kMaxTensorBytes))
      return invalid_argument(who_ + ": depth must be at least 1, got " + std::to_string(depth_f));
    const int64_t depth = static_cast<int64_t>(depth_f);
    const Dims& d = in[0].dims;
    KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis_, static_cast<int64_t>(d.size()) + 1, who_));
    Dims o = d;
    o.insert(o.begin() + a, depth);
    KILN_RETURN_IF_ERROR(checked_num_elements(o, who_).status());
    out[0].dtype = in[2].dtype;
    out[0].dims = std::move(o);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& od = out[0].dims();
    const int64_t a = axis_ < 0 ? axis_ + static_cast<int64_t>(od.size()) : axis_;
    const int64_t depth = od[static_cast<size_t>(a)];
    int64_t inner = 1;
    for (size_t i = static_cast<size_t>(a) + 1; i < od.size(); ++i) inner *= od[i];
    const size_t es = dtype_size(out[0].dtype());
    const uint8_t* vals = static_cast<const uint8_t*>(in[2].raw());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    for (int64_t i = 0, n = out[0].size(); i < n; ++i) std::memcpy(y + static_cast<size_t>(i) * es, vals, es);
    for (int64_t j = 0, n = in[0].size(); j < n; ++j) {
      const double v = in[0].get_f64(j);
      if (!std::isfinite(v)) continue;
      int64_t k = static_cast<int64_t>(std::fmax(std::fmin(v, 1e15), -1e15));
      if (k < 0) k += depth;
      if (k < 0 || k >= depth) continue;
      const int64_t o = j / inner, i = j % inner;
      std::memcpy(y + static_cast<size_t>((o * depth + k) * inner + i) * es, vals + es, es);
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_one_hot(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", -1));
  return std::unique_ptr<Op>(new OneHotOp(ctx.node.describe(), axis));
}

}  // namespace kiln
