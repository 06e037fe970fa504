#include "graph/passes/inline_constant_if.h"

#include <algorithm>

namespace kiln {
namespace {

// Replaces value `from` by `to` wherever g (and its subgraphs) reads or writes it.
void rename_value(Graph& g, int from, int to) {
  auto swap = [&](std::vector<int>& v) { std::replace(v.begin(), v.end(), from, to); };
  swap(g.outputs);
  for (Node& n : g.nodes) {
    swap(n.inputs);
    swap(n.outputs);
    for (auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) rename_value(*a.g, from, to);
  }
}

// The constant condition of an If, if it has one.
std::optional<bool> constant_condition(const Model& m, const Node& n) {
  if (!n.domain.empty() || n.op_type != "If" || n.inputs.empty() || n.inputs[0] == kNoValue) return std::nullopt;
  const Value& c = m.values[static_cast<size_t>(n.inputs[0])];
  if (!c.data || c.data->size() != 1) return std::nullopt;
  return c.data->get_f64(0) != 0;
}

Result<int> inline_graph(Model& m, Graph& g) {
  int inlined = 0;
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (Node& node : g.nodes) {
    for (auto& [name, a] : node.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) {
        KILN_ASSIGN_OR_RETURN(int k, inline_graph(m, *a.g));
        inlined += k;
      }
    const std::optional<bool> cond = constant_condition(m, node);
    const Attribute* a = cond ? node.attr(*cond ? "then_branch" : "else_branch") : nullptr;
    if (!a || a->kind != Attribute::Kind::kGraph || !a->g) {
      kept.push_back(std::move(node));
      continue;
    }
    Graph branch = *a->g;  // a copy: the attribute may be shared with another node
    if (branch.outputs.size() != node.outputs.size())
      return invalid_model(node.describe() + ": branch has " + std::to_string(branch.outputs.size()) +
                           " outputs, node has " + std::to_string(node.outputs.size()));
    std::vector<Node> identities;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const int want = node.outputs[i], have = branch.outputs[i];
      if (want == kNoValue) continue;
      const bool produced_here = std::any_of(branch.nodes.begin(), branch.nodes.end(), [&](const Node& bn) {
        return std::find(bn.outputs.begin(), bn.outputs.end(), have) != bn.outputs.end();
      });
      const bool unique = std::count(branch.outputs.begin(), branch.outputs.end(), have) == 1;
      if (produced_here && unique) {
        // The branch node now writes the If's output directly.
        rename_value(branch, have, want);
        Value& w = m.values[static_cast<size_t>(want)];
        const Value& h = m.values[static_cast<size_t>(have)];
        if (w.dtype == DType::kUndefined) w.dtype = h.dtype;
        if (!w.shape) w.shape = h.shape;
        continue;
      }
      // An outer value, a constant or a value listed twice: copy it through an Identity.
      Node id;
      id.name = node.name + "/inlined_output_" + std::to_string(i);
      id.op_type = "Identity";
      id.inputs = {have};
      id.outputs = {want};
      identities.push_back(std::move(id));
    }
    for (Node& bn : branch.nodes) kept.push_back(std::move(bn));
    for (Node& id : identities) kept.push_back(std::move(id));
    ++inlined;
  }
  g.nodes = std::move(kept);
  return inlined;
}

}  // namespace

Result<int> inline_constant_if(Model& model) { return inline_graph(model, model.graph); }

}  // namespace kiln
