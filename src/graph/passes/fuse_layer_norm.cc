// fuse_layer_norm: the decomposed layer normalization of PyTorch / Paddle exports
// (passes.h), matched backwards from its Div:
//   mean = ReduceMean(x); d = x - mean; var = ReduceMean(d ^ 2);
//   y = d / Sqrt(var + eps) [* gamma] [+ beta]
// over the same trailing axes, becomes LayerNormalization(x, gamma or 1, beta).
#include <algorithm>

#include "graph/passes/passes.h"

namespace kiln {
namespace {

// The axes of a keepdims ReduceMean (attribute before opset 18, input from 18).
std::optional<std::vector<int64_t>> mean_axes(const Model& m, const Node& n) {
  if (n.op_type != "ReduceMean" || !n.domain.empty() || n.outputs.size() != 1) return std::nullopt;
  auto keep = n.attr_int("keepdims", 1);
  if (!keep.ok() || *keep != 1) return std::nullopt;
  if (n.has_attr("axes")) {
    auto a = n.attr_ints("axes");
    if (!a.ok() || n.num_inputs() != 1) return std::nullopt;
    return *a;
  }
  const Tensor* t = constant_of(m, input_of(n, 1));
  if (!t || t->rank() > 1 || (t->dtype() != DType::kI64 && t->dtype() != DType::kI32)) return std::nullopt;
  std::vector<int64_t> a;
  for (int64_t i = 0; i < t->size(); ++i) a.push_back(t->get_i64(i));
  return a;
}

// The number of trailing axes `axes` covers (k in [-k, -1]), or 0 if they are not the
// trailing ones. Positive axes need the rank.
int trailing_count(std::vector<int64_t> axes, int rank) {
  if (axes.empty()) return 0;
  for (int64_t& a : axes) {
    if (a >= 0) {
      if (rank < 0) return 0;
      a -= rank;
    }
  }
  std::sort(axes.begin(), axes.end());
  const int k = static_cast<int>(axes.size());
  for (int i = 0; i < k; ++i)
    if (axes[static_cast<size_t>(i)] != -k + i) return 0;
  return k;
}

// The node producing v when it is op_type (default domain) and only `reader` reads v.
Node* only_for(const GraphView& view, const Graph& g, int v, const char* op_type) {
  Node* p = view.sole_producer(v, op_type);
  return p && owns(g, p) ? p : nullptr;
}

Attribute int_attr(int64_t i) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = i;
  return a;
}

}  // namespace

Result<PassResult> fuse_layer_norm(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& div : g->nodes) {
      if (div.op_type != "Div" || !div.domain.empty() || div.num_inputs() != 2 || div.outputs.size() != 1) continue;
      const int d = div.inputs[0];
      Node* sqrt = only_for(view, *g, div.inputs[1], "Sqrt");
      if (!sqrt || sqrt->num_inputs() != 1) continue;
      Node* add_eps = only_for(view, *g, sqrt->inputs[0], "Add");
      if (!add_eps || add_eps->num_inputs() != 2) continue;
      int var = kNoValue;
      std::optional<float> eps;
      for (int side = 0; side < 2 && !eps; ++side) {
        eps = scalar_of(m, add_eps->inputs[static_cast<size_t>(1 - side)]);
        var = add_eps->inputs[static_cast<size_t>(side)];
      }
      if (!eps || !(*eps >= 0)) continue;
      Node* mean2 = only_for(view, *g, var, "ReduceMean");
      if (!mean2 || mean2->inputs.empty()) continue;
      Node* pow = only_for(view, *g, mean2->inputs[0], "Pow");
      if (!pow || pow->num_inputs() != 2 || pow->inputs[0] != d) continue;
      auto two = scalar_of(m, pow->inputs[1]);
      if (!two || *two != 2.f) continue;
      Node* sub = view.producer(d);
      if (!sub || !owns(*g, sub) || sub->op_type != "Sub" || !sub->domain.empty() || sub->num_inputs() != 2 ||
          view.uses(d) != 2 || view.is_graph_output(d))
        continue;
      const int x = sub->inputs[0];
      Node* mean1 = only_for(view, *g, sub->inputs[1], "ReduceMean");
      if (!mean1 || mean1->inputs.empty() || mean1->inputs[0] != x || !may_be_f32(m, x)) continue;
      auto axes1 = mean_axes(m, *mean1), axes2 = mean_axes(m, *mean2);
      if (!axes1 || !axes2) continue;
      const int rank = known_rank(m, x);
      const int k = trailing_count(*axes1, rank);
      if (k == 0 || trailing_count(*axes2, rank) != k) continue;

      // Optional gamma then beta (constants, at most k dims once leading 1s are dropped).
      Node* last = &div;
      Node* mul_node = nullptr;
      int gamma = kNoValue, beta = kNoValue;
      auto fits = [&](int c) {
        const Tensor* t = constant_of(m, c);
        if (!t || t->dtype() != DType::kF32) return false;
        int64_t lead = 0;
        while (lead < t->rank() && t->dim(lead) == 1 && t->rank() - lead > k) ++lead;
        return t->rank() - lead <= k;
      };
      auto next_of = [&](Node* n, const char* op) -> Node* {
        const int y = n->outputs[0];
        if (view.uses(y) != 1 || view.is_graph_output(y)) return nullptr;
        std::vector<Node*> c = view.consumers(y);
        if (c.size() != 1 || !owns(*g, c[0]) || c[0]->op_type != op || !c[0]->domain.empty()) return nullptr;
        const int other = other_input(*c[0], y);
        return other != kNoValue && fits(other) ? c[0] : nullptr;
      };
      if (Node* mul = next_of(last, "Mul")) {
        gamma = other_input(*mul, last->outputs[0]);
        last = mul_node = mul;
      }
      if (Node* add = next_of(last, "Add")) {
        beta = other_input(*add, last->outputs[0]);
        last = add;
      }
      // Scale and bias reshaped to their trailing k (or fewer) dims.
      auto squeeze = [&](int c) {
        Tensor t = *constant_of(m, c);
        Dims dims = t.dims();
        while (static_cast<int>(dims.size()) > k && dims.front() == 1) dims.erase(dims.begin());
        return add_constant(m, m.values[static_cast<size_t>(c)].name + "_ln", Tensor::from_f32(floats_of(t), dims));
      };
      const std::string base = last->name.empty() ? "layer_norm" : last->name;
      const int scale = gamma != kNoValue ? squeeze(gamma) : add_constant(m, base + "_scale", Tensor::from_f32({1.f}, {1}));
      const int bias = beta != kNoValue ? squeeze(beta) : kNoValue;
      const int y = last->outputs[0];
      for (Node* n : {mean1, sub, pow, mean2, add_eps, sqrt, &div, mul_node})
        if (n && n != last) kill(*n);
      last->op_type = "LayerNormalization";
      last->attrs.clear();
      last->attrs["axis"] = int_attr(-k);
      Attribute e;
      e.kind = Attribute::Kind::kFloat;
      e.f = *eps;
      last->attrs["epsilon"] = e;
      last->inputs = bias != kNoValue ? std::vector<int>{x, scale, bias} : std::vector<int>{x, scale};
      last->outputs = {y};
      view.refresh();
      r.add(std::string("LayerNormalization") + (gamma != kNoValue ? "+scale" : "") + (beta != kNoValue ? "+bias" : ""));
    }
  return r;
}

}  // namespace kiln
