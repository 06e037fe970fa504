// push_transpose_down (transpose_util.h): the rules that let one op work on untransposed
// data. With D = Transpose(x, p), D's axis a is x's axis p[a]; so an op reading D is
// rewritten to read x with its axes remapped through p (and constants transposed by
// inverse(p)), and a Transpose after it restores D's layout for its readers.
#include <algorithm>
#include <set>
#include <string>

#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/passes/transpose_util.h"

namespace kiln {
namespace {

bool one_of(const std::string& op, std::initializer_list<const char*> ops) {
  for (const char* o : ops)
    if (op == o) return true;
  return false;
}

// Elementwise with one data input (further inputs are scalar parameters: Clip's bounds).
bool is_unary(const std::string& op) {
  return one_of(op, {"Relu", "Sigmoid", "Tanh", "LeakyRelu", "HardSigmoid", "HardSwish", "Abs", "Neg", "Exp", "Log",
                     "Sqrt", "Erf", "Elu", "Selu", "Softplus", "Softsign", "Gelu", "Reciprocal", "Floor", "Ceil",
                     "Round", "Sign", "Not", "Cast", "Identity", "Clip", "Mish", "Celu", "ThresholdedRelu", "Sin",
                     "Cos", "IsNaN", "IsInf"});
}
// Elementwise over all inputs with numpy broadcasting.
bool is_broadcast(const Node& n) {
  if (n.domain == ext::kDomain) return n.op_type == ext::kAffine;
  return one_of(n.op_type, {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less",
                            "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "PRelu", "Where", "Mod"});
}
bool is_reduce(const std::string& op) {
  return one_of(op, {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2",
                     "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"});
}

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

std::optional<int64_t> norm_axis(int64_t a, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (a < -r || a >= r) return std::nullopt;
  return a < 0 ? a + r : a;
}

// The integers of a constant int32/int64 1-D input.
std::optional<std::vector<int64_t>> const_ints(const Model& m, int v) {
  const Tensor* t = constant_of(m, v);
  if (!t || t->rank() > 1 || (t->dtype() != DType::kI64 && t->dtype() != DType::kI32)) return std::nullopt;
  std::vector<int64_t> r;
  for (int64_t i = 0; i < t->size(); ++i) r.push_back(static_cast<int64_t>(t->get_f64(i)));
  return r;
}

// Per-axis values (`groups` runs of r, like pads [begins..., ends...]) moved from D's axis
// order to x's: out[g*r + p[i]] = in[g*r + i]. Float32 or int64 only.
std::optional<Tensor> permute_per_axis(const Tensor& t, const Perm& p, size_t groups) {
  const size_t r = p.size();
  if (t.rank() != 1 || static_cast<size_t>(t.size()) != r * groups) return std::nullopt;
  if (t.dtype() != DType::kF32 && t.dtype() != DType::kI64) return std::nullopt;
  std::vector<double> v(r * groups);
  for (size_t gi = 0; gi < groups; ++gi)
    for (size_t i = 0; i < r; ++i) v[gi * r + static_cast<size_t>(p[i])] = t.get_f64(static_cast<int64_t>(gi * r + i));
  if (t.dtype() == DType::kF32) return Tensor::from_f32(std::vector<float>(v.begin(), v.end()), t.dims());
  std::vector<int64_t> iv;
  for (double d : v) iv.push_back(static_cast<int64_t>(d));
  return Tensor::from_i64(iv, t.dims());
}

// Output perm after reducing D's axes `red` (D order) without keepdims: D's kept axis j is
// x's axis p[kept[j]]; x's output keeps its axes in increasing order.
Perm reduced_perm(const Perm& p, const std::set<int64_t>& red) {
  std::vector<int64_t> kept_x;
  for (size_t i = 0; i < p.size(); ++i)
    if (!red.count(static_cast<int64_t>(i))) kept_x.push_back(p[i]);
  std::vector<int64_t> sorted = kept_x;
  std::sort(sorted.begin(), sorted.end());
  Perm q;
  for (int64_t a : kept_x) q.push_back(std::lower_bound(sorted.begin(), sorted.end(), a) - sorted.begin());
  return q;
}

// What the rewrite of one node changes, decided before anything is edited.
struct Plan {
  std::vector<size_t> untranspose;                     // input i := the Transpose's input
  std::vector<std::pair<size_t, Tensor>> new_inputs;   // input i := a new constant
  std::map<std::string, Attribute> attrs;              // attributes to set
  std::vector<std::pair<size_t, const Node*>> fills;   // input i := a ConstantOfShape copy...
  std::vector<Tensor> fill_shapes;                     // ... with this shape
  std::string op_type;                                 // new op type, or empty
  std::vector<Perm> out_perm;                          // per output: Transpose after it
};

// Remaps axes given in D's order (attribute or constant input) to x's order.
std::vector<int64_t> map_axes(const std::vector<int64_t>& axes_d, const Perm& p) {
  std::vector<int64_t> r;
  for (int64_t a : axes_d) r.push_back(p[static_cast<size_t>(*norm_axis(a, p.size()))]);
  return r;
}
bool axes_valid(const std::vector<int64_t>& axes, size_t rank) {
  for (int64_t a : axes)
    if (!norm_axis(a, rank)) return false;
  return true;
}

}  // namespace

bool quant_params_per_tensor(const Model& m, const Node& n) {
  if (n.num_inputs() < 2 || n.outputs.size() != 1) return false;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == kNoValue) continue;
    const Tensor* c = constant_of(m, n.inputs[i]);
    if (!c || c->size() != 1) return false;
  }
  auto block = n.attr_int("block_size", 0);
  return block.ok() && *block == 0;
}

bool push_transpose_down(Model& m, GraphView& view, Graph& g, size_t node_index, const Perm& perm,
                         std::vector<Node>& added) {
  Node& n = g.nodes[node_index];
  if (n.outputs.empty() || (!n.domain.empty() && !(n.domain == ext::kDomain && n.op_type == ext::kAffine))) return false;
  // The perm carried by input v: produced by a Transpose of this graph with `perm`.
  auto carried = [&](int v) -> std::optional<Perm> {
    Node* t = view.producer(v);
    if (!t || !owns(g, t)) return std::nullopt;
    auto q = perm_of(m, *t);
    return q && *q == perm ? q : std::nullopt;
  };
  std::optional<Perm> p0 = n.inputs.empty() ? std::nullopt : carried(n.inputs[0]);
  Plan plan;
  const std::string& op = n.op_type;
  const int64_t opset = m.opset;

  if (is_broadcast(n) || op == "Concat") {
    // Every operand: the same carried perm, a constant, or (elementwise only) all-ones dims.
    std::optional<Perm> p;
    for (int v : n.inputs)
      if (v != kNoValue)
        if (auto q = carried(v)) {
          if (p && *p != *q) return false;
          p = q;
        }
    if (!p) return false;
    const size_t r = p->size();
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const int v = n.inputs[i];
      if (v == kNoValue) continue;
      if (carried(v)) {
        plan.untranspose.push_back(i);
      } else if (const Tensor* c = constant_of(m, v)) {
        if (op == "Concat" ? static_cast<size_t>(c->rank()) != r : static_cast<size_t>(c->rank()) > r) return false;
        plan.new_inputs.emplace_back(i, untranspose_constant(*c, *p));
      } else if (const Node* f = view.producer(v); f && owns(g, f) && f->op_type == "ConstantOfShape" &&
                                                     f->domain.empty() && constant_of(m, f->inputs[0])) {
        // A uniform fill of constant shape (left unfolded for its size): the same fill with
        // the shape in x's order.
        auto shape = permute_per_axis(*constant_of(m, f->inputs[0]), *p, 1);
        if (!shape) return false;
        plan.fills.emplace_back(i, f);
        plan.fill_shapes.push_back(std::move(*shape));
      } else {
        auto d = known_dims(m, v);
        if (op == "Concat" || !d || d->size() > r) return false;
        for (int64_t e : *d)
          if (e != 1) return false;
      }
    }
    if (op == "Concat") {
      auto axis = n.attr_int("axis");
      if (!axis.ok() || !norm_axis(*axis, r)) return false;
      plan.attrs["axis"] = int_attr((*p)[static_cast<size_t>(*norm_axis(*axis, r))]);
    }
    plan.out_perm.assign(n.outputs.size(), *p);
  } else {
    if (!p0) return false;
    const Perm& p = *p0;
    const size_t r = p.size();
    plan.untranspose.push_back(0);
    auto param_const = [&](size_t i) { return i >= n.inputs.size() || n.inputs[i] == kNoValue || constant_of(m, n.inputs[i]); };
    if (op == "QuantizeLinear") {
      // Elementwise when per tensor; a Transpose below it moves int8 instead of float.
      if (!quant_params_per_tensor(m, n)) return false;
      plan.out_perm.assign(1, p);
    } else if (is_unary(op)) {
      for (size_t i = 1; i < n.inputs.size(); ++i)
        if (!param_const(i)) return false;
      plan.out_perm.assign(1, p);
    } else if (op == "Split") {
      auto axis = n.attr_int("axis", 0);
      if (!axis.ok() || !norm_axis(*axis, r)) return false;
      plan.attrs["axis"] = int_attr(p[static_cast<size_t>(*norm_axis(*axis, r))]);
      plan.out_perm.assign(n.outputs.size(), p);
    } else if (op == "Pad") {
      if (opset < 11) {
        auto pads = n.attr_ints("pads", std::vector<int64_t>{});
        if (!pads.ok() || pads->size() != 2 * r) return false;
        std::vector<int64_t> np(2 * r);
        for (size_t i = 0; i < r; ++i) {
          np[static_cast<size_t>(p[i])] = (*pads)[i];
          np[r + static_cast<size_t>(p[i])] = (*pads)[r + i];
        }
        plan.attrs["pads"] = ints_attr(np);
      } else {
        if (n.inputs.size() > 3 && n.inputs[3] != kNoValue) return false;  // axes input
        const Tensor* pads = n.inputs.size() > 1 ? constant_of(m, n.inputs[1]) : nullptr;
        if (!pads || !param_const(2)) return false;
        auto np = permute_per_axis(*pads, p, 2);
        if (!np) return false;
        plan.new_inputs.emplace_back(1, std::move(*np));
      }
      plan.out_perm.assign(1, p);
    } else if (op == "Resize" || op == "Upsample") {
      if (n.has_attr("axes")) return false;
      // Input roles: opset 10 Resize and Upsample (X, scales); 11+ (X, roi, scales, sizes).
      const bool v10 = op == "Upsample" || opset < 11;
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        if (n.inputs[i] == kNoValue) continue;
        const Tensor* c = constant_of(m, n.inputs[i]);
        if (!c) return false;
        if (c->size() == 0) continue;
        const size_t groups = (!v10 && i == 1) ? 2 : 1;
        auto t = permute_per_axis(*c, p, groups);
        if (!t) return false;
        plan.new_inputs.emplace_back(i, std::move(*t));
      }
      if (op == "Upsample" && n.has_attr("scales")) {
        auto s = n.attr_floats("scales");
        if (!s.ok() || s->size() != r) return false;
        std::vector<float> ns(r);
        for (size_t i = 0; i < r; ++i) ns[static_cast<size_t>(p[i])] = (*s)[i];
        Attribute a;
        a.kind = Attribute::Kind::kFloats;
        a.floats = ns;
        plan.attrs["scales"] = a;
      }
      plan.out_perm.assign(1, p);
    } else if (op == "Slice") {
      if (opset < 10) {
        auto starts = n.attr_ints("starts", std::vector<int64_t>{});
        auto axes = n.attr_ints("axes", std::vector<int64_t>{});
        if (!starts.ok() || !axes.ok()) return false;
        std::vector<int64_t> ax = *axes;
        if (ax.empty())
          for (size_t i = 0; i < starts->size(); ++i) ax.push_back(static_cast<int64_t>(i));
        if (!axes_valid(ax, r)) return false;
        plan.attrs["axes"] = ints_attr(map_axes(ax, p));
      } else {
        std::vector<int64_t> ax;
        if (n.inputs.size() > 3 && n.inputs[3] != kNoValue) {
          auto a = const_ints(m, n.inputs[3]);
          if (!a) return false;
          ax = *a;
        } else {
          auto sd = n.inputs.size() > 1 ? known_dims(m, n.inputs[1]) : std::nullopt;
          if (!sd || sd->size() != 1) return false;
          for (int64_t i = 0; i < (*sd)[0]; ++i) ax.push_back(i);
        }
        if (!axes_valid(ax, r)) return false;
        plan.new_inputs.emplace_back(3, Tensor::from_i64(map_axes(ax, p), {static_cast<int64_t>(ax.size())}));
      }
      plan.out_perm.assign(1, p);
    } else if (is_reduce(op) || op == "ArgMax" || op == "ArgMin") {
      auto keep = n.attr_int("keepdims", 1);
      auto noop = n.attr_int("noop_with_empty_axes", 0);
      if (!keep.ok() || !noop.ok()) return false;
      std::vector<int64_t> ax;
      bool from_input = false, all = false;
      if (op == "ArgMax" || op == "ArgMin") {
        auto a = n.attr_int("axis", 0);
        if (!a.ok()) return false;
        ax = {*a};
      } else if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
        auto a = const_ints(m, n.inputs[1]);
        if (!a) return false;
        ax = *a;
        from_input = true;
      } else {
        auto a = n.attr_ints("axes", std::vector<int64_t>{});
        if (!a.ok()) return false;
        ax = *a;
      }
      if (!axes_valid(ax, r)) return false;
      if (ax.empty()) all = *noop == 0;
      std::set<int64_t> red;
      for (int64_t a : ax) red.insert(*norm_axis(a, r));
      if (all)
        for (size_t i = 0; i < r; ++i) red.insert(static_cast<int64_t>(i));
      if (!ax.empty()) {
        const std::vector<int64_t> mapped = map_axes(ax, p);
        if (op == "ArgMax" || op == "ArgMin")
          plan.attrs["axis"] = int_attr(mapped[0]);
        else if (from_input)
          plan.new_inputs.emplace_back(1, Tensor::from_i64(mapped, {static_cast<int64_t>(mapped.size())}));
        else
          plan.attrs["axes"] = ints_attr(mapped);
      }
      const bool no_reduction = ax.empty() && !all;
      plan.out_perm.assign(1, (*keep != 0 || no_reduction) ? p : reduced_perm(p, red));
    } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      // Mean / max over D's spatial axes 2.. (x's axes p[2..]), kept as size-1 dims.
      if (r < 3) return false;
      std::vector<int64_t> ax;
      for (size_t i = 2; i < r; ++i) ax.push_back(p[i]);
      std::sort(ax.begin(), ax.end());
      plan.op_type = op == "GlobalAveragePool" ? "ReduceMean" : "ReduceMax";
      plan.attrs["keepdims"] = int_attr(1);
      if (opset >= 18)
        plan.new_inputs.emplace_back(1, Tensor::from_i64(ax, {static_cast<int64_t>(ax.size())}));
      else
        plan.attrs["axes"] = ints_attr(ax);
      plan.out_perm.assign(1, p);
    } else if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
      auto axis = n.attr_int("axis", opset < 13 ? 1 : -1);
      if (!axis.ok() || !norm_axis(*axis, r)) return false;
      const int64_t a = *norm_axis(*axis, r);
      if (opset >= 13) {
        plan.attrs["axis"] = int_attr(p[static_cast<size_t>(a)]);
      } else {
        // Before opset 13 the op flattens axes [a, r) into one: they must stay that set.
        for (size_t i = static_cast<size_t>(a); i < r; ++i)
          if (p[i] < a) return false;
      }
      plan.out_perm.assign(1, p);
    } else {
      return false;
    }
  }

  // Apply. New constants and values first (m.values may grow), then the node edits.
  for (auto& [i, t] : plan.new_inputs) {
    const std::string base = n.name.empty() ? std::string("nhwc") : n.name;
    const int c = add_constant(m, base + "_in" + std::to_string(i), std::move(t));
    if (i >= n.inputs.size()) n.inputs.resize(i + 1, kNoValue);
    n.inputs[i] = c;
  }
  for (size_t k = 0; k < plan.fills.size(); ++k) {
    const Node& f = *plan.fills[k].second;
    Node fill = f;
    fill.name = f.name + "_t";
    fill.inputs = {add_constant(m, f.name + "_shape_t", std::move(plan.fill_shapes[k]))};
    Value v;
    v.name = m.values[static_cast<size_t>(f.outputs[0])].name + "_t";
    for (int j = 1; m.find_value(v.name) >= 0; ++j) v.name = m.values[static_cast<size_t>(f.outputs[0])].name + "_t" + std::to_string(j);
    fill.outputs = {m.add_value(std::move(v))};
    n.inputs[plan.fills[k].first] = fill.outputs[0];
    added.push_back(std::move(fill));
  }
  for (size_t i : plan.untranspose) n.inputs[i] = view.producer(n.inputs[i])->inputs[0];
  for (auto& [k, a] : plan.attrs) n.attrs[k] = a;
  if (!plan.op_type.empty()) n.op_type = plan.op_type;
  for (size_t j = 0; j < n.outputs.size(); ++j) {
    const int y = n.outputs[j];
    if (y == kNoValue || is_identity(plan.out_perm[j])) continue;
    Value v;
    v.name = m.values[static_cast<size_t>(y)].name + "_t";
    for (int k = 1; m.find_value(v.name) >= 0; ++k) v.name = m.values[static_cast<size_t>(y)].name + "_t" + std::to_string(k);
    const int yx = m.add_value(std::move(v));
    n.outputs[j] = yx;
    Node t;
    t.name = n.name + "_transpose" + std::to_string(j);
    t.op_type = "Transpose";
    t.inputs = {yx};
    t.outputs = {y};
    t.attrs["perm"] = ints_attr(plan.out_perm[j]);
    added.push_back(std::move(t));
  }
  return true;
}

}  // namespace kiln
