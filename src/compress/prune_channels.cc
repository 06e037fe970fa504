// Structured channel pruning (prune_channels.h): plan every edit of one channel set (a
// residual group, Concat slices included) first, apply it only when the whole set can be
// followed.
#include "compress/prune_channels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <set>
#include <tuple>

#include "compress/channel_means.h"
#include "compress/int8_dynamic.h"  // name_matches
#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/shape_inference.h"

namespace kiln {
namespace {

bool is_conv(const Node& n) {
  return (n.op_type == "Conv" && (n.domain.empty() || n.domain == "ai.onnx")) ||
         (n.op_type == ext::kNhwcConv && n.domain == ext::kDomain);
}
bool is_onnx(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

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

// One constant input of one node to cut along `axis` (negative: from the end). On a wider
// tensor past a Concat (`width` > 0) only the slice [off, off + m) loses channels.
struct Cut {
  Node* node;
  size_t input;
  int axis;
  int64_t off = 0, width = 0;
};

// A weight that loses input channels, and the value its node reads them from.
struct ConsumerCut {
  Node* node;
  int axis;
  int value;
  int64_t off = 0, width = 0;
};

struct Plan {
  int ax = 0;          // channel axis from the end
  int64_t m = 0;       // channels of the set
  int rank0 = -1;      // rank of the carrying values when a convolution fixes it
  std::vector<Cut> cuts;
  struct Carried {
    int v;
    int64_t off, width;  // width 0: the set's own m channels; else a slice of a Concat's
  };
  std::vector<Carried> values;                  // carrying the channels
  std::vector<Node*> members;                   // producers of the set, the seed first
  std::vector<ConsumerCut> consumers;
  std::vector<std::string> through;
};

// A constant's dims seen from the end: where `axis_end` (< 0) falls, whether it must be cut
// (dim == m), left (dim 1 or absent) or cannot follow (another size).
enum class PerChannel { kCut, kBroadcast, kNo };
PerChannel per_channel(const Tensor& t, int axis_end, int64_t m) {
  const int64_t r = t.rank();
  if (-axis_end > r) return PerChannel::kBroadcast;
  const int64_t d = t.dim(r + axis_end);
  return d == m ? PerChannel::kCut : d == 1 ? PerChannel::kBroadcast : PerChannel::kNo;
}

bool group1_conv(const Node& n) {
  auto g = n.attr_int("group", 1);
  return is_conv(n) && g.ok() && *g == 1;
}
bool gemm_like(const Node& n) { return is_onnx(n) && (n.op_type == "Gemm" || n.op_type == "MatMul"); }

// A producer's own cuts (weight first, output axis) and channel axis; "" when it can be one.
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
    if (!handled_.insert({&c, weighted && from < 0 ? -1 : 0}).second) return "";
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

// Keeps `keep` (sorted) indices of t along axis.
Tensor gather(const Tensor& t, int axis, const std::vector<int64_t>& keep) {
  const int64_t r = t.rank();
  const int64_t a = axis < 0 ? r + axis : axis;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < a; ++i) outer *= t.dim(i);
  for (int64_t i = a + 1; i < r; ++i) inner *= t.dim(i);
  const int64_t n = t.dim(a), k = int64_t(keep.size());
  std::vector<float> out(size_t(outer * k * inner));
  const float* src = t.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < k; ++j)
      std::copy_n(src + (o * n + keep[size_t(j)]) * inner, inner, out.begin() + (o * k + j) * inner);
  Dims d = t.dims();
  d[size_t(a)] = k;
  return Tensor::from_f32(out, d);
}

int64_t rounded_keep(int64_t m, double fraction) {
  int64_t keep = m - std::llround(fraction * double(m));
  const int64_t q = m >= 32 ? 8 : 4;
  keep = std::max<int64_t>(q, (keep + q - 1) / q * q);
  return std::min(keep, m);
}

// The indices a tensor of `width` channels keeps when the slice at `off` keeps `keep`.
std::vector<int64_t> slice_keep(const std::vector<int64_t>& keep, int64_t m, int64_t off, int64_t width) {
  if (!width) return keep;
  std::vector<int64_t> k;
  for (int64_t i = 0; i < off; ++i) k.push_back(i);
  for (int64_t i : keep) k.push_back(off + i);
  for (int64_t i = off + m; i < width; ++i) k.push_back(i);
  return k;
}

// What each value a consumer reads has lost so far: its channels' numbers in the original
// model and (with calibration) their measured means and variances.
struct ChannelTrack {
  std::vector<int64_t> ids;
  std::vector<double> mean, var;
};

// With channel statistics: how much each channel of the set matters to its consumers, as the
// squared error replacing it by its mean would add to each consumer's output (variance times
// the squared weights that read it), relative to that output's energy, summed over consumers.
// False when some consumer has no statistics (then the weight norms rank instead).
bool activation_scores(const Model& model, const Plan& plan, const std::map<int, ChannelTrack>& tracks,
                       std::vector<double>& score) {
  std::vector<double> s(size_t(plan.m), 0.0);
  std::set<std::pair<const Node*, int>> seen;
  for (const ConsumerCut& cc : plan.consumers) {
    if (!seen.insert({cc.node, cc.axis}).second) continue;
    const int64_t width = cc.width ? cc.width : plan.m;
    auto it = tracks.find(cc.value);
    if (it == tracks.end() || int64_t(it->second.var.size()) != width) return false;
    const ChannelTrack& t = it->second;
    const Tensor& w = *constant_of(model, cc.node->inputs[1]);
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < cc.axis; ++i) outer *= w.dim(i);
    for (int64_t i = cc.axis + 1; i < w.rank(); ++i) inner *= w.dim(i);
    if (w.dim(cc.axis) != width) return false;
    std::vector<double> wn(size_t(width), 0.0);
    const float* p = w.data<float>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < width; ++j)
        for (int64_t k = 0; k < inner; ++k) wn[size_t(j)] += double(p[(o * width + j) * inner + k]) * p[(o * width + j) * inner + k];
    double energy = 0;
    for (int64_t j = 0; j < width; ++j) energy += (t.var[size_t(j)] + t.mean[size_t(j)] * t.mean[size_t(j)]) * wn[size_t(j)];
    if (energy <= 0) continue;
    for (int64_t k = 0; k < plan.m; ++k) s[size_t(k)] += t.var[size_t(cc.off + k)] * wn[size_t(cc.off + k)] / energy;
  }
  score = std::move(s);
  return true;
}

