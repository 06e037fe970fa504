// sink_transposes (passes.h): exporters from channels-last frameworks (tf2onnx) wrap
// NCHW ops in Transposes; after other rewrites, inverse pairs often end up separated only
// by elementwise ops. This pass
//  * merges Transpose(Transpose(x, p), q) into one Transpose (or nothing, if identity);
//  * cancels a Transpose against a later inverse Transpose across a chain of unary ops,
//    binary ops and Concats whose other operands are constants (transposed to match) or
//    Transposes with the same perm (also removed): every op in the chain then works on
//    the untransposed data (a Concat on the permuted axis) and both ends disappear.
#include "graph/passes/passes.h"
#include "graph/passes/transpose_util.h"

namespace kiln {
namespace {

bool is_unary(const std::string& op) {
  static const char* kOps[] = {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Abs", "Neg",
                               "Exp", "Log", "Sqrt", "Erf", "Elu", "Selu", "Softplus", "Gelu", "Reciprocal",
                               "Floor", "Ceil", "Round", "Sign", "Not", "Cast", "Identity"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}

bool is_binary(const std::string& op) {
  static const char* kOps[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Equal", "Less", "Greater", "And", "Or"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}

// One node of a chain from the first Transpose to its inverse.
struct Step {
  Node* node;
  std::vector<size_t> others;  // inputs that are not the chain: constants, or Transposes with perm p
  int64_t concat_axis = -1;    // Concat: the axis to use on untransposed data
};

}  // namespace

Result<PassResult> sink_transposes(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& t : g->nodes) {
      auto p = perm_of(m, t);
      if (!p) continue;
      // Transpose of a Transpose: compose into one.
      if (Node* inner = view.producer(t.inputs[0]); inner && owns(*g, inner)) {
        if (auto q = perm_of(m, *inner)) {
          const Perm c = compose(*q, *p);
          t.inputs[0] = inner->inputs[0];
          Attribute a;
          a.kind = Attribute::Kind::kInts;
          a.ints = c;
          t.attrs["perm"] = a;
          view.refresh();
          if (is_identity(c)) bypass(view, *g, t, t.inputs[0], t.outputs[0]);
          r.add(is_identity(c) ? "Transpose pair cancelled" : "Transpose pair merged");
          continue;
        }
      }
      // Walk single-reader elementwise ops to an inverse Transpose.
      std::vector<Step> chain;
      int v = t.outputs[0];
      Node* end = nullptr;
      while (true) {
        if (view.uses(v) != 1 || view.is_graph_output(v)) break;
        std::vector<Node*> next = view.consumers(v);
        if (next.size() != 1 || !owns(*g, next[0]) || !next[0]->domain.empty() || next[0]->outputs.size() != 1) break;
        Node* n = next[0];
        if (auto q = perm_of(m, *n)) {
          if (is_identity(compose(*p, *q))) end = n;
          break;
        }
        Step s{n, {}, -1};
        const bool concat = n->op_type == "Concat" && n->num_inputs() >= 1;
        if (is_unary(n->op_type) && n->num_inputs() == 1) {
          chain.push_back(s);
        } else if ((is_binary(n->op_type) && n->num_inputs() == 2) || concat) {
          bool ok = static_cast<int>(n->inputs.size()) == n->num_inputs();
          int reads = 0;
          for (size_t i = 0; ok && i < n->inputs.size(); ++i) {
            const int o = n->inputs[i];
            if (o == v) {
              ++reads;
              continue;
            }
            if (const Tensor* c = constant_of(m, o)) {
              // Concat operands have the full rank; binary ones may broadcast from fewer dims.
              ok = concat ? c->rank() == static_cast<int64_t>(p->size()) : c->rank() <= static_cast<int64_t>(p->size());
            } else {
              Node* ot = view.sole_producer(o, "Transpose");
              auto op = ot && owns(*g, ot) ? perm_of(m, *ot) : std::nullopt;
              ok = op && *op == *p;
            }
            s.others.push_back(i);
          }
          if (!ok || reads != 1) break;
          if (concat) {
            auto axis = n->attr_int("axis");
            const int64_t r = static_cast<int64_t>(p->size());
            if (!axis.ok() || *axis < -r || *axis >= r) break;
            s.concat_axis = (*p)[static_cast<size_t>(*axis < 0 ? *axis + r : *axis)];
          }
          chain.push_back(s);
        } else {
          break;
        }
        v = n->outputs[0];
      }
      if (!end) continue;
      // Rewire: the chain reads untransposed data; both ends go.
      const int x = t.inputs[0];
      int prev = t.outputs[0];
      for (Step& s : chain) {
        for (int& in : s.node->inputs)
          if (in == prev) in = prev == t.outputs[0] ? x : in;
        for (size_t i : s.others) {
          int& o = s.node->inputs[i];
          if (const Tensor* c = constant_of(m, o)) {
            o = add_constant(m, m.values[static_cast<size_t>(o)].name + "_t", untranspose_constant(*c, *p));
          } else {
            Node* ot = view.producer(o);
            o = ot->inputs[0];
            kill(*ot);
          }
        }
        if (s.concat_axis >= 0) {
          Attribute a;
          a.kind = Attribute::Kind::kInt;
          a.i = s.concat_axis;
          s.node->attrs["axis"] = a;
        }
        prev = s.node->outputs[0];
      }
      if (chain.empty()) {
        // Transpose then its inverse directly.
        kill(t);
        view.refresh();
        if (!bypass(view, *g, *end, x, end->outputs[0])) {
          // Keep the graph valid: an Identity-equivalent Transpose stays in place.
          end->inputs = {x};
          Attribute a;
          a.kind = Attribute::Kind::kInts;
          for (size_t i = 0; i < p->size(); ++i) a.ints.push_back(static_cast<int64_t>(i));
          end->attrs["perm"] = a;
        }
      } else {
        kill(t);
        view.refresh();
        const int last = chain.back().node->outputs[0];
        if (!bypass(view, *g, *end, last, end->outputs[0])) {
          end->inputs = {last};
          Attribute a;
          a.kind = Attribute::Kind::kInts;
          for (size_t i = 0; i < p->size(); ++i) a.ints.push_back(static_cast<int64_t>(i));
          end->attrs["perm"] = a;
        }
      }
      view.refresh();
      r.add("Transpose pair cancelled across " + std::to_string(chain.size()) + " ops");
    }
  return r;
}

}  // namespace kiln
