// Structured channel pruning (prune_channels.h): plan every edit of one channel set first,
// apply it only when the whole set can be followed.
#include "compress/prune_channels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <set>

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

// One constant input of one node to cut along `axis` (negative: from the end).
struct Cut {
  Node* node;
  size_t input;
  int axis;
};

struct Plan {
  std::vector<Cut> cuts;
  std::vector<int> values;  // carrying the channels (declared shapes to update)
  std::vector<float> bn_scale;  // per channel, from an unfolded BatchNormalization
  PrunedChannels info;
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

// A Mul by a computed per-channel gate (squeeze-excite): the gate must come, through unary
// activations read by nothing else, from a group-1 Conv / kiln.NhwcConv with m output
// channels in the same layout; its filters are then cut with the same channels.
std::string follow_gate(Model& model, GraphView& view, int g, int ax, int64_t m, Plan& plan) {
  std::vector<int> values;
  Node* q = view.producer(g);
  while (q && is_onnx(*q) && unary_ops().count(q->op_type) && q->op_type != "PRelu") {
    if (view.uses(g) != 1 || view.is_graph_output(g)) return "the gate is read elsewhere";
    values.push_back(g);
    g = q->inputs[0];
    q = view.producer(g);
  }
  if (!q || !is_conv(*q)) return "the gate does not come from a convolution";
  if (view.uses(g) != 1 || view.is_graph_output(g)) return "the gate is read elsewhere";
  const Tensor* w = constant_of(model, input_of(*q, 1));
  auto group = q->attr_int("group", 1);
  if (!w || w->dtype() != DType::kF32 || !group.ok() || *group != 1 || w->dim(0) != m ||
      view.uses(q->inputs[1]) != 1)
    return "the gate convolution's weight is not its own group-1 float32 [C, ...]";
  if ((q->op_type == ext::kNhwcConv ? -1 : 1 - int(w->rank())) != ax) return "layouts differ";
  plan.cuts.push_back({q, 1, 0});
  if (const Tensor* b = constant_of(model, input_of(*q, 2))) {
    if (b->size() != m) return "gate bias is not [C]";
    plan.cuts.push_back({q, 2, 0});
  } else if (input_of(*q, 2) != kNoValue) {
    return "gate bias is not constant";
  }
  values.push_back(g);
  plan.values.insert(plan.values.end(), values.begin(), values.end());
  plan.info.through.push_back("gate " + q->name);
  return "";
}

// Follows the channel set from value v (channel axis `ax` from the end, m channels).
// Returns the reason it cannot, or "".
// `rank0`: the rank of the channel-carrying values when the producer fixes it (a
// convolution's), else -1; every op followed keeps the rank.
std::string follow(Model& model, GraphView& view, int v0, int ax, int64_t m, int rank0, Plan& plan) {
  std::vector<int> todo{v0};
  std::set<int> seen{v0};
  while (!todo.empty()) {
    const int v = todo.back();
    todo.pop_back();
    plan.values.push_back(v);
    if (view.is_graph_output(v)) return "its channels reach graph output '" + model.values[size_t(v)].name + "'";
    const int rank = known_rank(model, v) >= 0 ? known_rank(model, v) : rank0;
    for (Node* c : view.consumers(v)) {
      const std::string at = c->describe();
      if (std::count(c->inputs.begin(), c->inputs.end(), v) != 1) return at + " reads the channels twice";
      const size_t idx = size_t(std::find(c->inputs.begin(), c->inputs.end(), v) - c->inputs.begin());
      auto go_on = [&](const std::string& what) {
        plan.info.through.push_back(what);
        for (size_t o = 1; o < c->outputs.size(); ++o)
          if (c->outputs[o] != kNoValue && view.uses(c->outputs[o]) > 0) return false;
        if (seen.insert(c->outputs[0]).second) todo.push_back(c->outputs[0]);
        return true;
      };
      if (is_onnx(*c) && unary_ops().count(c->op_type) && idx == 0) {
        if (c->op_type == "PRelu") {
          const Tensor* s = constant_of(model, input_of(*c, 1));
          if (!s) return at + ": slope is not a constant";
          const PerChannel p = per_channel(*s, ax, m);
          if (p == PerChannel::kNo) return at + ": slope is not per channel";
          if (p == PerChannel::kCut) plan.cuts.push_back({c, 1, ax});
        }
        if (!go_on(c->op_type)) return at + ": more than one output";
        continue;
      }
      if (pool_ops().count(c->op_type) && idx == 0) {
        if (!go_on(c->op_type)) return at + ": Indices output is used";
        continue;
      }
      if (is_onnx(*c) && c->op_type == "ReduceMean" && idx == 0) {  // e.g. squeeze-excite's squeeze
        auto keep = c->attr_int("keepdims", 1);
        auto axes = c->attr_ints("axes", std::vector<int64_t>{});
        if (!keep.ok() || *keep != 1 || !axes.ok() || axes->empty() || rank < 0 || input_of(*c, 1) != kNoValue)
          return at + ": not a keepdims ReduceMean over given axes";
        for (int64_t a : *axes)
          if ((a < 0 ? a + rank : a) == rank + ax) return at + " reduces over the channels";
        go_on("ReduceMean");
        continue;
      }
      if (is_onnx(*c) && c->op_type == "Resize" && idx == 0) {
        if (input_of(*c, 3) != kNoValue) return at + ": Resize by sizes";
        const Tensor* s = constant_of(model, input_of(*c, 2));
        if (!s || s->dtype() != DType::kF32 || rank < 0 || s->size() != rank ||
            s->data<float>()[rank + ax] != 1.f)
          return at + ": Resize scales not constant or not 1 along the channels";
        go_on("Resize");
        continue;
      }
      if (is_onnx(*c) && c->op_type == "BatchNormalization" && idx == 0) {
        if (rank < 0 || ax != 1 - rank) return at + ": channels are not on axis 1";
        for (size_t i = 1; i <= 4; ++i) {
          const Tensor* t = constant_of(model, input_of(*c, i));
          if (!t || t->dtype() != DType::kF32 || t->size() != m) return at + ": parameters are not constant [C]";
          plan.cuts.push_back({c, i, -1});
        }
        if (v == v0 && plan.bn_scale.empty()) {  // BN right after the producer: rank by its output scale
          auto eps = c->attr_float("epsilon", 1e-5f);
          const float* g = constant_of(model, c->inputs[1])->data<float>();
          const float* var = constant_of(model, c->inputs[4])->data<float>();
          for (int64_t i = 0; i < m; ++i)
            plan.bn_scale.push_back(std::fabs(g[i]) / std::sqrt(var[i] + (eps.ok() ? *eps : 1e-5f)));
        }
        if (!go_on("BatchNormalization")) return at + ": training-mode outputs are used";
        continue;
      }
      const bool affine = c->domain == ext::kDomain && c->op_type == "Affine";
      if ((is_onnx(*c) && (c->op_type == "Mul" || c->op_type == "Add" || c->op_type == "Sub" ||
                           c->op_type == "Div")) || affine) {
        for (size_t i = 0; i < c->inputs.size(); ++i) {
          if (i == idx) continue;
          const Tensor* t = constant_of(model, c->inputs[i]);
          if (!t && c->op_type == "Mul" && !affine) {
            const std::string why = follow_gate(model, view, c->inputs[i], ax, m, plan);
            if (!why.empty()) return at + " multiplies by a computed gate that cannot be pruned with it (" + why + ")";
            continue;
          }
          if (!t) {
            if (c->op_type == "Add") return at + " adds two computed tensors (residual group: not pruned)";
            if (c->op_type == "Mul") return at + " multiplies by a computed gate (squeeze-excite: not pruned)";
            return at + " combines two computed tensors";
          }
          if (t->dtype() != DType::kF32) return at + ": constant is not float32";
          const PerChannel p = per_channel(*t, ax, m);
          if (p == PerChannel::kNo) return at + ": constant is not per channel";
          if (rank >= 0 && t->rank() > rank) return at + ": constant broadcasts to a higher rank";
          if (p == PerChannel::kCut) plan.cuts.push_back({c, i, ax});
        }
        go_on(affine ? "Affine" : c->op_type);
        continue;
      }
      if (is_conv(*c) && idx == 0) {
        const bool nhwc = c->op_type == ext::kNhwcConv;
        const Tensor* w = constant_of(model, input_of(*c, 1));
        if (!w || w->dtype() != DType::kF32) return at + ": weight is not a float32 constant";
        if (nhwc ? ax != -1 : ax != 1 - int(w->rank())) return at + ": channel axis does not match its layout";
        auto group = c->attr_int("group", 1);
        if (!group.ok()) return at + ": bad group";
        if (*group == 1 && w->dim(1) == m) {
          plan.cuts.push_back({c, 1, 1});
          plan.info.consumers.emplace_back(c->name, 1);
          continue;
        }
        if (*group == m && w->dim(0) == m && w->dim(1) == 1) {  // depthwise: a channel follows its input
          plan.cuts.push_back({c, 1, 0});
          if (const Tensor* b = constant_of(model, input_of(*c, 2))) {
            if (b->size() != m) return at + ": bias is not [C]";
            plan.cuts.push_back({c, 2, 0});
          } else if (input_of(*c, 2) != kNoValue) {
            return at + ": bias is not constant";
          }
          plan.cuts.push_back({c, 0, 0});  // marker: the group attribute follows (input 0 is not cut)
          go_on(c->op_type + "(dw)");
          continue;
        }
        return at + ": grouped convolution";
      }
      if (is_onnx(*c) && (c->op_type == "MatMul" || c->op_type == "Gemm") && idx == 0) {
        const Tensor* b = constant_of(model, input_of(*c, 1));
        if (!b || b->dtype() != DType::kF32 || b->rank() != 2) return at + ": B is not a 2-D float32 constant";
        if (ax != -1) return at + ": channels are not the last axis";
        int k_axis = 0;
        if (c->op_type == "Gemm") {
          auto ta = c->attr_int("transA", 0), tb = c->attr_int("transB", 0);
          if (!ta.ok() || !tb.ok() || *ta != 0) return at + ": transA";
          k_axis = *tb ? 1 : 0;
        }
        if (b->dim(k_axis) != m) return at + ": B does not have the channels as rows";
        plan.cuts.push_back({c, 1, k_axis});
        plan.info.consumers.emplace_back(c->name, k_axis);
        continue;
      }
      return at + " cannot be followed";
    }
  }
  return "";
}

// The producer's own cuts and channel axis; "" when it is a candidate.
std::string plan_producer(const Model& model, Node& p, int& ax, int64_t& m, Plan& plan) {
  const Tensor* w = constant_of(model, input_of(p, 1));
  if (!w || w->dtype() != DType::kF32) return "weight is not a float32 constant";
  if (is_conv(p)) {
    auto group = p.attr_int("group", 1);
    if (!group.ok() || *group != 1) return "grouped convolution (pruned with its input instead)";
    m = w->dim(0);
    ax = p.op_type == ext::kNhwcConv ? -1 : 1 - int(w->rank());
    plan.cuts.push_back({&p, 1, 0});
    if (const Tensor* b = constant_of(model, input_of(p, 2))) {
      if (b->size() != m) return "bias is not [M]";
      plan.cuts.push_back({&p, 2, 0});
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
  plan.cuts.push_back({&p, 1, n_axis});
  const int bias = input_of(p, 2);
  if (bias != kNoValue) {
    const Tensor* b = constant_of(model, bias);
    if (!b || b->dtype() != DType::kF32) return "bias is not a float32 constant";
    const PerChannel pc = per_channel(*b, -1, m);
    if (pc == PerChannel::kNo) return "bias is not per output channel";
    if (pc == PerChannel::kCut) plan.cuts.push_back({&p, 2, -1});
  }
  return "";
}

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

void apply(Model& model, GraphView& view, const Plan& plan, const std::vector<int64_t>& keep, int ax) {
  std::set<std::pair<const Node*, size_t>> done;
  for (const Cut& c : plan.cuts) {
    if (!done.insert({c.node, c.input}).second) continue;
    if (c.input == 0) {  // depthwise marker: its group is the new channel count
      Attribute g;
      g.kind = Attribute::Kind::kInt;
      g.i = int64_t(keep.size());
      c.node->attrs["group"] = g;
      continue;
    }
    const int v = c.node->inputs[c.input];
    Tensor t = gather(*constant_of(model, v), c.axis, keep);
    if (view.uses(v) == 1) {
      Value& val = model.values[size_t(v)];
      val.shape = shape_from_dims(t.dims());
      val.data = std::move(t);
    } else {  // shared with another node: that one keeps the original
      c.node->inputs[c.input] = add_constant(model, model.values[size_t(v)].name + "_pruned", std::move(t));
    }
  }
  for (int v : plan.values) {
    Value& val = model.values[size_t(v)];
    if (!val.shape) continue;
    const int r = int(val.shape->size());
    if (r + ax < 0) continue;
    (*val.shape)[size_t(r + ax)] = Dim{int64_t(keep.size()), ""};
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
  ChannelPruneStats st;
  st.params_before = float_params(model);
  GraphView view(model);
  std::vector<Node*> producers;
  for (Node& n : model.graph.nodes)  // main graph only: subgraph values are not followed
    if (is_conv(n) || (is_onnx(n) && (n.op_type == "Gemm" || n.op_type == "MatMul"))) producers.push_back(&n);
  for (Node* p : producers) {
    Plan plan;
    int ax = 0;
    int64_t m = 0;
    auto skip = [&](const std::string& why) { st.skipped.push_back(p->describe() + ": " + why); };
    if (name_matches(p->name, o.exclude) ||
        (input_of(*p, 1) != kNoValue && name_matches(model.values[size_t(p->inputs[1])].name, o.exclude))) {
      skip("excluded");
      continue;
    }
    std::string why = plan_producer(model, *p, ax, m, plan);
    if (!why.empty()) {
      if (why.rfind("grouped", 0) != 0) skip(why);  // depthwise layers are not producers: no line
      continue;
    }
    if (view.uses(p->inputs[1]) != 1) {
      skip("weight shared with another node");
      continue;
    }
    if (m < o.min_channels) {
      skip(std::to_string(m) + " output channels: too few to prune");
      continue;
    }
    const int64_t keep_n = rounded_keep(m, o.fraction);
    if (keep_n >= m) {
      skip(std::to_string(m) + " output channels: nothing to remove after rounding to the kernel tile");
      continue;
    }
    why = follow(model, view, p->outputs[0], ax, m, is_conv(*p) ? int(constant_of(model, p->inputs[1])->rank()) : -1,
                 plan);
    if (!why.empty()) {
      skip(why);
      continue;
    }
    if (plan.info.consumers.empty()) {
      skip("no consumer whose input channels could be cut");
      continue;
    }
    // L1 norm per output channel (the producer's first cut is its weight, output axis).
    const Tensor& w = *constant_of(model, p->inputs[1]);
    const Cut& wc = plan.cuts.front();
    const int64_t wa = wc.axis < 0 ? w.rank() + wc.axis : wc.axis;
    int64_t inner = 1;
    for (int64_t i = wa + 1; i < w.rank(); ++i) inner *= w.dim(i);
    std::vector<double> norm(static_cast<size_t>(m), 0.0);
    for (int64_t i = 0; i < w.size(); ++i) norm[size_t((i / inner) % m)] += std::fabs(w.data<float>()[i]);
    if (!plan.bn_scale.empty())
      for (int64_t c = 0; c < m; ++c) norm[size_t(c)] *= plan.bn_scale[size_t(c)];
    std::vector<int64_t> order(static_cast<size_t>(m));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return norm[size_t(a)] > norm[size_t(b)]; });
    std::vector<int64_t> keep(order.begin(), order.begin() + keep_n);
    std::sort(keep.begin(), keep.end());
    apply(model, view, plan, keep, ax);
    plan.info.node = p->name;
    plan.info.before = m;
    plan.info.after = keep_n;
    plan.info.kept = keep;
    st.channels_before += m;
    st.channels_after += keep_n;
    st.pruned.push_back(std::move(plan.info));
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
