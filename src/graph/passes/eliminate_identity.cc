// eliminate_identity: nodes whose output equals their input (passes.h).
#include <cmath>

#include "graph/passes/passes.h"

namespace kiln {
namespace {

bool all_equal(const Tensor& t, double v) {
  if (t.dtype() != DType::kF32 && t.dtype() != DType::kF64) return false;
  for (int64_t i = 0; i < t.size(); ++i)
    if (t.get_f64(i) != v) return false;
  return true;
}

// The pass-through input of n when n is an identity, else kNoValue.
int identity_input(const Model& m, const GraphView& view, const Node& n) {
  if (!n.domain.empty() || n.outputs.empty() || n.outputs[0] == kNoValue) return kNoValue;
  const int x = input_of(n, 0), y = n.outputs[0];
  if (x == kNoValue) return kNoValue;
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue && view.uses(n.outputs[i]) > 0) return kNoValue;  // e.g. Dropout's mask
  const std::string& op = n.op_type;
  if (op == "Identity") return x;
  if (op == "Dropout") {
    const int training = input_of(n, 2);
    if (training == kNoValue) return x;
    const Tensor* t = constant_of(m, training);
    return t && t->size() == 1 && t->get_f64(0) == 0 ? x : kNoValue;
  }
  const Value& xv = m.values[static_cast<size_t>(x)];
  if (op == "Cast") {
    auto to = n.attr_int("to");
    return to.ok() && xv.dtype != DType::kUndefined && xv.dtype == m.values[static_cast<size_t>(y)].dtype ? x : kNoValue;
  }
  if (op == "Transpose") {
    const int rank = known_rank(m, x);
    auto perm = n.attr_ints("perm", std::vector<int64_t>{});
    if (!perm.ok()) return kNoValue;
    if (perm->empty()) return rank >= 0 && rank <= 1 ? x : kNoValue;  // default perm reverses
    for (size_t i = 0; i < perm->size(); ++i)
      if ((*perm)[i] != static_cast<int64_t>(i)) return kNoValue;
    return x;
  }
  if (op == "Reshape" || op == "Expand" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten") {
    auto xd = known_dims(m, x), yd = known_dims(m, y);
    return xd && yd && *xd == *yd && xv.dtype == m.values[static_cast<size_t>(y)].dtype ? x : kNoValue;
  }
  const bool mul = op == "Mul", div = op == "Div", add = op == "Add", sub = op == "Sub";
  if (!(mul || div || add || sub) || n.num_inputs() != 2 || !may_be_f32(m, y)) return kNoValue;
  const double neutral = (mul || div) ? 1.0 : 0.0;
  // x op c for all four; c op x only for the commutative ones.
  for (int side = 0; side < ((mul || add) ? 2 : 1); ++side) {
    const int v = n.inputs[static_cast<size_t>(side)], c = n.inputs[static_cast<size_t>(1 - side)];
    const Tensor* t = constant_of(m, c);
    if (!t || !all_equal(*t, neutral) || !may_be_f32(m, v)) continue;
    if (broadcasts_into(t->dims(), m, v)) return v;
  }
  return kNoValue;
}

}  // namespace

Result<PassResult> eliminate_identity(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& n : g->nodes) {
      const int x = identity_input(m, view, n);
      if (x == kNoValue) continue;
      const std::string label = n.op_type;
      if (bypass(view, *g, n, x, n.outputs[0])) r.add(label);
    }
  return r;
}

}  // namespace kiln
