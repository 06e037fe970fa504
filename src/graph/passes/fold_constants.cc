#include "graph/passes/fold_constants.h"

#include <algorithm>

#include "graph/passes/eliminate_dead.h"
#include "graph/shape_inference.h"
#include "ops/registry.h"

namespace kiln {
namespace {

bool is_nondeterministic(const Node& n) {
  static const char* kRandom[] = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                  "Multinomial", "Bernoulli"};
  for (const char* r : kRandom)
    if (n.op_type == r) return true;
  return false;
}

void set_constant(Value& v, Tensor t) {
  v.dtype = t.dtype();
  v.shape = shape_from_dims(t.dims());
  v.data = std::move(t);
}

// Shape / Size need only the input's dims, not its data.
bool fold_shape_of(Model& m, const Node& node) {
  if (node.num_inputs() != 1 || node.outputs.size() != 1 || node.outputs[0] == kNoValue) return false;
  const Value& in = m.values[static_cast<size_t>(node.inputs[0])];
  Dims dims;
  if (in.data) dims = in.data->dims();
  else if (in.shape && shape_is_fixed(*in.shape)) dims = shape_dims(*in.shape);
  else return false;
  const int64_t rank = static_cast<int64_t>(dims.size());
  Value& out = m.values[static_cast<size_t>(node.outputs[0])];
  if (node.op_type == "Size") {
    set_constant(out, Tensor::from_i64({num_elements(dims)}, {}));
    return true;
  }
  auto start = node.attr_int("start", 0), end = node.attr_int("end", rank);
  if (!start.ok() || !end.ok()) return false;
  auto clamp = [&](int64_t x) { return std::clamp(x < 0 ? x + rank : x, int64_t{0}, rank); };
  int64_t s = clamp(*start), e = clamp(*end);
  std::vector<int64_t> v;
  for (int64_t i = s; i < e; ++i) v.push_back(dims[static_cast<size_t>(i)]);
  set_constant(out, Tensor::from_i64(v, {static_cast<int64_t>(v.size())}));
  return true;
}

// Evaluates a node whose inputs are all constants. Any failure leaves it for run time.
bool fold_node(Model& m, const Node& node, const FoldOptions& options) {
  // int8 weights stay int8, however small: fuse_qdq and import_qdq_weights hand them to the
  // int8 ops (dequantized, a small depthwise layer would drop out of a static int8 group).
  if (node.op_type == "DequantizeLinear" && node.domain.empty() && !node.inputs.empty() && node.inputs[0] != kNoValue) {
    const Value& q = m.values[static_cast<size_t>(node.inputs[0])];
    if (q.data && (q.data->dtype() == DType::kI8 || q.data->dtype() == DType::kU8)) return false;
  }
  std::vector<TensorInfo> info(node.inputs.size());
  std::vector<Tensor> in(node.inputs.size());
  uint64_t in_bytes = 0, out_bytes = 0;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == kNoValue) continue;
    const Value& v = m.values[static_cast<size_t>(node.inputs[i])];
    if (!v.data) return false;
    in[i] = *v.data;
    in_bytes += v.data->bytes();
    info[i] = TensorInfo{v.data->dtype(), v.data->dims(), &*v.data};
  }
  OpContext ctx{node, m, m.opset};
  auto op = create_op(ctx);
  if (!op.ok()) return false;
  std::vector<TensorInfo> out_info(node.outputs.size());
  if (!(*op)->infer(info, out_info).ok()) return false;
  std::vector<Tensor> out(node.outputs.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out_info[i].present()) {
      if (node.outputs[i] != kNoValue) return false;
      continue;
    }
    uint64_t bytes = dtype_size(out_info[i].dtype);
    for (int64_t d : out_info[i].dims) {
      if (d < 0) return false;
      bytes *= static_cast<uint64_t>(d);
      if (bytes > options.max_output_bytes) return false;
    }
    out_bytes += bytes;
    if (!options.allow_growth && out_bytes > std::max<uint64_t>(in_bytes, options.small_output_bytes)) return false;
    if ((*op)->is_view()) continue;
    auto t = Tensor::make(out_info[i].dtype, out_info[i].dims);
    if (!t.ok()) return false;
    out[i] = std::move(t).value();
  }
  if (!(*op)->run(in, out).ok()) return false;
  for (size_t i = 0; i < out.size(); ++i)
    if (node.outputs[i] != kNoValue && !out[i].defined()) return false;
  for (size_t i = 0; i < out.size(); ++i)
    if (node.outputs[i] != kNoValue) set_constant(m.values[static_cast<size_t>(node.outputs[i])], std::move(out[i]));
  return true;
}

int fold_graph(Model& m, Graph& g, const FoldOptions& options) {
  int folded = 0;
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (Node& node : g.nodes) {
    bool has_graph = false;
    for (auto& [name, a] : node.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) {
        has_graph = true;
        folded += fold_graph(m, *a.g, options);
      }
    bool done = false;
    if (!has_graph && node.domain.empty() && !is_control_flow(node.op_type) && !is_nondeterministic(node)) {
      if (node.op_type == "Shape" || node.op_type == "Size") done = fold_shape_of(m, node);
      if (!done) done = fold_node(m, node, options);
    }
    if (done) ++folded;
    else kept.push_back(std::move(node));
  }
  g.nodes = std::move(kept);
  return folded;
}

}  // namespace

Status fold_constants(Model& model, const FoldOptions& options, FoldStats* stats) {
  int folded = 0;
  for (int round = 0; round < options.max_rounds; ++round) {
    KILN_RETURN_IF_ERROR(infer_shapes(model));
    int n = fold_graph(model, model.graph, options);
    folded += n;
    if (n == 0) break;
  }
  DeadStats dead;
  KILN_RETURN_IF_ERROR(eliminate_dead(model, &dead));
  // Shapes of values downstream of the last round's constants.
  KILN_RETURN_IF_ERROR(infer_shapes(model));
  if (stats) {
    stats->folded_nodes += folded;
    stats->removed_nodes += dead.removed_nodes;
    stats->removed_values += dead.removed_values;
  }
  return Status::Ok();
}

}  // namespace kiln
