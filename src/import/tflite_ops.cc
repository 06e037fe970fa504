// TFLite builtin operators -> kiln nodes. Spatial ops work in NCHW (tflite_ops_spatial.cc;
// activations are transposed lazily by TfliteBuilder::get, weights permuted at import);
// elementwise ops keep whatever layout their inputs have; shape ops (RESHAPE, TRANSPOSE,
// FULLY_CONNECTED, ...) work in the TFLite order. Fused activations become separate nodes.
#include "import/tflite_ops.h"

#include <algorithm>

#include "import/tflite_op_util.h"
#include "import/tflite_tensor.h"

namespace kiln {
namespace {

using namespace tfl;

// The value of tensor `index` broadcastable against an output of rank `rank` in layout
// `p`: lower-rank constants get leading 1s and are permuted with the output.
Result<int> broadcast_operand(TfliteBuilder& b, int index, const Perm& p) {
  const size_t r = p.size();
  const size_t ir = static_cast<size_t>(b.rank(index));
  if (ir == r) return b.get(index, p);
  KILN_ASSIGN_OR_RETURN(Tensor c, b.constant(index));
  if (!c.defined() || ir > r) return internal_error(b.where() + ": operand layout mismatch");
  if (c.dtype() == DType::kF16) {
    KILN_ASSIGN_OR_RETURN(c, f16_to_f32(c));
  }
  Dims d(r - ir, 1);
  d.insert(d.end(), c.dims().begin(), c.dims().end());
  KILN_ASSIGN_OR_RETURN(c, c.reshaped(d));
  KILN_ASSIGN_OR_RETURN(c, transpose_constant(c, p));
  return b.constant_value(b.tensor_name(index) + "/broadcast", std::move(c));
}

// Layout for an elementwise op: the inputs' common layout, else TFLite order.
Perm common_layout(TfliteBuilder& b, const std::vector<int>& inputs, size_t out_rank) {
  std::optional<Perm> chosen;
  for (int i : inputs) {
    if (b.is_constant(i)) continue;
    const Perm p = layout_or_identity(b, i);
    if (p.size() != out_rank || (chosen && *chosen != p)) return identity_perm(out_rank);
    chosen = p;
  }
  return chosen ? *chosen : identity_perm(out_rank);
}

Status binary(TfliteBuilder& b, const tflite::Operator& op, const std::string& op_type, Act act) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, 2, 1));
  const size_t r = static_cast<size_t>(std::max(b.rank(io.in[0]), b.rank(io.in[1])));
  Perm p = common_layout(b, io.in, r);
  // A lower-rank computed operand cannot be permuted at import: stay in TFLite order.
  for (int i : io.in)
    if (!b.is_constant(i) && static_cast<size_t>(b.rank(i)) != r) p = identity_perm(r);
  std::vector<int> inputs;
  for (int i : io.in) {
    KILN_ASSIGN_OR_RETURN(int v, p == identity_perm(r) ? b.get(i) : broadcast_operand(b, i, p));
    inputs.push_back(v);
  }
  return emit_with_activation(b, act, op_type, inputs, io.out[0], p);
}

Status unary(TfliteBuilder& b, const tflite::Operator& op, const std::string& op_type,
             std::map<std::string, Attribute> attrs = {}) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, 1, 1));
  const Perm p = layout_or_identity(b, io.in[0]);
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], p));
  return emit_with_activation(b, Act::NONE, op_type, {x}, io.out[0], p, std::move(attrs));
}

Status clip(TfliteBuilder& b, const tflite::Operator& op, float lo, float hi) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, 1, 1));
  const Perm p = layout_or_identity(b, io.in[0]);
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], p));
  KILN_ASSIGN_OR_RETURN(int out, b.output(io.out[0], p));
  b.add_node("Clip", {x, b.constant_value("clip_min", Tensor::scalar_f32(lo)), b.constant_value("clip_max", Tensor::scalar_f32(hi))},
             {out});
  return Status::Ok();
}