// Adds delta[o] (per output channel) to consumer c's bias, creating one where the op allows;
// false when it cannot (nothing changed).
bool add_to_bias(Model& model, GraphView& view, Node& c, const std::vector<double>& delta, const Plan& plan) {
  const bool member = std::find(plan.members.begin(), plan.members.end(), &c) != plan.members.end();
  const int64_t nout = int64_t(delta.size());
  float scale = 1.f;  // Gemm's C is multiplied by beta
  if (c.op_type == "Gemm") {
    auto beta = c.attr_float("beta", 1.f);
    if (!beta.ok() || *beta == 0.f) return false;
    scale = 1.f / *beta;
  }
  const int b = input_of(c, 2);
  if (b == kNoValue) {
    if (member) return false;  // its planned cuts do not include a bias
    if (c.op_type == "MatMul") {
      Attribute on;
      on.kind = Attribute::Kind::kInt;
      on.i = 1;
      c.attrs[ext::kMatMulBias] = on;
    }
    std::vector<float> v(static_cast<size_t>(nout));
    for (int64_t o = 0; o < nout; ++o) v[size_t(o)] = float(delta[size_t(o)]) * scale;
    c.inputs.resize(3, kNoValue);
    c.inputs[2] = add_constant(model, c.name + "_compensation", Tensor::from_f32(v, {nout}));
    return true;
  }
  const Tensor* t = constant_of(model, b);
  if (!t || t->dtype() != DType::kF32) return false;
  if (auto on = c.attr_int(ext::kMatMulBias, 0); c.op_type == "MatMul" && (!on.ok() || *on != 1)) return false;
  if (t->rank() == 0 || t->dim(t->rank() - 1) != nout) return false;  // a broadcast bias: left as is
  std::vector<float> v = floats_of(*t);
  for (size_t i = 0; i < v.size(); ++i) v[i] += float(delta[i % size_t(nout)]) * scale;
  Tensor nt = Tensor::from_f32(v, t->dims());
  if (view.uses(b) == 1) {
    model.values[size_t(b)].data = std::move(nt);
  } else {
    c.inputs[2] = add_constant(model, model.values[size_t(b)].name + "_compensated", std::move(nt));
  }
  return true;
}

