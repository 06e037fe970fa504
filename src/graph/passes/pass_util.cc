#include "graph/passes/pass_util.h"

#include <cmath>

namespace kiln {
namespace {

void collect_graphs(Graph& g, std::vector<Graph*>& out) {
  out.push_back(&g);
  for (Node& n : g.nodes)
    for (auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) collect_graphs(*a.g, out);
}

}  // namespace

void GraphView::refresh() {
  graphs_.clear();
  collect_graphs(m_.graph, graphs_);
  const size_t nv = m_.values.size();
  uses_.assign(nv, 0);
  output_.assign(nv, false);
  producer_.assign(nv, nullptr);
  auto ok = [&](int v) { return v >= 0 && static_cast<size_t>(v) < nv; };
  for (Graph* g : graphs_) {
    for (int o : g->outputs)
      if (ok(o)) {
        ++uses_[static_cast<size_t>(o)];
        output_[static_cast<size_t>(o)] = true;
      }
    for (Node& n : g->nodes) {
      for (int i : n.inputs)
        if (ok(i)) ++uses_[static_cast<size_t>(i)];
      for (int o : n.outputs)
        if (ok(o)) producer_[static_cast<size_t>(o)] = &n;
    }
  }
}

int GraphView::uses(int v) const { return v >= 0 && static_cast<size_t>(v) < uses_.size() ? uses_[static_cast<size_t>(v)] : 0; }

bool GraphView::is_graph_output(int v) const {
  return v >= 0 && static_cast<size_t>(v) < output_.size() && output_[static_cast<size_t>(v)];
}

Node* GraphView::producer(int v) const {
  return v >= 0 && static_cast<size_t>(v) < producer_.size() ? producer_[static_cast<size_t>(v)] : nullptr;
}

Node* GraphView::sole_producer(int v, const char* op_type) const {
  Node* p = producer(v);
  if (!p || p->op_type != op_type || !p->domain.empty() || uses(v) != 1 || is_graph_output(v)) return nullptr;
  for (int o : p->outputs)
    if (o != v && o != kNoValue && uses(o) > 0) return nullptr;
  return p;
}

std::vector<Node*> GraphView::consumers(int v) const {
  std::vector<Node*> r;
  for (Graph* g : graphs_)
    for (Node& n : g->nodes)
      for (int i : n.inputs)
        if (i == v) {
          r.push_back(&n);
          break;
        }
  return r;
}

const Tensor* constant_of(const Model& m, int v) {
  if (v < 0 || static_cast<size_t>(v) >= m.values.size()) return nullptr;
  const Value& val = m.values[static_cast<size_t>(v)];
  return val.data ? &*val.data : nullptr;
}

std::optional<float> scalar_of(const Model& m, int v) {
  const Tensor* t = constant_of(m, v);
  if (!t || t->dtype() != DType::kF32 || t->size() != 1) return std::nullopt;
  return t->data<float>()[0];
}

bool may_be_f32(const Model& m, int v) {
  if (v < 0 || static_cast<size_t>(v) >= m.values.size()) return false;
  const DType d = m.values[static_cast<size_t>(v)].dtype;
  return d == DType::kF32 || d == DType::kUndefined;
}

std::optional<Dims> known_dims(const Model& m, int v) {
  if (const Tensor* t = constant_of(m, v)) return t->dims();
  if (v < 0 || static_cast<size_t>(v) >= m.values.size()) return std::nullopt;
  const Value& val = m.values[static_cast<size_t>(v)];
  if (!val.shape || !shape_is_fixed(*val.shape)) return std::nullopt;
  return shape_dims(*val.shape);
}

int known_rank(const Model& m, int v) {
  if (const Tensor* t = constant_of(m, v)) return static_cast<int>(t->rank());
  if (v < 0 || static_cast<size_t>(v) >= m.values.size()) return -1;
  const Value& val = m.values[static_cast<size_t>(v)];
  return val.shape ? static_cast<int>(val.shape->size()) : -1;
}

bool broadcasts_into(const Dims& c, const Model& m, int x) {
  bool all_ones = true;
  for (int64_t d : c) all_ones = all_ones && d == 1;
  if (c.empty()) return true;
  const int rank = known_rank(m, x);
  if (rank < 0 || static_cast<size_t>(rank) < c.size()) return false;
  if (all_ones) return true;
  const Shape& s = *m.values[static_cast<size_t>(x)].shape;
  for (size_t i = 0; i < c.size(); ++i) {
    const Dim& d = s[s.size() - c.size() + i];
    if (c[i] != 1 && !(d.fixed() && d.size == c[i])) return false;
  }
  return true;
}

bool near(float a, float b, float tol) { return std::fabs(a - b) <= tol * std::max(1.f, std::fabs(b)); }

int add_constant(Model& m, const std::string& name, Tensor t) {
  Value v;
  // Unique among existing names: passes may add several constants from one node.
  std::string n = name;
  for (int k = 1; m.find_value(n) >= 0; ++k) n = name + "_" + std::to_string(k);
  v.name = n;
  v.dtype = t.dtype();
  v.shape = shape_from_dims(t.dims());
  v.data = std::move(t);
  return m.add_value(std::move(v));
}

std::vector<float> floats_of(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.size());
}

void kill(Node& n) {
  n.inputs.clear();
  n.outputs.clear();
  n.attrs.clear();
}

void replace_uses(GraphView& view, int from, int to) {
  for (Graph* g : view.graphs())
    for (Node& n : g->nodes)
      for (int& i : n.inputs)
        if (i == from) i = to;
  view.refresh();
}

bool bypass(GraphView& view, Graph& g, Node& n, int x, int y) {
  if (!view.is_graph_output(y)) {
    kill(n);
    replace_uses(view, y, x);
    return true;
  }
  Node* p = view.producer(x);
  if (!p || !owns(g, p) || view.uses(x) != 1 || view.is_graph_output(x)) return false;
  for (int& o : p->outputs)
    if (o == x) o = y;
  kill(n);
  view.refresh();
  return true;
}

bool owns(const Graph& g, const Node* n) {
  return n && !g.nodes.empty() && n >= g.nodes.data() && n < g.nodes.data() + g.nodes.size();
}

int other_input(const Node& n, int v) {
  if (n.num_inputs() != 2 || n.inputs.size() != 2) return kNoValue;
  if (n.inputs[0] == v && n.inputs[1] != v) return n.inputs[1];
  if (n.inputs[1] == v && n.inputs[0] != v) return n.inputs[0];
  return kNoValue;
}

}  // namespace kiln