Status concatenation(TfliteBuilder& b, const tflite::Operator& op) {
  KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_ConcatenationOptions(), "ConcatenationOptions"));
  const size_t n = op.inputs() ? op.inputs()->size() : 0;
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, std::max<size_t>(n, 1), std::max<size_t>(n, 1), 1));
  const int64_t r = b.rank(io.out[0]);
  for (int i : io.in)
    if (b.rank(i) != r) return invalid_model(b.where() + ": all inputs must have the output's rank " + std::to_string(r));
  KILN_ASSIGN_OR_RETURN(int64_t axis, normalize(b, o->axis(), r));
  const Perm p = common_layout(b, io.in, static_cast<size_t>(r));
  std::vector<int> inputs;
  for (int i : io.in) {
    KILN_ASSIGN_OR_RETURN(int v, b.get(i, p));
    inputs.push_back(v);
  }
  return emit_with_activation(b, o->fused_activation_function(), "Concat", inputs, io.out[0], p,
                              {{"axis", int_attr(kiln_axis(p, axis))}});
}

Status pad(TfliteBuilder& b, const tflite::Operator& op, bool v2) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, v2 ? 3 : 2, 1));
  const size_t r = static_cast<size_t>(b.rank(io.in[0]));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> pv, constant_ints(b, io.in[1], "paddings"));
  if (pv.size() != 2 * r)
    return invalid_model(b.where() + ": paddings must be [" + std::to_string(r) + ",2], has " + std::to_string(pv.size()) +
                         " values");
  const Perm p = layout_or_identity(b, io.in[0]);
  std::vector<int64_t> pads(2 * r);
  for (size_t i = 0; i < r; ++i) {
    pads[i] = pv[2 * static_cast<size_t>(p[i])];
    pads[r + i] = pv[2 * static_cast<size_t>(p[i]) + 1];
  }
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], p));
  std::vector<int> inputs = {x, i64_constant(b, b.tensor_name(io.in[1]) + "/onnx", pads)};
  if (v2 && io.has(2)) {
    KILN_ASSIGN_OR_RETURN(Tensor c, b.constant(io.in[2]));
    if (!c.defined() || c.size() != 1) return unsupported(b.where() + ": the pad value must be a constant scalar");
    if (c.dtype() == DType::kF16) {
      KILN_ASSIGN_OR_RETURN(c, f16_to_f32(c));
    }
    KILN_ASSIGN_OR_RETURN(c, c.reshaped({}));
    inputs.push_back(b.constant_value(b.tensor_name(io.in[2]), c));
  }
  return emit_with_activation(b, Act::NONE, "Pad", inputs, io.out[0], p, {{"mode", string_attr("constant")}});
}

// RESHAPE, and SQUEEZE/EXPAND_DIMS as reshapes to the output's static shape.
Status reshape(TfliteBuilder& b, const tflite::Operator& op, BO code) {
  const size_t n = op.inputs() ? op.inputs()->size() : 0;
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, std::max<size_t>(n, 1), 1));
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0]));
  KILN_ASSIGN_OR_RETURN(int out, b.output(io.out[0], identity_perm(static_cast<size_t>(b.rank(io.out[0])))));
  std::vector<int64_t> shape;
  const auto* o = op.builtin_options_as_ReshapeOptions();
  if (code == BO::RESHAPE && io.has(1) && !b.is_constant(io.in[1])) {
    // A computed shape: ONNX wants int64.
    KILN_ASSIGN_OR_RETURN(int s, b.get(io.in[1]));
    const int s64 = b.temp(b.tensor_name(io.in[1]) + "/int64");
    b.add_node("Cast", {s}, {s64}).attrs["to"] = int_attr(static_cast<int64_t>(DType::kI64));
    b.add_node("Reshape", {x, s64}, {out});
    return Status::Ok();
  }
  if (code == BO::RESHAPE && io.has(1)) {
    KILN_ASSIGN_OR_RETURN(shape, constant_ints(b, io.in[1], "shape"));
  } else if (code == BO::RESHAPE && o && o->new_shape()) {
    shape.assign(o->new_shape()->begin(), o->new_shape()->end());
  } else {
    KILN_ASSIGN_OR_RETURN(shape, b.tensor_dims(io.out[0]));
    if (std::count(shape.begin(), shape.end(), -1) > 1)
      return unsupported(b.where() + ": output shape " + dims_to_string(shape) + " has more than one dynamic dimension");
  }
  // ONNX Reshape (allowzero=0) copies the input dimension for 0; TFLite means size 0.
  if (std::count(shape.begin(), shape.end(), 0) > 0)
    return unsupported(b.where() + ": reshaping to a shape with a 0 dimension is not supported");
  b.add_node("Reshape", {x, i64_constant(b, b.tensor_name(io.out[0]) + "/shape", shape)}, {out});
  return Status::Ok();
}

