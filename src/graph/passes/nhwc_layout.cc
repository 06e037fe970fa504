// nhwc_layout (passes.h): runs 2-D convolutions and pooling channels-last. Every 2-D
// float32 Conv / MaxPool (one output) / AveragePool becomes kiln.NhwcConv /
// kiln.NhwcMaxPool / kiln.NhwcAveragePool between Transpose(0,2,3,1) and
// Transpose(0,3,1,2), with its attributes (fused activation included) unchanged. Then the
// Transposes are moved down through layout-agnostic ops (push_transpose_down), merged
// when they meet and cancelled when they compose to the identity, so in a CNN they
// remain only at the graph's inputs and outputs and around ops that need NCHW (Reshape,
// Flatten, MatMul, ...). A Transpose left that only moves size-1 dims becomes a Reshape.
#include <map>

#include "graph/kiln_extensions.h"
#include "graph/passes/eliminate_dead.h"
#include "graph/passes/passes.h"
#include "graph/passes/transpose_util.h"
#include "graph/shape_inference.h"

namespace kiln {
namespace {

constexpr int kMaxSweeps = 16;

Attribute perm_attr(Perm p) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(p);
  return a;
}

int new_value(Model& m, const std::string& base) {
  Value v;
  v.name = base;
  for (int k = 1; m.find_value(v.name) >= 0; ++k) v.name = base + "_" + std::to_string(k);
  return m.add_value(std::move(v));
}

Node transpose_node(const std::string& name, int x, int y, Perm p) {
  Node t;
  t.name = name;
  t.op_type = "Transpose";
  t.inputs = {x};
  t.outputs = {y};
  t.attrs["perm"] = perm_attr(std::move(p));
  return t;
}

// The channels-last op for n, or nullptr when n stays.
const char* nhwc_op(const Model& m, const Node& n) {
  if (!n.domain.empty() || n.outputs.size() != 1 || n.inputs.empty() || known_rank(m, n.inputs[0]) != 4) return nullptr;
  const int x = n.inputs[0];
  if (n.op_type == "Conv") {
    if (n.num_inputs() < 2 || known_rank(m, n.inputs[1]) != 4 || !may_be_f32(m, x)) return nullptr;
    return ext::kNhwcConv;
  }
  // Pooling runs other dtypes too: only known float32 input moves.
  if (m.values[static_cast<size_t>(x)].dtype != DType::kF32) return nullptr;
  if (n.op_type == "MaxPool") return ext::kNhwcMaxPool;
  if (n.op_type == "AveragePool") return ext::kNhwcAveragePool;
  return nullptr;
}

Status tidy(Model& m) {
  KILN_RETURN_IF_ERROR(validate_and_sort(m));
  KILN_RETURN_IF_ERROR(eliminate_dead(m));
  return infer_shapes(m);
}

// One sweep in topological order: merges Transpose pairs (cancelling identities), shares
// duplicate Transposes of one value, and pushes Transposes below the ops that allow it.
// Returns the number of changes.
int sweep(Model& m, PassResult& r) {
  int changed = 0;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs())) {
    std::map<std::pair<int, Perm>, int> seen;  // (input, perm) -> output of the first such Transpose
    for (size_t i = 0; i < g->nodes.size(); ++i) {
      Node& n = g->nodes[i];
      if (n.outputs.empty()) continue;
      if (auto p = perm_of(m, n)) {
        if (Node* inner = view.producer(n.inputs[0]); inner && owns(*g, inner)) {
          if (auto q = perm_of(m, *inner)) {
            const Perm c = compose(*q, *p);
            n.inputs[0] = inner->inputs[0];
            n.attrs["perm"] = perm_attr(c);
            view.refresh();
            if (is_identity(c)) {
              bypass(view, *g, n, n.inputs[0], n.outputs[0]);
              seen.clear();  // bypass may rename a producer's output
            }
            r.add(is_identity(c) ? "Transpose pair cancelled" : "Transpose pair merged");
            ++changed;
            continue;
          }
        }
        if (is_identity(*p)) {
          if (bypass(view, *g, n, n.inputs[0], n.outputs[0])) {
            seen.clear();
            r.add("identity Transpose removed");
            ++changed;
          }
          continue;
        }
        auto [it, fresh] = seen.emplace(std::make_pair(n.inputs[0], *p), n.outputs[0]);
        if (!fresh && !view.is_graph_output(n.outputs[0])) {
          const int dup = n.outputs[0];
          kill(n);
          replace_uses(view, dup, it->second);
          r.add("duplicate Transpose shared");
          ++changed;
        }
        continue;
      }
      std::vector<Node> added;
      if (!push_transpose_down(m, view, *g, i, added)) continue;
      const std::string what = "Transpose moved below " + n.op_type;
      for (Node& t : added) g->nodes.push_back(std::move(t));
      view.refresh();
      r.add(what);
      ++changed;
    }
  }
  return changed;
}

