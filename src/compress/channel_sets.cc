// Channel sets (channel_sets.h): a worklist over the values of one set; each node touching
// it is classified once (per side for weighted layers: reader or producer).
#include "compress/channel_sets.h"

#include <algorithm>
#include <map>

#include "compress/int8_dynamic.h"  // name_matches
#include "graph/kiln_extensions.h"
#include "graph/shape_inference.h"

namespace kiln::channel_sets {

bool is_conv(const Node& n) {
  return (n.op_type == "Conv" && (n.domain.empty() || n.domain == "ai.onnx")) ||
         (n.op_type == ext::kNhwcConv && n.domain == ext::kDomain);
}
bool is_onnx(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

namespace {

const std::set<std::string>& unary_ops() {
  static const std::set<std::string> ops{"Relu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu",
                                         "Clip", "Elu", "Selu", "Softplus", "Identity", "Dropout", "Abs",
                                         "Neg", "Erf", "Gelu", "PRelu"};
  return ops;
}
const std::set<std::string>& pool_ops() {
  static const std::set<std::string> ops{"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                                         ext::kNhwcMaxPool, "NhwcAveragePool"};
  return ops;
}

// A constant's dims seen from the end: where `axis_end` (< 0) falls, whether it must be cut
// (dim == m), left (dim 1 or absent) or cannot follow (another size).
enum class PerChannel { kCut, kBroadcast, kNo };
PerChannel per_channel(const Tensor& t, int axis_end, int64_t m) {
  const int64_t r = t.rank();
  if (-axis_end > r) return PerChannel::kBroadcast;
  const int64_t d = t.dim(r + axis_end);
  return d == m ? PerChannel::kCut : d == 1 ? PerChannel::kBroadcast : PerChannel::kNo;
}

// Follows one channel set both ways from its seed producer (see the header): forwards to
// every reader of each value in the set, backwards to the producer of each (residual
// operands). Returns the reason it cannot, or "".
class Walker {
 public:
  Walker(Model& model, GraphView& view, const ChannelPruneOptions& o, Plan& plan)
      : model_(model), view_(view), o_(o), plan_(plan) {}

  std::string run(Node& seed) {
    plan_.members.push_back(&seed);
    push(seed.outputs[0], 0, 0);
    while (!todo_.empty()) {
      const Item it = todo_.back();
      todo_.pop_back();
      plan_.values.push_back({it.v, it.off, it.width});
      const std::string name = model_.values[size_t(it.v)].name;
      if (view_.is_graph_output(it.v)) return "its channels reach graph output '" + name + "'";
      if (!it.width) {  // the set itself: its producer belongs to it too
        Node* p = view_.producer(it.v);
        if (!p) return "its channels come from graph input '" + name + "'";
        if (std::string why = visit(*p, -1, it); !why.empty()) return why;
      }
      for (Node* c : view_.consumers(it.v)) {
        if (std::count(c->inputs.begin(), c->inputs.end(), it.v) != 1) return c->describe() + " reads the channels twice";
        const int idx = int(std::find(c->inputs.begin(), c->inputs.end(), it.v) - c->inputs.begin());
        if (std::string why = visit(*c, idx, it); !why.empty()) return why;
      }
    }
    return "";
  }

 private:
  struct Item {
    int v;
    int64_t off, width;  // width 0: the set's own m channels
  };

  // Adds a value to the set; false when it is already in it in another form.
  bool push(int v, int64_t off, int64_t width) {
    auto [it, fresh] = seen_.emplace(v, std::make_pair(off, width));
    if (fresh) todo_.push_back({v, off, width});
    return fresh || it->second == std::make_pair(off, width);
  }
  std::string join(const Node& c, int v, const Item& it) {
    return push(v, it.off, it.width) ? "" : c.describe() + " meets the channels in two different layouts";
  }
  // The other outputs of a node followed must be unused.
  bool single_output(const Node& c) const {
    for (size_t o = 1; o < c.outputs.size(); ++o)
      if (c.outputs[o] != kNoValue && view_.uses(c.outputs[o]) > 0) return false;
    return true;
  }
  int rank_of(int v) const { return known_rank(model_, v) >= 0 ? known_rank(model_, v) : plan_.rank0; }

  // A per-channel (or broadcast) constant input of an op on the set.
  std::string constant_input(Node& c, size_t i, const Item& it, int64_t n) {
    const Tensor* t = constant_of(model_, c.inputs[i]);
    if (t->dtype() != DType::kF32) return c.describe() + ": constant is not float32";
    const PerChannel p = per_channel(*t, plan_.ax, n);
    if (p == PerChannel::kNo) return c.describe() + ": constant is not per channel";
    const int rank = rank_of(it.v);
    if (rank >= 0 && t->rank() > rank) return c.describe() + ": constant broadcasts to a higher rank";
    if (p == PerChannel::kCut) plan_.cuts.push_back({&c, i, plan_.ax, it.off, it.width});
    return "";
  }

  // A group-1 producer reached from its output: a member of a residual group.
  std::string member(Node& p) {
    if (std::find(plan_.members.begin(), plan_.members.end(), &p) != plan_.members.end()) return "";
    const std::string at = "joins " + p.describe();
    if (name_matches(p.name, o_.exclude) ||
        (input_of(p, 1) != kNoValue && name_matches(model_.values[size_t(p.inputs[1])].name, o_.exclude)))
      return at + ", which is excluded";
    std::vector<Cut> cuts;
    int ax = 0;
    int64_t m = 0;
    if (std::string why = producer_cuts(model_, p, ax, m, cuts); !why.empty()) return at + ": " + why;
    if (ax != plan_.ax || m != plan_.m) return at + ", whose channels differ in count or layout";
    if (view_.uses(p.inputs[1]) != 1) return at + ", whose weight is shared with another node";
    if (plan_.rank0 < 0 && is_conv(p)) plan_.rank0 = int(constant_of(model_, p.inputs[1])->rank());
    plan_.cuts.insert(plan_.cuts.end(), cuts.begin(), cuts.end());
    plan_.members.push_back(&p);
    plan_.through.push_back("residual " + p.name);
    return "";
  }

  // A Mul by a computed per-channel gate (squeeze-excite): the gate must come, through unary
  // activations read by nothing else, from a group-1 Conv / kiln.NhwcConv with m output
  // channels in the same layout; its filters are then cut with the same channels. Edits
  // `out` only on success.
  std::string gate(int g, Plan& out) {
    Plan plan;
    std::vector<int> values;
    Node* q = view_.producer(g);
    while (q && is_onnx(*q) && unary_ops().count(q->op_type) && q->op_type != "PRelu") {
      if (view_.uses(g) != 1 || view_.is_graph_output(g)) return "the gate is read elsewhere";
      values.push_back(g);
      g = q->inputs[0];
      q = view_.producer(g);
    }
    if (!q || !is_conv(*q)) return "the gate does not come from a convolution";
    if (view_.uses(g) != 1 || view_.is_graph_output(g)) return "the gate is read elsewhere";
    const Tensor* w = constant_of(model_, input_of(*q, 1));
    const int64_t m = plan_.m;
    if (!w || w->dtype() != DType::kF32 || !group1_conv(*q) || w->dim(0) != m || view_.uses(q->inputs[1]) != 1)
      return "the gate convolution's weight is not its own group-1 float32 [C, ...]";
    if ((q->op_type == ext::kNhwcConv ? -1 : 1 - int(w->rank())) != plan_.ax) return "layouts differ";
    plan.cuts.push_back({q, 1, 0});
    if (const Tensor* b = constant_of(model_, input_of(*q, 2))) {
      if (b->size() != m) return "gate bias is not [C]";
      plan.cuts.push_back({q, 2, 0});
    } else if (input_of(*q, 2) != kNoValue) {
      return "gate bias is not constant";
    }
    values.push_back(g);
    out.cuts.insert(out.cuts.end(), plan.cuts.begin(), plan.cuts.end());
    for (int v : values) out.values.push_back({v, 0, 0});
    out.through.push_back("gate " + q->name);
    return "";
  }

  // Node c touches the set at input `from` (-1: at its output 0).
  std::string visit(Node& c, int from, const Item& it) {
    const std::string at = c.describe();
    const bool weighted = (is_conv(c) && group1_conv(c)) || gemm_like(c);
    // Weighted layers once per side; a Concat once per input (a set may reach two of them).
    const bool concat_node = is_onnx(c) && c.op_type == "Concat";
    if (!handled_.insert({&c, weighted && from < 0 ? -1 : concat_node ? from : 0}).second) return "";
    const int64_t n = it.width ? it.width : plan_.m;  // channels of the tensor at hand
    const bool in0 = from == 0 || from < 0;           // the channel input (or the output side)
    if (weighted && from < 0) return member(c);
    if (is_onnx(c) && unary_ops().count(c.op_type)) {
      if (!in0) return at + " reads the channels as a parameter";
      if (c.op_type == "PRelu") {
        const Tensor* s = constant_of(model_, input_of(c, 1));
        if (!s) return at + ": slope is not a constant";
        const PerChannel p = per_channel(*s, plan_.ax, n);
        if (p == PerChannel::kNo) return at + ": slope is not per channel";
        if (p == PerChannel::kCut) plan_.cuts.push_back({&c, 1, plan_.ax, it.off, it.width});
      }
      if (!single_output(c)) return at + ": more than one output";
      plan_.through.push_back(c.op_type);
      return follow_node(c, it);
    }
    if (pool_ops().count(c.op_type)) {
      if (!in0 || !single_output(c)) return at + ": not a plain pool over the channels";
      plan_.through.push_back(c.op_type);
      return follow_node(c, it);
    }
    if (is_onnx(c) && c.op_type == "ReduceMean" && in0) {  // e.g. squeeze-excite's squeeze
      auto keep = c.attr_int("keepdims", 1);
      auto axes = c.attr_ints("axes", std::vector<int64_t>{});
      const int rank = rank_of(it.v);
      if (!keep.ok() || *keep != 1 || !axes.ok() || axes->empty() || rank < 0 || input_of(c, 1) != kNoValue)
        return at + ": not a keepdims ReduceMean over given axes";
      for (int64_t a : *axes)
        if ((a < 0 ? a + rank : a) == rank + plan_.ax) return at + " reduces over the channels";
      plan_.through.push_back("ReduceMean");
      return follow_node(c, it);
    }
    if (is_onnx(c) && c.op_type == "Resize" && in0) {
      const int rank = rank_of(it.v);
      if (input_of(c, 3) != kNoValue) return at + ": Resize by sizes";
      const Tensor* s = constant_of(model_, input_of(c, 2));
      if (!s || s->dtype() != DType::kF32 || rank < 0 || s->size() != rank || s->data<float>()[rank + plan_.ax] != 1.f)
        return at + ": Resize scales not constant or not 1 along the channels";
      plan_.through.push_back("Resize");
      return follow_node(c, it);
    }
    if (is_onnx(c) && c.op_type == "BatchNormalization" && in0) {
      const int rank = rank_of(it.v);
      if (rank < 0 || plan_.ax != 1 - rank) return at + ": channels are not on axis 1";
      for (size_t i = 1; i <= 4; ++i) {
        const Tensor* t = constant_of(model_, input_of(c, i));
        if (!t || t->dtype() != DType::kF32 || t->size() != n) return at + ": parameters are not constant [C]";
        plan_.cuts.push_back({&c, i, -1, it.off, it.width});
      }
      if (!single_output(c)) return at + ": training-mode outputs are used";
      plan_.through.push_back("BatchNormalization");
      return follow_node(c, it);
    }
    const bool affine = c.domain == ext::kDomain && c.op_type == "Affine";
    if ((is_onnx(c) && (c.op_type == "Mul" || c.op_type == "Add" || c.op_type == "Sub" || c.op_type == "Div")) ||
        affine)
      return elementwise(c, from, it, n, affine);
    if (is_conv(c) && from == 0) {
      const bool nhwc = c.op_type == ext::kNhwcConv;
      const Tensor* w = constant_of(model_, input_of(c, 1));
      if (!w || w->dtype() != DType::kF32) return at + ": weight is not a float32 constant";
      if (nhwc ? plan_.ax != -1 : plan_.ax != 1 - int(w->rank())) return at + ": channel axis does not match its layout";
      if (!weighted) return depthwise(c, it, n);
      if (w->dim(1) != n) return at + ": its input channels do not match";
      plan_.cuts.push_back({&c, 1, 1, it.off, it.width});
      plan_.consumers.push_back({&c, 1, it.v, it.off, it.width});
      return "";
    }
    if (is_conv(c) && from < 0) return depthwise(c, it, n);  // reached from its output
    if (gemm_like(c) && from == 0) {
      const Tensor* b = constant_of(model_, input_of(c, 1));
      if (!b || b->dtype() != DType::kF32 || b->rank() != 2) return at + ": B is not a 2-D float32 constant";
      if (plan_.ax != -1) return at + ": channels are not the last axis";
      int k_axis = 0;
      if (c.op_type == "Gemm") {
        auto ta = c.attr_int("transA", 0), tb = c.attr_int("transB", 0);
        if (!ta.ok() || !tb.ok() || *ta != 0) return at + ": transA";
        k_axis = *tb ? 1 : 0;
      }
      if (b->dim(k_axis) != n) return at + ": B does not have the channels as rows";
      plan_.cuts.push_back({&c, 1, k_axis, it.off, it.width});
      plan_.consumers.push_back({&c, k_axis, it.v, it.off, it.width});
      return "";
    }
    if (is_onnx(c) && c.op_type == "Concat" && from >= 0) return concat(c, from, it, n);
    if (is_onnx(c) && c.op_type == "Concat") return "its channels come from " + at + " (a residual operand)";
    return at + " cannot be followed";
  }

  // Input 0 and output 0 of a channel-wise node carry the set.
  std::string follow_node(Node& c, const Item& it) {
    if (std::string why = join(c, c.inputs[0], it); !why.empty()) return why;
    return join(c, c.outputs[0], it);
  }

  std::string depthwise(Node& c, const Item& it, int64_t n) {
    const std::string at = c.describe();
    const Tensor* w = constant_of(model_, input_of(c, 1));
    auto group = c.attr_int("group", 1);
    if (!w || w->dtype() != DType::kF32 || !group.ok()) return at + ": weight is not a float32 constant";
    if (c.op_type == ext::kNhwcConv ? plan_.ax != -1 : plan_.ax != 1 - int(w->rank()))
      return at + ": channel axis does not match its layout";
    if (!(*group == n && w->dim(0) == n && w->dim(1) == 1)) return at + ": grouped convolution";
    plan_.cuts.push_back({&c, 1, 0, it.off, it.width});
    if (const Tensor* b = constant_of(model_, input_of(c, 2))) {
      if (b->size() != n) return at + ": bias is not [C]";
      plan_.cuts.push_back({&c, 2, 0, it.off, it.width});
    } else if (input_of(c, 2) != kNoValue) {
      return at + ": bias is not constant";
    }
    plan_.cuts.push_back({&c, 0, 0, it.off, it.width});  // marker: the group follows (input 0 is not cut)
    plan_.through.push_back(c.op_type + "(dw)");
    return follow_node(c, it);
  }

  // Mul / Add / Sub / Div / kiln.Affine touching the set at input `from` or its output.
  std::string elementwise(Node& c, int from, const Item& it, int64_t n, bool affine) {
    const std::string at = c.describe();
    std::vector<size_t> computed;
    for (size_t i = 0; i < c.inputs.size(); ++i)
      if (c.inputs[i] != kNoValue && !constant_of(model_, c.inputs[i])) computed.push_back(i);
    const bool add = !affine && (c.op_type == "Add" || c.op_type == "Sub");
    const bool mul = !affine && c.op_type == "Mul";
    if (add) {  // a residual join: every computed operand carries the same channels
      if (it.width && computed.size() > 1) return at + " adds a Concat's channels to another computed tensor";
      for (size_t i : computed) {
        if (int(i) == from) continue;
        if (auto d = known_dims(model_, c.inputs[i]); d && (int64_t(d->size()) + plan_.ax < 0 ||
                                                            (*d)[d->size() + size_t(plan_.ax)] != n))
          return at + " adds a tensor that broadcasts across the channels";
        if (std::string why = join(c, c.inputs[i], it); !why.empty()) return why;
      }
      if (computed.size() > 1) plan_.through.push_back(c.op_type + "(residual)");
    } else if (mul) {  // at most one operand carries the set; any other computed one is a gate
      int main = from;
      if (main < 0 && computed.size() == 1) main = int(computed[0]);
      std::string why;
      if (main < 0 && computed.size() == 2 && it.width == 0)  // reached from the output: which is the gate?
        for (size_t k = 0; k < 2 && main < 0; ++k) {
          Plan trial;
          trial.m = plan_.m, trial.ax = plan_.ax;
          if (gate(c.inputs[computed[k]], trial).empty()) main = int(computed[1 - k]);
        }
      if (main < 0) return at + " multiplies two computed tensors, neither a prunable gate";
      for (size_t i : computed) {
        if (int(i) == main) continue;
        if (it.width) return at + " multiplies a Concat's channels by a computed tensor";
        why = gate(c.inputs[i], plan_);
        if (!why.empty()) return at + " multiplies by a computed gate that cannot be pruned with it (" + why + ")";
      }
      if (from < 0) {
        if (std::string j = join(c, c.inputs[size_t(main)], it); !j.empty()) return j;
      }
    } else {  // Div, kiln.Affine: only input 0 may be computed
      if (computed.size() > 1 || (!computed.empty() && computed[0] != 0)) return at + " combines two computed tensors";
      if (from > 0) return at + " reads the channels as a parameter";
      if (from < 0)
        if (std::string j = join(c, c.inputs[0], it); !j.empty()) return j;
    }
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (c.inputs[i] == kNoValue || std::count(computed.begin(), computed.end(), i)) continue;
      if (std::string why = constant_input(c, i, it, n); !why.empty()) return why;
    }
    if (!add || computed.size() < 2) plan_.through.push_back(affine ? "Affine" : c.op_type);
    return join(c, c.outputs[0], it);
  }

  // Concat along the channels: past it the set is the slice at this input's offset.
  std::string concat(Node& c, int from, const Item& it, int64_t n) {
    const std::string at = c.describe();
    const int rank = rank_of(it.v);
    auto axis = c.attr_int("axis");
    if (!axis.ok() || rank < 0 || (*axis < 0 ? *axis + rank : *axis) != rank + plan_.ax)
      return at + " does not concatenate along the channels";
    int64_t off = it.off, width = 0;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      int64_t ch = n;
      if (int(i) != from) {
        auto d = known_dims(model_, c.inputs[i]);
        if (!d || int(d->size()) != rank) return at + ": an input's channel count is unknown";
        ch = (*d)[size_t(rank + plan_.ax)];
      }
      if (int(i) < from) off += ch;
      width += ch;
    }
    if (!single_output(c)) return at + ": more than one output";
    plan_.through.push_back("Concat");
    return push(c.outputs[0], off, width) ? "" : at + " meets the channels in two different layouts";
  }

  Model& model_;
  GraphView& view_;
  const ChannelPruneOptions& o_;
  Plan& plan_;
  std::vector<Item> todo_;
  std::map<int, std::pair<int64_t, int64_t>> seen_;
  std::set<std::pair<const Node*, int>> handled_;
};

}  // namespace

bool group1_conv(const Node& n) {
  auto g = n.attr_int("group", 1);
  return is_conv(n) && g.ok() && *g == 1;
}
bool gemm_like(const Node& n) { return is_onnx(n) && (n.op_type == "Gemm" || n.op_type == "MatMul"); }

std::string producer_cuts(const Model& model, Node& p, int& ax, int64_t& m, std::vector<Cut>& cuts) {
  const Tensor* w = constant_of(model, input_of(p, 1));
  if (!w || w->dtype() != DType::kF32) return "weight is not a float32 constant";
  if (is_conv(p)) {
    auto group = p.attr_int("group", 1);
    if (!group.ok() || *group != 1) return "grouped convolution (pruned with its input instead)";
    m = w->dim(0);
    ax = p.op_type == ext::kNhwcConv ? -1 : 1 - int(w->rank());
    cuts.push_back({&p, 1, 0});
    if (const Tensor* b = constant_of(model, input_of(p, 2))) {
      if (b->size() != m) return "bias is not [M]";
      cuts.push_back({&p, 2, 0});
    } else if (input_of(p, 2) != kNoValue) {
      return "bias is not constant";
    }
    return "";
  }
  if (w->rank() != 2) return "B is not 2-D";
  ax = -1;
  int n_axis = 1;
  if (p.op_type == "Gemm") {
    auto ta = p.attr_int("transA", 0), tb = p.attr_int("transB", 0);
    if (!ta.ok() || !tb.ok() || *ta != 0) return "transA or bad attributes";
    n_axis = *tb ? 0 : 1;
  }
  m = w->dim(n_axis);
  cuts.push_back({&p, 1, n_axis});
  const int bias = input_of(p, 2);
  if (bias != kNoValue) {
    const Tensor* b = constant_of(model, bias);
    if (!b || b->dtype() != DType::kF32) return "bias is not a float32 constant";
    const PerChannel pc = per_channel(*b, -1, m);
    if (pc == PerChannel::kNo) return "bias is not per output channel";
    if (pc == PerChannel::kCut) cuts.push_back({&p, 2, -1});
  }
  return "";
}

std::string follow_channel_set(Model& model, GraphView& view, const ChannelPruneOptions& options, Plan& plan,
                               Node& seed) {
  return Walker(model, view, options, plan).run(seed);
}

}  // namespace kiln::channel_sets