Status fully_connected(TfliteBuilder& b, const tflite::Operator& op) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, 3, 1));
  KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_FullyConnectedOptions(), "FullyConnectedOptions"));
  if (o->weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT)
    return unsupported(b.where() + ": shuffled weight formats are not supported");
  KILN_ASSIGN_OR_RETURN(Dims wd, b.tensor_dims(io.in[1]));
  if (wd.size() != 2 || wd[1] <= 0) return invalid_model(b.where() + ": weights must be [units, depth], got " + dims_to_string(wd));
  // TFLite flattens the input to [-1, depth]; keep_num_dims restores the leading dims.
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0]));
  const int flat = b.temp(b.tensor_name(io.in[0]) + "/flat");
  b.add_node("Reshape", {x, i64_constant(b, "fc_shape", {-1, wd[1]})}, {flat});
  KILN_ASSIGN_OR_RETURN(int w, b.get(io.in[1]));
  std::vector<int> inputs = {flat, w};
  if (io.has(2)) {
    KILN_ASSIGN_OR_RETURN(int bias, b.get(io.in[2]));
    inputs.push_back(bias);
  }
  const int out_rank = b.rank(io.out[0]);
  const Act act = o->fused_activation_function();
  if (out_rank == 2)
    return emit_with_activation(b, act, "Gemm", inputs, io.out[0], identity_perm(2), {{"transB", int_attr(1)}});
  KILN_ASSIGN_OR_RETURN(Dims od, b.tensor_dims(io.out[0]));
  const int g = b.temp(b.tensor_name(io.out[0]) + "/gemm");
  b.add_node("Gemm", inputs, {g}).attrs["transB"] = int_attr(1);
  return emit_with_activation(b, act, "Reshape", {g, i64_constant(b, "fc_out_shape", od)}, io.out[0],
                              identity_perm(od.size()));
}

Status softmax(TfliteBuilder& b, const tflite::Operator& op) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_SoftmaxOptions(), "SoftmaxOptions"));
  const Perm p = layout_or_identity(b, io.in[0]);
  if (p.empty()) return invalid_model(b.where() + ": softmax of a scalar");
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], p));
  if (o->beta() != 1.f) {
    const int scaled = b.temp(b.tensor_name(io.in[0]) + "/beta");
    b.add_node("Mul", {x, b.constant_value("softmax_beta", Tensor::scalar_f32(o->beta()))}, {scaled});
    x = scaled;
  }
  return emit_with_activation(b, Act::NONE, "Softmax", {x}, io.out[0], p,
                              {{"axis", int_attr(kiln_axis(p, static_cast<int64_t>(p.size()) - 1))}});
}

Status reduce(TfliteBuilder& b, const tflite::Operator& op, const std::string& op_type) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, 2, 1));
  const auto* o = op.builtin_options_as_ReducerOptions();
  const bool keep = o && o->keep_dims();
  const Perm p = layout_or_identity(b, io.in[0]);
  const int64_t r = static_cast<int64_t>(p.size());
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> axes, constant_ints(b, io.in[1], "axes"));
  std::vector<bool> reduced(static_cast<size_t>(r), false);
  std::vector<int64_t> kaxes;
  for (int64_t a : axes) {
    KILN_ASSIGN_OR_RETURN(int64_t n, normalize(b, a, r));
    if (!reduced[static_cast<size_t>(n)]) kaxes.push_back(kiln_axis(p, n));
    reduced[static_cast<size_t>(n)] = true;
  }
  std::sort(kaxes.begin(), kaxes.end());
  // Without keep_dims the surviving dims keep their kiln order; renumber their TFLite axes.
  Perm out_p = p;
  if (!keep) {
    out_p.clear();
    for (int64_t a : p)
      if (!reduced[static_cast<size_t>(a)]) {
        int64_t rank_of = 0;
        for (int64_t t = 0; t < a; ++t) rank_of += reduced[static_cast<size_t>(t)] ? 0 : 1;
        out_p.push_back(rank_of);
      }
  }
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], p));
  std::vector<int> inputs = {x};
  std::map<std::string, Attribute> attrs = {{"keepdims", int_attr(keep ? 1 : 0)}};
  if (op_type == "ReduceSum") inputs.push_back(i64_constant(b, "reduce_axes", kaxes));  // an input since opset 13
  else attrs["axes"] = ints_attr(kaxes);
  return emit_with_activation(b, Act::NONE, op_type, inputs, io.out[0], out_p, attrs);
}

