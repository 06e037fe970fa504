// fuse_activation: an activation after Conv / ConvTranspose / Gemm / MatMul / kiln.Affine
// / float32 Add becomes attributes of that producer (graph/kiln_extensions.h), applied in place after
// its kernel (passes.h).
#include <limits>

#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"
#include "ops/fused_activation.h"

namespace kiln {
namespace {

bool float_only_op(const Node& p) {
  if (p.domain == ext::kDomain) return p.op_type == ext::kAffine || p.op_type == ext::kNhwcConv;
  return p.domain.empty() &&
         (p.op_type == "Conv" || p.op_type == "ConvTranspose" || p.op_type == "Gemm" || p.op_type == "MatMul");
}

// Whether v is certainly float32: a known type, a constant, or the output of an op kiln
// runs in float32 only.
bool proven_f32(const Model& m, const GraphView& view, int v) {
  if (v == kNoValue) return false;
  if (const Tensor* t = constant_of(m, v)) return t->dtype() == DType::kF32;
  if (m.values[static_cast<size_t>(v)].dtype == DType::kF32) return true;
  const Node* p = view.producer(v);
  return p && float_only_op(*p);
}

// Producers whose op applies kiln.activation. Add (residual sums before a Relu) only when
// its type is certainly float32, since Add also does integer shape arithmetic.
bool fusable_producer(const Model& m, const GraphView& view, const Node& p) {
  if (float_only_op(p)) return true;
  if (p.op_type != "Add" || !p.domain.empty() || p.num_inputs() != 2) return false;
  return proven_f32(m, view, p.inputs[0]) || proven_f32(m, view, p.inputs[1]);
}

Attribute float_attr(float f) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = f;
  return a;
}

// Reads the activation's parameters into act; false when they are not constant.
bool read_params(const Model& m, const Node& n, FusedActivation& act) {
  using K = FusedActivation::Kind;
  auto attr = [&](const char* name, float def, float& out) {
    auto v = n.attr_float(name, def);
    if (!v.ok()) return false;
    out = *v;
    return true;
  };
  switch (act.kind) {
    case K::kLeakyRelu:
      return n.num_inputs() == 1 && attr("alpha", 0.01f, act.alpha);
    case K::kHardSigmoid:
      return n.num_inputs() == 1 && attr("alpha", 0.2f, act.alpha) && attr("beta", 0.5f, act.beta);
    case K::kClip: {
      act.alpha = std::numeric_limits<float>::lowest();
      act.beta = std::numeric_limits<float>::max();
      if (m.opset < 11) return n.num_inputs() == 1 && attr("min", act.alpha, act.alpha) && attr("max", act.beta, act.beta);
      for (size_t i = 1; i < 3; ++i) {
        if (input_of(n, i) == kNoValue) continue;
        auto v = scalar_of(m, n.inputs[i]);
        if (!v) return false;
        (i == 1 ? act.alpha : act.beta) = *v;
      }
      return true;
    }
    default:
      return n.num_inputs() == 1;
  }
}

// Attributes for act on producer p, which then produces y.
void fuse_into(Node& p, const std::string& name, const FusedActivation& act, int y) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = name;
  p.attrs[ext::kActivation] = a;
  if (act.alpha != 0) p.attrs[ext::kActivationAlpha] = float_attr(act.alpha);
  if (act.beta != 0) p.attrs[ext::kActivationBeta] = float_attr(act.beta);
  p.outputs[0] = y;
}

// Swish: y = x * Sigmoid(x) where x's only readers are the Sigmoid and the Mul.
bool try_swish(Model& m, GraphView& view, Graph& g, Node& sig, PassResult& r) {
  if (sig.op_type != "Sigmoid" || !sig.domain.empty() || sig.num_inputs() != 1 || sig.outputs.size() != 1) return false;
  const int x = sig.inputs[0], s = sig.outputs[0];
  if (view.uses(x) != 2 || view.is_graph_output(x) || view.uses(s) != 1 || view.is_graph_output(s)) return false;
  std::vector<Node*> readers = view.consumers(s);
  if (readers.size() != 1) return false;
  Node& mul = *readers[0];
  if (mul.op_type != "Mul" || !mul.domain.empty() || !owns(g, &mul) || mul.outputs.size() != 1 ||
      other_input(mul, s) != x)
    return false;
  Node* p = view.producer(x);
  if (!p || !owns(g, p) || !fusable_producer(m, view, *p) || p->outputs.size() != 1 || p->has_attr(ext::kActivation))
    return false;
  FusedActivation act;
  act.kind = FusedActivation::Kind::kSwish;
  fuse_into(*p, "Swish", act, mul.outputs[0]);
  const std::string label = p->op_type + "+Swish";
  kill(sig);
  kill(mul);
  view.refresh();
  r.add(label);
  return true;
}

}  // namespace

Result<PassResult> fuse_activation(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& n : g->nodes) {
      if (!n.domain.empty() || n.outputs.size() != 1 || n.inputs.empty()) continue;
      if (try_swish(m, view, *g, n, r)) continue;
      FusedActivation act;
      act.kind = fused_activation_kind(n.op_type);
      if (!act.active() || !may_be_f32(m, n.outputs[0]) || !read_params(m, n, act)) continue;
      const int x = n.inputs[0];
      Node* p = view.producer(x);
      if (!p || !owns(*g, p) || !fusable_producer(m, view, *p) || p->outputs.size() != 1 || p->has_attr(ext::kActivation) ||
          view.uses(x) != 1 || view.is_graph_output(x))
        continue;
      fuse_into(*p, n.op_type, act, n.outputs[0]);
      const std::string label = p->op_type + "+" + n.op_type;
      kill(n);
      view.refresh();
      r.add(label);
    }
  return r;
}

}  // namespace kiln