// The consumer's weight slices for channels `pos` (their index along `axis`), times their
// means, summed per output channel.
std::vector<double> compensation(const Tensor& w, int axis, const std::vector<int64_t>& pos,
                                 const std::vector<double>& mean) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= w.dim(i);
  for (int64_t i = axis + 1; i < w.rank(); ++i) inner *= w.dim(i);
  const int64_t n = w.dim(axis);
  const float* p = w.data<float>();
  // axis 1 ([M, C, taps...] or Gemm transB [N, K]): outputs along axis 0; axis 0 ([K, N]): along 1.
  std::vector<double> delta(size_t(axis == 0 ? inner : outer), 0.0);
  for (size_t j = 0; j < pos.size(); ++j)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t t = 0; t < inner; ++t)
        delta[size_t(axis == 0 ? t : o)] += mean[j] * double(p[(o * n + pos[j]) * inner + t]);
  return delta;
}

void apply(Model& model, GraphView& view, const Plan& plan, const std::vector<int64_t>& keep,
           std::map<int, ChannelTrack>& tracks, PrunedChannels& info, ChannelPruneStats& st) {
  const size_t known = model.values.size();  // constants added from here on are read once
  const int64_t m = plan.m, removed = m - int64_t(keep.size());
  std::vector<int64_t> gone;  // removed channel indices of the set
  for (int64_t i = 0, j = 0; i < m; ++i) {
    if (j < int64_t(keep.size()) && keep[size_t(j)] == i) ++j;
    else gone.push_back(i);
  }
  // Consumers first, on the weights as they are: which channels, and bias compensation.
  std::set<std::pair<const Node*, int>> seen;
  for (const ConsumerCut& cc : plan.consumers) {
    if (!seen.insert({cc.node, cc.axis}).second) continue;
    const int64_t width = cc.width ? cc.width : m;
    ChannelTrack& t = tracks[cc.value];
    if (int64_t(t.ids.size()) != width) {  // first cut here (or means of another shape: not used)
      t.mean.clear();
      t.var.clear();
      t.ids.resize(size_t(width));
      std::iota(t.ids.begin(), t.ids.end(), 0);
    }
    ChannelConsumer out{cc.node->name, cc.axis, {}, false};
    std::vector<int64_t> pos;
    std::vector<double> mean;
    for (int64_t g : gone) {
      pos.push_back(cc.off + g);
      out.removed.push_back(t.ids[size_t(cc.off + g)]);
      if (!t.mean.empty()) mean.push_back(t.mean[size_t(cc.off + g)]);
    }
    if (!t.mean.empty()) {
      const std::vector<double> delta = compensation(*constant_of(model, cc.node->inputs[1]), cc.axis, pos, mean);
      out.compensated = add_to_bias(model, view, *cc.node, delta, plan);
      ++(out.compensated ? st.compensated : st.uncompensated);
    }
    info.consumers.push_back(std::move(out));
  }
  std::set<std::tuple<const Node*, size_t, int>> done;
  for (const Cut& c : plan.cuts) {
    if (!done.insert({c.node, c.input, c.axis}).second) continue;
    const std::vector<int64_t> k = slice_keep(keep, m, c.off, c.width);
    if (c.input == 0) {  // depthwise marker: its group is the new channel count
      Attribute g;
      g.kind = Attribute::Kind::kInt;
      g.i = int64_t(k.size());
      c.node->attrs["group"] = g;
      continue;
    }
    const int v = c.node->inputs[c.input];
    Tensor t = gather(*constant_of(model, v), c.axis, k);
    if (size_t(v) >= known || view.uses(v) == 1) {
      Value& val = model.values[size_t(v)];
      val.shape = shape_from_dims(t.dims());
      val.data = std::move(t);
    } else {  // shared with another node: that one keeps the original
      c.node->inputs[c.input] = add_constant(model, model.values[size_t(v)].name + "_pruned", std::move(t));
    }
  }
  for (const auto& [v, off, width] : plan.values) {
    if (auto it = tracks.find(v); it != tracks.end()) {
      const std::vector<int64_t> k = slice_keep(keep, m, off, width);
      ChannelTrack& t = it->second;
      ChannelTrack nt;
      for (int64_t i : k) {
        if (!t.ids.empty()) nt.ids.push_back(t.ids[size_t(i)]);
        if (!t.mean.empty()) nt.mean.push_back(t.mean[size_t(i)]);
        if (!t.var.empty()) nt.var.push_back(t.var[size_t(i)]);
      }
      t = std::move(nt);
    }
    Value& val = model.values[size_t(v)];
    if (!val.shape) continue;
    const int r = int(val.shape->size());
    if (r + plan.ax < 0) continue;
    Dim& d = (*val.shape)[size_t(r + plan.ax)];
    if (!width) d = Dim{int64_t(keep.size()), ""};
    else d = Dim{width - removed, ""};
  }
  view.refresh();
}
}  // namespace