Status transpose(TfliteBuilder& b, const tflite::Operator& op) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, 2, 1));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> perm, constant_ints(b, io.in[1], "perm"));
  const int64_t r = b.rank(io.in[0]);
  std::vector<bool> seen(static_cast<size_t>(r), false);
  if (static_cast<int64_t>(perm.size()) != r) return invalid_model(b.where() + ": perm length differs from the rank");
  for (int64_t& a : perm) {
    KILN_ASSIGN_OR_RETURN(a, normalize(b, a, r));
    if (seen[static_cast<size_t>(a)]) return invalid_model(b.where() + ": perm is not a permutation");
    seen[static_cast<size_t>(a)] = true;
  }
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0]));
  return emit_with_activation(b, Act::NONE, "Transpose", {x}, io.out[0], identity_perm(perm.size()),
                              {{"perm", ints_attr(perm)}});
}

// DEQUANTIZE and DENSIFY of constants are evaluated here, so the graph sees float weights.
Status fold_constant_op(TfliteBuilder& b, const tflite::Operator& op, BO code) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, 1, 1));
  KILN_ASSIGN_OR_RETURN(Tensor c, b.constant(io.in[0], /*dequantize=*/code == BO::DEQUANTIZE));
  if (!c.defined()) {
    return unsupported(b.where() + ": input '" + b.tensor_name(io.in[0]) +
                       "' is computed at run time; kiln folds " + tflite::EnumNameBuiltinOperator(code) +
                       " of constant weights only (integer activations of fully quantized models are not supported)");
  }
  if (code == BO::DEQUANTIZE && c.dtype() == DType::kF16) {
    KILN_ASSIGN_OR_RETURN(c, f16_to_f32(c));
  }
  if (code == BO::DEQUANTIZE && c.dtype() != DType::kF32)
    return unsupported(b.where() + ": cannot dequantize " + dtype_name(c.dtype()) + " without quantization parameters");
  b.set_constant(io.out[0], std::move(c));
  return Status::Ok();
}

}  // namespace

bool tflite_op_supported(BO code) {
  switch (code) {
    case BO::ADD: case BO::SUB: case BO::MUL: case BO::DIV: case BO::MAXIMUM: case BO::MINIMUM: case BO::PRELU:
    case BO::CONV_2D: case BO::DEPTHWISE_CONV_2D: case BO::MAX_POOL_2D: case BO::AVERAGE_POOL_2D:
    case BO::RELU: case BO::RELU6: case BO::RELU_N1_TO_1: case BO::LOGISTIC: case BO::TANH: case BO::HARD_SWISH:
    case BO::LEAKY_RELU: case BO::ELU: case BO::EXP: case BO::ABS: case BO::NEG: case BO::SQRT: case BO::LOG:
    case BO::FLOOR: case BO::CEIL:
    case BO::CONCATENATION: case BO::PAD: case BO::PADV2: case BO::RESHAPE: case BO::SQUEEZE: case BO::EXPAND_DIMS:
    case BO::FULLY_CONNECTED: case BO::SOFTMAX: case BO::MEAN: case BO::SUM: case BO::REDUCE_MAX: case BO::REDUCE_MIN:
    case BO::TRANSPOSE: case BO::RESIZE_BILINEAR: case BO::RESIZE_NEAREST_NEIGHBOR: case BO::DEQUANTIZE:
    case BO::DENSIFY: case BO::DEPTH_TO_SPACE: case BO::SPACE_TO_DEPTH:
      return true;
    default:
      return false;
  }
}