// Transpose that keeps the order of the dims larger than 1 -> Reshape (a view). Unknown
// dims must stay in place (copied by a 0 in the shape).
int transposes_to_reshapes(Model& m, PassResult& r) {
  int changed = 0;
  GraphView view(m);
  for (Graph* g : view.graphs())
    for (Node& n : g->nodes) {
      auto p = perm_of(m, n);
      if (!p) continue;
      const Value& xv = m.values[static_cast<size_t>(n.inputs[0])];
      if (!xv.shape || xv.shape->size() != p->size()) continue;
      const Dims xd = shape_dims(*xv.shape);
      std::vector<int64_t> order, shape;
      bool ok = true;
      for (size_t j = 0; j < p->size() && ok; ++j) {
        const int64_t d = xd[static_cast<size_t>((*p)[j])];
        if (d < 0 && (*p)[j] != static_cast<int64_t>(j)) ok = false;
        if (d != 1) order.push_back((*p)[j]);
        shape.push_back(d < 0 ? 0 : d);
      }
      for (size_t k = 1; ok && k < order.size(); ++k) ok = order[k - 1] < order[k];
      if (!ok) continue;
      const int s = add_constant(m, n.name + "_shape", Tensor::from_i64(shape, {static_cast<int64_t>(shape.size())}));
      n.op_type = "Reshape";
      n.attrs.clear();
      n.inputs.push_back(s);
      r.add("Transpose of size-1 dims -> Reshape");
      ++changed;
    }
  return changed;
}

}  // namespace

Result<PassResult> nhwc_layout(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : view.graphs()) {
    std::vector<Node> added;
    for (Node& n : g->nodes) {
      const char* op = nhwc_op(m, n);
      if (!op) continue;
      const int x = n.inputs[0], y = n.outputs[0];
      const int xt = new_value(m, m.values[static_cast<size_t>(x)].name + "_nhwc");
      const int yt = new_value(m, m.values[static_cast<size_t>(y)].name + "_nhwc");
      added.push_back(transpose_node(n.name + "_to_nhwc", x, xt, {0, 2, 3, 1}));
      added.push_back(transpose_node(n.name + "_to_nchw", yt, y, {0, 3, 1, 2}));
      r.add(n.op_type + " -> " + op);
      n.domain = ext::kDomain;
      n.op_type = op;
      n.inputs[0] = xt;
      n.outputs[0] = yt;
    }
    for (Node& t : added) g->nodes.push_back(std::move(t));
  }
  if (r.rewrites == 0) return r;
  for (int s = 0; s < kMaxSweeps; ++s) {
    KILN_RETURN_IF_ERROR(tidy(m));
    if (sweep(m, r) == 0) break;
  }
  KILN_RETURN_IF_ERROR(tidy(m));
  transposes_to_reshapes(m, r);
  return r;
}

}  // namespace kiln
