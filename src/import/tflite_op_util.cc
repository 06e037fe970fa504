#include "import/tflite_op_util.h"

#include <algorithm>

namespace kiln::tfl {

Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
Attribute string_attr(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = std::move(v);
  return a;
}

Result<Io> operator_io(const TfliteBuilder& b, const tflite::Operator& op, size_t min_in, size_t max_in,
                       size_t num_out) {
  Io io;
  if (op.inputs()) io.in.assign(op.inputs()->begin(), op.inputs()->end());
  if (op.outputs()) io.out.assign(op.outputs()->begin(), op.outputs()->end());
  if (io.in.size() < min_in || io.in.size() > max_in)
    return invalid_model(b.where() + ": expected " + std::to_string(min_in) +
                         (max_in != min_in ? " to " + std::to_string(max_in) : "") + " inputs, got " +
                         std::to_string(io.in.size()));
  for (size_t i = 0; i < min_in; ++i)
    if (io.in[i] < 0) return invalid_model(b.where() + ": required input " + std::to_string(i) + " is omitted");
  if (io.out.size() != num_out || std::any_of(io.out.begin(), io.out.end(), [](int o) { return o < 0; }))
    return invalid_model(b.where() + ": expected " + std::to_string(num_out) + " output(s), got " +
                         std::to_string(io.out.size()));
  return io;
}

Perm layout_or_identity(TfliteBuilder& b, int index) {
  auto l = b.layout(index);
  return l ? *l : identity_perm(static_cast<size_t>(b.rank(index)));
}

// Position of TFLite axis `axis` in layout `p`.
int64_t kiln_axis(const Perm& p, int64_t axis) {
  return std::find(p.begin(), p.end(), axis) - p.begin();
}

Result<int64_t> normalize(const TfliteBuilder& b, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return invalid_model(b.where() + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

Result<std::vector<int64_t>> constant_ints(TfliteBuilder& b, int index, const char* what) {
  KILN_ASSIGN_OR_RETURN(Tensor c, b.constant(index, false));
  if (!c.defined())
    return unsupported(b.where() + ": input '" + b.tensor_name(index) + "' (" + what +
                       ") must be a constant; computed values are not supported");
  if (c.dtype() != DType::kI32 && c.dtype() != DType::kI64)
    return invalid_model(b.where() + ": " + what + " must be int32 or int64, got " + dtype_name(c.dtype()));
  std::vector<int64_t> v(static_cast<size_t>(c.size()));
  for (int64_t i = 0; i < c.size(); ++i) v[static_cast<size_t>(i)] = c.get_i64(i);
  return v;
}

int i64_constant(TfliteBuilder& b, const std::string& hint, const std::vector<int64_t>& v) {
  return b.constant_value(hint, Tensor::from_i64(v, {static_cast<int64_t>(v.size())}));
}

// Writes `op_type` into the output, with the fused activation as a separate node.
Status emit_with_activation(TfliteBuilder& b, Act act, const std::string& op_type, std::vector<int> inputs,
                            int out_tensor, const Perm& layout, std::map<std::string, Attribute> attrs) {
  KILN_ASSIGN_OR_RETURN(int out, b.output(out_tensor, layout));
  int pre = out;
  if (act != Act::NONE) pre = b.temp(b.tensor_name(out_tensor) + "/pre_activation");
  Node& n = b.add_node(op_type, std::move(inputs), {pre});
  n.attrs = std::move(attrs);
  switch (act) {
    case Act::NONE: return Status::Ok();
    case Act::RELU: b.add_node("Relu", {pre}, {out}); return Status::Ok();
    case Act::TANH: b.add_node("Tanh", {pre}, {out}); return Status::Ok();
    case Act::RELU6:
    case Act::RELU_N1_TO_1: {
      const float lo = act == Act::RELU6 ? 0.f : -1.f, hi = act == Act::RELU6 ? 6.f : 1.f;
      const int vlo = b.constant_value("clip_min", Tensor::scalar_f32(lo));
      const int vhi = b.constant_value("clip_max", Tensor::scalar_f32(hi));
      b.add_node("Clip", {pre, vlo, vhi}, {out});
      return Status::Ok();
    }
    default:
      return unsupported(b.where() + ": fused activation " + std::string(tflite::EnumNameActivationFunctionType(act)) +
                         " is not supported");
  }
}

Result<std::string> auto_pad(const TfliteBuilder& b, tflite::Padding p) {
  if (p == tflite::Padding::SAME) return std::string("SAME_UPPER");
  if (p == tflite::Padding::VALID) return std::string("VALID");
  return invalid_model(b.where() + ": unknown padding " + std::to_string(static_cast<int>(p)));
}

Status check_positive(const TfliteBuilder& b, std::initializer_list<int64_t> v, const char* what) {
  for (int64_t x : v)
    if (x <= 0) return invalid_model(b.where() + ": " + what + " must be positive, got " + std::to_string(x));
  return Status::Ok();
}

}  // namespace kiln::tfl
