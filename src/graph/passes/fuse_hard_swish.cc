// fuse_hard_swish: the hard-swish PaddlePaddle (and some PyTorch) exports spell out,
//   y = x * Clip(x + 3, 0, 6) / 6   (or * 0.16667),
// becomes HardSwish(x), which fuse_activation can then fold into a Conv (passes.h).
#include <limits>

#include "graph/passes/passes.h"

namespace kiln {
namespace {

// Clip bounds when constant (attributes before opset 11, inputs from 11).
bool clip_bounds(const Model& m, const Node& n, float& lo, float& hi) {
  lo = std::numeric_limits<float>::lowest();
  hi = std::numeric_limits<float>::max();
  if (m.opset < 11) {
    auto a = n.attr_float("min", lo), b = n.attr_float("max", hi);
    if (!a.ok() || !b.ok() || n.num_inputs() != 1) return false;
    lo = *a;
    hi = *b;
    return true;
  }
  for (size_t i = 1; i < 3; ++i) {
    if (input_of(n, i) == kNoValue) continue;
    auto v = scalar_of(m, n.inputs[i]);
    if (!v) return false;
    (i == 1 ? lo : hi) = *v;
  }
  return true;
}

Node* sole_consumer(const GraphView& view, const Graph& g, int v) {
  if (view.uses(v) != 1 || view.is_graph_output(v)) return nullptr;
  std::vector<Node*> c = view.consumers(v);
  return c.size() == 1 && owns(g, c[0]) && c[0]->domain.empty() && c[0]->num_inputs() == 2 ? c[0] : nullptr;
}

}  // namespace

Result<PassResult> fuse_hard_swish(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& clip : g->nodes) {
      if (clip.op_type != "Clip" || !clip.domain.empty() || clip.outputs.size() != 1 || clip.inputs.empty()) continue;
      float lo, hi;
      if (!clip_bounds(m, clip, lo, hi) || lo != 0.f || hi != 6.f) continue;
      Node* add = view.sole_producer(clip.inputs[0], "Add");
      if (!add || !owns(*g, add) || add->num_inputs() != 2) continue;
      int x = kNoValue;
      for (int side = 0; side < 2 && x == kNoValue; ++side) {
        auto three = scalar_of(m, add->inputs[static_cast<size_t>(1 - side)]);
        if (three && *three == 3.f) x = add->inputs[static_cast<size_t>(side)];
      }
      if (x == kNoValue || !may_be_f32(m, x)) continue;
      Node* mul = sole_consumer(view, *g, clip.outputs[0]);
      if (!mul || mul->op_type != "Mul" || other_input(*mul, clip.outputs[0]) != x) continue;
      Node* div = sole_consumer(view, *g, mul->outputs[0]);
      if (!div) continue;
      auto c = div->inputs[0] == mul->outputs[0] ? scalar_of(m, div->inputs[1]) : std::nullopt;
      const bool ok = c && ((div->op_type == "Div" && *c == 6.f) || (div->op_type == "Mul" && near(*c, 1.f / 6.f, 1e-5f)));
      if (!ok) continue;
      const int y = div->outputs[0];
      kill(*add);
      kill(clip);
      kill(*mul);
      div->op_type = "HardSwish";
      div->attrs.clear();
      div->inputs = {x};
      div->outputs = {y};
      view.refresh();
      r.add("HardSwish");
    }
  return r;
}

}  // namespace kiln
