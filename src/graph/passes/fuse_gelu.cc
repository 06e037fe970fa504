// fuse_gelu: the exact GELU of PyTorch / TF exports, x * 0.5 * (1 + Erf(x / sqrt(2))),
// matched from its Erf in the orderings exporters produce (passes.h):
//   e = Erf(x / 1.41421 | x * 0.70711); a = e + 1;
//   y = (x * a) * 0.5 | (x * 0.5) * a | x * (a * 0.5)
// becomes Gelu(x) (approximate = "none").
#include "graph/passes/passes.h"

namespace kiln {
namespace {

// The single consumer of v in g when it has op type op, else nullptr.
Node* sole_consumer(const GraphView& view, const Graph& g, int v, const char* op) {
  if (view.uses(v) != 1 || view.is_graph_output(v)) return nullptr;
  std::vector<Node*> c = view.consumers(v);
  if (c.size() != 1 || !owns(g, c[0]) || c[0]->op_type != op || !c[0]->domain.empty() || c[0]->num_inputs() != 2)
    return nullptr;
  return c[0];
}

bool is_half(const Model& m, int v) {
  auto s = scalar_of(m, v);
  return s && near(*s, 0.5f);
}

}  // namespace

Result<PassResult> fuse_gelu(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& erf : g->nodes) {
      if (erf.op_type != "Erf" || !erf.domain.empty() || erf.num_inputs() != 1 || erf.outputs.size() != 1) continue;
      // x / sqrt(2) or x * (1 / sqrt(2))
      Node* scale = view.producer(erf.inputs[0]);
      if (!scale || !owns(*g, scale) || view.uses(erf.inputs[0]) != 1 || view.is_graph_output(erf.inputs[0]) ||
          scale->num_inputs() != 2 || !scale->domain.empty())
        continue;
      int x = kNoValue;
      if (scale->op_type == "Div") {
        auto c = scalar_of(m, scale->inputs[1]);
        if (c && near(*c, 1.41421356f, 1e-5f)) x = scale->inputs[0];
      } else if (scale->op_type == "Mul") {
        for (int side = 0; side < 2 && x == kNoValue; ++side) {
          auto c = scalar_of(m, scale->inputs[static_cast<size_t>(1 - side)]);
          if (c && near(*c, 0.70710678f, 1e-5f)) x = scale->inputs[static_cast<size_t>(side)];
        }
      }
      if (x == kNoValue || !may_be_f32(m, x)) continue;
      Node* plus = sole_consumer(view, *g, erf.outputs[0], "Add");
      if (!plus) continue;
      auto one = scalar_of(m, other_input(*plus, erf.outputs[0]));
      if (!one || *one != 1.f) continue;
      const int a = plus->outputs[0];
      // The two Muls combining x, a and 0.5, in any of the three orders.
      std::vector<Node*> dead;
      Node* last = nullptr;
      if (Node* m1 = sole_consumer(view, *g, a, "Mul")) {
        const int o = other_input(*m1, a);
        if (o == x) {  // (x * a) * 0.5
          Node* m2 = sole_consumer(view, *g, m1->outputs[0], "Mul");
          if (m2 && is_half(m, other_input(*m2, m1->outputs[0]))) {
            dead = {m1};
            last = m2;
          }
        } else if (is_half(m, o)) {  // x * (a * 0.5)
          Node* m2 = sole_consumer(view, *g, m1->outputs[0], "Mul");
          if (m2 && other_input(*m2, m1->outputs[0]) == x) {
            dead = {m1};
            last = m2;
          }
        } else if (Node* h = view.sole_producer(o, "Mul"); h && owns(*g, h) && h->num_inputs() == 2) {
          // (x * 0.5) * a
          const int hx = h->inputs[0] == x ? 0 : (h->inputs[1] == x ? 1 : -1);
          if (hx >= 0 && is_half(m, h->inputs[static_cast<size_t>(1 - hx)])) {
            dead = {h};
            last = m1;
          }
        }
      }
      if (!last) continue;
      const int y = last->outputs[0];
      for (Node* n : dead) kill(*n);
      kill(*scale);
      kill(erf);
      kill(*plus);
      last->op_type = "Gelu";
      last->attrs.clear();
      last->inputs = {x};
      last->outputs = {y};
      view.refresh();
      r.add("Gelu");
    }
  return r;
}

}  // namespace kiln