Status convert_tflite_op(TfliteBuilder& b, BO code, const tflite::Operator& op) {
  // Integer activations mean a fully quantized model: kiln has no quantized kernels.
  if (code != BO::DEQUANTIZE && code != BO::DENSIFY && op.inputs()) {
    for (int i : *op.inputs()) {
      if (i < 0 || b.is_constant(i)) continue;
      KILN_ASSIGN_OR_RETURN(const tflite::Tensor* t, b.tensor(i));
      const auto ty = t->type();
      if (ty == tflite::TensorType::INT8 || ty == tflite::TensorType::UINT8 || ty == tflite::TensorType::INT16 ||
          ty == tflite::TensorType::FLOAT16)
        return unsupported(b.where() + ": input '" + b.tensor_name(i) + "' is a " + tflite_type_name(ty) +
                           " activation; fully quantized / float16-activation models are not supported (weights "
                           "may be fp16 or int8, activations must be float32)");
    }
  }
  auto fused = [&](auto* o) { return o ? o->fused_activation_function() : Act::NONE; };
  switch (code) {
    case BO::CONV_2D: return conv(b, op, false);
    case BO::DEPTHWISE_CONV_2D: return conv(b, op, true);
    case BO::MAX_POOL_2D: return pool(b, op, true);
    case BO::AVERAGE_POOL_2D: return pool(b, op, false);
    case BO::ADD: return binary(b, op, "Add", fused(op.builtin_options_as_AddOptions()));
    case BO::SUB: return binary(b, op, "Sub", fused(op.builtin_options_as_SubOptions()));
    case BO::MUL: return binary(b, op, "Mul", fused(op.builtin_options_as_MulOptions()));
    case BO::DIV: return binary(b, op, "Div", fused(op.builtin_options_as_DivOptions()));
    case BO::MAXIMUM: return binary(b, op, "Max", Act::NONE);
    case BO::MINIMUM: return binary(b, op, "Min", Act::NONE);
    case BO::PRELU: return binary(b, op, "PRelu", Act::NONE);
    case BO::RELU: return unary(b, op, "Relu");
    case BO::RELU6: return clip(b, op, 0.f, 6.f);
    case BO::RELU_N1_TO_1: return clip(b, op, -1.f, 1.f);
    case BO::LOGISTIC: return unary(b, op, "Sigmoid");
    case BO::TANH: return unary(b, op, "Tanh");
    case BO::HARD_SWISH: return unary(b, op, "HardSwish");
    case BO::ELU: return unary(b, op, "Elu", {{"alpha", float_attr(1.f)}});
    case BO::EXP: return unary(b, op, "Exp");
    case BO::ABS: return unary(b, op, "Abs");
    case BO::NEG: return unary(b, op, "Neg");
    case BO::SQRT: return unary(b, op, "Sqrt");
    case BO::LOG: return unary(b, op, "Log");
    case BO::FLOOR: return unary(b, op, "Floor");
    case BO::CEIL: return unary(b, op, "Ceil");
    case BO::LEAKY_RELU: {
      const auto* o = op.builtin_options_as_LeakyReluOptions();
      return unary(b, op, "LeakyRelu", {{"alpha", float_attr(o ? o->alpha() : 0.2f)}});
    }
    case BO::CONCATENATION: return concatenation(b, op);
    case BO::PAD: return pad(b, op, false);
    case BO::PADV2: return pad(b, op, true);
    case BO::RESHAPE: case BO::SQUEEZE: case BO::EXPAND_DIMS: return reshape(b, op, code);
    case BO::FULLY_CONNECTED: return fully_connected(b, op);
    case BO::SOFTMAX: return softmax(b, op);
    case BO::MEAN: return reduce(b, op, "ReduceMean");
    case BO::SUM: return reduce(b, op, "ReduceSum");
    case BO::REDUCE_MAX: return reduce(b, op, "ReduceMax");
    case BO::REDUCE_MIN: return reduce(b, op, "ReduceMin");
    case BO::TRANSPOSE: return transpose(b, op);
    case BO::RESIZE_BILINEAR: return resize(b, op, true);
    case BO::RESIZE_NEAREST_NEIGHBOR: return resize(b, op, false);
    case BO::DEPTH_TO_SPACE: return depth_space(b, op, true);
    case BO::SPACE_TO_DEPTH: return depth_space(b, op, false);
    case BO::DEQUANTIZE: case BO::DENSIFY: return fold_constant_op(b, op, code);
    default:
      return unsupported(b.where() + ": not supported");
  }
}

}  // namespace kiln