int64_t float_params(const Model& model) {
  int64_t n = 0;
  for (const Value& v : model.values)
    if (v.data && v.data->dtype() == DType::kF32) n += v.data->size();
  return n;
}

Result<ChannelPruneStats> prune_channels(Model& model, const ChannelPruneOptions& o) {
  if (!(o.fraction >= 0 && o.fraction < 1)) return invalid_argument("channel pruning fraction must be in [0, 1)");
  for (const auto& [name, f] : o.fractions)
    if (!(f >= 0 && f < 1)) return invalid_argument("channel pruning fraction of '" + name + "' must be in [0, 1)");
  ChannelPruneStats st;
  st.params_before = float_params(model);
  std::map<int, ChannelTrack> tracks;
  if (!o.calibration.empty()) {
    ChannelStatsMap means;
    if (o.channel_means) {
      means = *o.channel_means;
    } else {
      KILN_ASSIGN_OR_RETURN(means, consumer_input_means(model, o.calibration));
    }
    for (auto& [v, cs] : means) {
      ChannelTrack& t = tracks[v];
      t.ids.resize(cs.mean.size());
      std::iota(t.ids.begin(), t.ids.end(), 0);
      t.mean = std::move(cs.mean);
      t.var = std::move(cs.var);
    }
    st.calibration_samples = int(o.calibration.size());
  }
  GraphView view(model);
  std::vector<Node*> producers;
  for (Node& n : model.graph.nodes)  // main graph only: subgraph values are not followed
    if (is_conv(n) || gemm_like(n)) producers.push_back(&n);
  std::set<const Node*> done;  // in a group already pruned or refused
  for (Node* p : producers) {
    if (done.count(p)) continue;
    Plan plan;
    auto skip = [&](const std::string& why) { st.skipped.push_back(p->describe() + ": " + why); };
    if (name_matches(p->name, o.exclude) ||
        (input_of(*p, 1) != kNoValue && name_matches(model.values[size_t(p->inputs[1])].name, o.exclude))) {
      skip("excluded");
      continue;
    }
    std::string why = producer_cuts(model, *p, plan.ax, plan.m, plan.cuts);
    if (!why.empty()) {
      if (why.rfind("grouped", 0) != 0) skip(why);  // depthwise layers are not producers: no line
      continue;
    }
    if (view.uses(p->inputs[1]) != 1) {
      skip("weight shared with another node");
      continue;
    }
    const int64_t m = plan.m;
    if (m < o.min_channels) {
      skip(std::to_string(m) + " output channels: too few to prune");
      continue;
    }
    if (is_conv(*p)) plan.rank0 = int(constant_of(model, p->inputs[1])->rank());
    why = Walker(model, view, o, plan).run(*p);
    done.insert(plan.members.begin(), plan.members.end());  // walked once, whatever the outcome
    const std::string group =
        plan.members.size() > 1 ? " (residual group of " + std::to_string(plan.members.size()) + " producers)" : "";
    if (!why.empty()) {
      skip(why + group);
      continue;
    }
    const auto own = o.fractions.find(p->name);
    const double fraction = own != o.fractions.end() ? own->second : o.listed_only ? 0.0 : o.fraction;
    if (fraction <= 0) {
      skip("kept whole (its own fraction is 0)" + group);
      continue;
    }
    const int64_t keep_n = rounded_keep(m, fraction);
    if (keep_n >= m) {
      skip(std::to_string(m) + " output channels: nothing to remove after rounding to the kernel tile" + group);
      continue;
    }
    if (plan.consumers.empty()) {
      skip("no consumer whose input channels could be cut" + group);
      continue;
    }
    // Importance: with calibration, what each channel adds to its consumers' outputs
    // (activation_scores); else each member's L1 norm per output channel (times an unfolded
    // BN's scale), divided by its mean so members of a residual group weigh alike; summed.
    std::vector<double> score(size_t(m), 0.0);
    const bool measured = activation_scores(model, plan, tracks, score);
    for (Node* q : measured ? std::vector<Node*>{} : plan.members) {
      const Tensor& w = *constant_of(model, q->inputs[1]);
      int64_t wa = 0;
      for (const Cut& c : plan.cuts)
        if (c.node == q && c.input == 1) {
          wa = c.axis < 0 ? w.rank() + c.axis : c.axis;
          break;
        }
      int64_t inner = 1;
      for (int64_t i = wa + 1; i < w.rank(); ++i) inner *= w.dim(i);
      std::vector<double> norm(size_t(m), 0.0);
      for (int64_t i = 0; i < w.size(); ++i) norm[size_t((i / inner) % m)] += std::fabs(w.data<float>()[i]);
      for (Node* c : view.consumers(q->outputs[0]))  // BN right after the producer
        if (is_onnx(*c) && c->op_type == "BatchNormalization" && c->inputs[0] == q->outputs[0]) {
          const Tensor* g = constant_of(model, input_of(*c, 1));
          const Tensor* var = constant_of(model, input_of(*c, 4));
          auto e = c->attr_float("epsilon", 1e-5f);
          const float eps = e.ok() ? *e : 1e-5f;
          if (g && var && g->size() == m && var->size() == m)
            for (int64_t i = 0; i < m; ++i)
              norm[size_t(i)] *= std::fabs(g->data<float>()[i]) / std::sqrt(var->data<float>()[i] + eps);
        }
      const double mean = std::accumulate(norm.begin(), norm.end(), 0.0) / double(m);
      for (int64_t i = 0; i < m; ++i) score[size_t(i)] += mean > 0 ? norm[size_t(i)] / mean : 0.0;
    }
    std::vector<int64_t> order(static_cast<size_t>(m));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[size_t(a)] > score[size_t(b)]; });
    std::vector<int64_t> keep(order.begin(), order.begin() + keep_n);
    std::sort(keep.begin(), keep.end());
    PrunedChannels info;
    info.node = p->name;
    for (Node* q : plan.members) info.group.push_back(q->name);
    info.through = plan.through;
    info.before = m;
    info.after = keep_n;
    info.kept = keep;
    apply(model, view, plan, keep, tracks, info, st);
    st.channels_before += m * int64_t(plan.members.size());
    st.channels_after += keep_n * int64_t(plan.members.size());
    st.pruned.push_back(std::move(info));
  }
  if (Status s = validate_and_sort(model); !s.ok()) return s.with_context("after channel pruning");
  if (Status s = infer_shapes(model); !s.ok()) return s.with_context("after channel pruning");
  st.params_after = float_params(model);
  return st;
}

