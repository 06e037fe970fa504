#include "graph/shape_inference.h"

#include "ops/registry.h"

namespace kiln {
namespace {

// Merges the two branch results of an If into what is known for sure about its output.
void merge_branch_outputs(const Value& a, const Value& b, Value& out) {
  if (a.dtype != DType::kUndefined && a.dtype == b.dtype) out.dtype = a.dtype;
  if (!a.shape || !b.shape || a.shape->size() != b.shape->size()) return;
  Shape s(a.shape->size());
  for (size_t i = 0; i < s.size(); ++i) {
    const Dim &x = (*a.shape)[i], &y = (*b.shape)[i];
    if (x.fixed() && y.fixed() && x.size == y.size) s[i] = x;
    else if (!x.fixed() && !y.fixed() && x.param == y.param) s[i] = x;
  }
  out.shape = s;
}

Status infer_graph(Model& m, Graph& g);

Status infer_if(Model& m, Node& node) {
  const Graph* branches[2] = {nullptr, nullptr};
  for (auto& [name, a] : node.attrs) {
    if (a.kind != Attribute::Kind::kGraph || !a.g) continue;
    KILN_RETURN_IF_ERROR(infer_graph(m, *a.g));
    if (name == "then_branch") branches[0] = a.g.get();
    if (name == "else_branch") branches[1] = a.g.get();
  }
  if (!branches[0] || !branches[1]) return Status::Ok();  // the executor reports it
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    int o = node.outputs[i];
    if (o == kNoValue || i >= branches[0]->outputs.size() || i >= branches[1]->outputs.size()) continue;
    Value merged;
    merge_branch_outputs(m.values[branches[0]->outputs[i]], m.values[branches[1]->outputs[i]], merged);
    Value& v = m.values[o];
    if (merged.dtype != DType::kUndefined) v.dtype = merged.dtype;
    if (merged.shape && (!v.shape || shape_is_fixed(*merged.shape))) v.shape = merged.shape;
  }
  return Status::Ok();
}

Status infer_node(Model& m, Node& node) {
  // What is known about each input: full (dtype + fixed dims), or dtype + rank only.
  std::vector<TensorInfo> in(node.inputs.size());
  bool full = true, typed = true;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    int vi = node.inputs[i];
    if (vi == kNoValue) continue;
    const Value& v = m.values[static_cast<size_t>(vi)];
    if (v.data) {
      in[i] = TensorInfo{v.data->dtype(), v.data->dims(), &*v.data};
      continue;
    }
    if (v.dtype == DType::kUndefined || !v.shape) {
      full = typed = false;
      break;
    }
    in[i].dtype = v.dtype;
    if (!shape_is_fixed(*v.shape)) {
      full = false;
      // Placeholder sizes let infer() compute the output dtype; dims are then discarded.
      for (const Dim& d : *v.shape) in[i].dims.push_back(d.fixed() ? d.size : 1);
    } else {
      in[i].dims = shape_dims(*v.shape);
    }
  }
  if (!typed) return Status::Ok();

  OpContext ctx{node, m, m.opset};
  auto op = create_op(ctx);
  if (!op.ok()) {
    Code c = op.status().code();
    return c == Code::kInvalidModel || c == Code::kInvalidArgument ? op.status() : Status::Ok();
  }
  std::vector<TensorInfo> out(node.outputs.size());
  Status s = (*op)->infer(in, out);
  if (!s.ok()) {
    if (!full || s.code() == Code::kUnsupported || s.code() == Code::kInternal) return Status::Ok();
    return s.message().rfind("node '", 0) == 0 ? s : s.with_context(node.describe());
  }
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    int o = node.outputs[i];
    if (o == kNoValue || !out[i].present()) continue;
    Value& v = m.values[static_cast<size_t>(o)];
    if (v.data) continue;
    v.dtype = out[i].dtype;
    if (!full) continue;
    bool valid = true;
    for (int64_t d : out[i].dims) valid = valid && d >= 0;
    if (valid) v.shape = shape_from_dims(out[i].dims);
  }
  return Status::Ok();
}

Status infer_graph(Model& m, Graph& g) {
  for (Node& node : g.nodes) {
    if (node.domain.empty() && is_control_flow(node.op_type)) {
      if (node.op_type == "If") KILN_RETURN_IF_ERROR(infer_if(m, node));
      continue;
    }
    bool has_graph = false;
    for (auto& [name, a] : node.attrs) has_graph = has_graph || a.kind == Attribute::Kind::kGraph;
    if (has_graph) continue;  // unknown control flow: nothing to say
    KILN_RETURN_IF_ERROR(infer_node(m, node));
  }
  return Status::Ok();
}

}  // namespace

Status infer_shapes(Model& model) { return infer_graph(model, model.graph); }

}  // namespace kiln
