#include "ops/op.h"

namespace kiln {

const Tensor* OpContext::constant_input(size_t i) const {
  if (!has_input(i)) return nullptr;
  const Value& v = model.values[static_cast<size_t>(node.inputs[i])];
  return v.data ? &*v.data : nullptr;
}

Status needs_value(size_t input_index) {
  return unsupported("needs the value of input " + std::to_string(input_index));
}

bool is_needs_value(const Status& s) {
  return s.code() == Code::kUnsupported && s.message().rfind("needs the value of input", 0) == 0;
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank)
    return invalid_argument(what + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

Result<Dims> broadcast_dims(const Dims& a, const Dims& b) {
  size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1)
      return invalid_argument("shapes " + dims_to_string(a) + " and " + dims_to_string(b) + " cannot be broadcast");
    out[i] = x == 1 ? y : x;
  }
  return out;
}

std::vector<int64_t> broadcast_strides(const Dims& dims, const Dims& out_dims) {
  size_t r = out_dims.size(), off = r - dims.size();
  std::vector<int64_t> s(r, 0);
  int64_t stride = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    s[i + off] = dims[i] == 1 ? 0 : stride;
    stride *= dims[i];
  }
  return s;
}

Result<std::vector<int64_t>> read_ints(const Tensor& t, const std::string& what) {
  if (t.dtype() != DType::kI64 && t.dtype() != DType::kI32)
    return invalid_argument(what + " must be int64 or int32, got " + dtype_name(t.dtype()));
  if (t.rank() > 1) return invalid_argument(what + " must be 1-D, got shape " + dims_to_string(t.dims()));
  std::vector<int64_t> r(static_cast<size_t>(t.size()));
  for (int64_t i = 0; i < t.size(); ++i) r[static_cast<size_t>(i)] = t.get_i64(i);
  return r;
}

Status check_input_count(const OpContext& ctx, int min, int max) {
  int n = ctx.node.num_inputs();
  if (n < min || n > max)
    return invalid_model(ctx.node.describe() + ": expects " + std::to_string(min) +
                         (min == max ? "" : ".." + std::to_string(max)) + " inputs, got " + std::to_string(n));
  return Status::Ok();
}

Status expect_dtype(const TensorInfo& t, std::initializer_list<DType> allowed, const std::string& what) {
  for (DType d : allowed)
    if (t.dtype == d) return Status::Ok();
  std::string names;
  for (DType d : allowed) names += std::string(names.empty() ? "" : "/") + dtype_name(d);
  return invalid_argument(what + " must be " + names + ", got " + dtype_name(t.dtype));
}

}  // namespace kiln