Result<int64_t> count_macs(const Model& model, const std::map<std::string, Dims>& input_dims) {
  Model m = model;
  for (int i : m.graph.inputs) {
    Value& v = m.values[size_t(i)];
    auto it = input_dims.find(v.name);
    if (it != input_dims.end()) {
      v.shape = shape_from_dims(it->second);
    } else if (v.shape) {
      for (Dim& d : *v.shape)
        if (!d.fixed()) d = Dim{1, ""};
    }
  }
  if (Status s = infer_shapes(m); !s.ok()) return s;
  int64_t macs = 0;
  for (const Node& n : m.graph.nodes) {
    const bool conv = is_conv(n) || (n.domain == ext::kDomain && n.op_type == "DynamicQuantConv");
    const bool mm = (is_onnx(n) && (n.op_type == "MatMul" || n.op_type == "Gemm")) ||
                    (n.domain == ext::kDomain && n.op_type == "DynamicQuantMatMul");
    if (!conv && !mm) continue;
    auto out = known_dims(m, n.outputs[0]);
    auto w = known_dims(m, input_of(n, 1));
    if (!out || !w) continue;  // shape left unknown (e.g. behind a computed Reshape): not counted
    int64_t per = 1;
    if (conv) {
      for (size_t i = 1; i < w->size(); ++i) per *= (*w)[i];
    } else if (n.op_type == "Gemm") {
      auto tb = n.attr_int("transB", 0);
      per = (*w)[tb.ok() && *tb ? 1 : 0];
    } else {
      per = (*w)[w->size() - 2 < w->size() ? w->size() - 2 : 0];
    }
    macs += num_elements(*out) * per;
  }
  return macs;
}

Result<double> parse_channel_fraction(const std::string& text) {
  char* end = nullptr;
  const double f = std::strtod(text.c_str(), &end);
  if (text.empty() || !end || *end != '\0' || !(f > 0 && f < 1))
    return invalid_argument("--prune-channels '" + text + "': expected a fraction in (0, 1), e.g. 0.3");
  return f;
}

}  // namespace kiln
