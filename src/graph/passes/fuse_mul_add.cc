// fuse_mul_add: Mul/Div by a constant then Add/Sub of a constant (passes.h). Folded into
// the producer's weights when both constants are per output channel of a Conv /
// ConvTranspose / Gemm / MatMul (PaddlePaddle exports a Conv's affine this way), else one
// kiln.Affine node.
#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {
namespace {

struct MulAdd {
  int x = kNoValue;
  Tensor scale, bias;  // float32 constants as the Affine op takes them
};

// Mul(x, c) / Mul(c, x) / Div(x, c): x and the scale constant (reciprocal for Div).
bool match_scale(const Model& m, const Node& n, int& x, Tensor& scale) {
  if (!n.domain.empty() || n.num_inputs() != 2 || n.outputs.size() != 1 || !may_be_f32(m, n.outputs[0])) return false;
  const bool div = n.op_type == "Div";
  if (n.op_type != "Mul" && !div) return false;
  for (int side = 0; side < (div ? 1 : 2); ++side) {
    const int v = n.inputs[static_cast<size_t>(side)];
    const Tensor* c = constant_of(m, n.inputs[static_cast<size_t>(1 - side)]);
    if (constant_of(m, v) || !c || c->dtype() != DType::kF32 || !may_be_f32(m, v)) continue;
    std::vector<float> s = floats_of(*c);
    if (div)
      for (float& f : s) f = 1.f / f;
    x = v;
    scale = Tensor::from_f32(s, c->dims());
    return true;
  }
  return false;
}

// Add(y, c) / Add(c, y) / Sub(y, c): the bias constant (negated for Sub).
bool match_bias(const Model& m, const Node& n, int y, Tensor& bias) {
  if (!n.domain.empty() || n.num_inputs() != 2 || n.outputs.size() != 1 || !may_be_f32(m, n.outputs[0])) return false;
  const bool sub = n.op_type == "Sub";
  if (n.op_type != "Add" && !sub) return false;
  const int c = sub ? (n.inputs[0] == y ? n.inputs[1] : kNoValue) : other_input(n, y);
  const Tensor* t = constant_of(m, c);
  if (!t || t->dtype() != DType::kF32) return false;
  std::vector<float> b = floats_of(*t);
  if (sub)
    for (float& f : b) f = -f;
  bias = Tensor::from_f32(b, t->dims());
  return true;
}

// The output channel count and channel axis (from the end) of a producer whose weights
// can absorb a per-channel affine, with the rank of its output when known (-1).
struct ChannelInfo {
  int64_t channels = 0;
  int rank = -1;        // output rank, -1 unknown
  int channel_axis = 0;  // counted from the front when rank is known, else -1 = last
};

std::optional<ChannelInfo> channel_info(const Model& m, const GraphView& view, const Node& p, int y) {
  if (!p.domain.empty() || p.outputs.size() != 1 || p.has_attr(ext::kActivation)) return std::nullopt;
  if (view.uses(y) != 1 || view.is_graph_output(y)) return std::nullopt;
  const Tensor* w = constant_of(m, input_of(p, 1));
  if (!w || w->dtype() != DType::kF32) return std::nullopt;
  ChannelInfo c;
  if (p.op_type == "Conv" && w->rank() >= 3) {
    c = {w->dim(0), static_cast<int>(w->rank()), 1};
  } else if (p.op_type == "ConvTranspose" && w->rank() >= 3) {
    auto group = p.attr_int("group", 1);
    if (!group.ok()) return std::nullopt;
    c = {w->dim(1) * *group, static_cast<int>(w->rank()), 1};
  } else if (p.op_type == "Gemm" && w->rank() == 2) {
    auto tb = p.attr_int("transB", 0);
    if (!tb.ok()) return std::nullopt;
    c = {*tb ? w->dim(0) : w->dim(1), 2, 1};
  } else if (p.op_type == "MatMul" && w->rank() == 2) {
    c = {w->dim(1), known_rank(m, y), -1};
    if (c.rank >= 0) c.channel_axis = c.rank - 1;
  } else {
    return std::nullopt;
  }
  return c;
}

// Expands a constant to one value per channel if it varies only along the channel axis
// and does not grow the producer's output; nullopt otherwise.
std::optional<std::vector<float>> per_channel(const Tensor& t, const ChannelInfo& c) {
  const Dims& d = t.dims();
  const int r = static_cast<int>(d.size());
  int axis;  // the channel axis as an index into d, or -1 when t has no such axis
  if (c.rank < 0) {
    if (r > 1) return std::nullopt;  // could add dims to an output of unknown rank
    axis = r == 1 ? 0 : -1;
  } else {
    if (r > c.rank) return std::nullopt;
    axis = c.channel_axis - (c.rank - r);
  }
  for (int i = 0; i < r; ++i)
    if (i != axis && d[static_cast<size_t>(i)] != 1) return std::nullopt;
  const int64_t len = axis >= 0 ? d[static_cast<size_t>(axis)] : 1;
  if (len != 1 && len != c.channels) return std::nullopt;
  std::vector<float> v(static_cast<size_t>(c.channels));
  for (int64_t i = 0; i < c.channels; ++i) v[static_cast<size_t>(i)] = t.data<float>()[len == 1 ? 0 : i];
  return v;
}

}  // namespace

Result<PassResult> fuse_mul_add(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& a : g->nodes) {
      int x = kNoValue;
      Tensor scale, bias;
      if (!match_scale(m, a, x, scale)) continue;
      const int mid = a.outputs[0];
      if (view.uses(mid) != 1 || view.is_graph_output(mid)) continue;
      std::vector<Node*> next = view.consumers(mid);
      if (next.size() != 1 || !match_bias(m, *next[0], mid, bias)) continue;
      Node& b = *next[0];
      const std::string what = a.op_type + "+" + b.op_type;
      Node* p = view.producer(x);
      if (p && owns(*g, p)) {
        if (auto info = channel_info(m, view, *p, x)) {
          auto s = per_channel(scale, *info), t = per_channel(bias, *info);
          if (s && t) {
            // (y * s) + t: the producer's new bias is bias * s + t.
            const std::string label = p->op_type + "+" + what;
            if (scale_producer_channels(m, *p, *s, *t)) {
              p->outputs[0] = b.outputs[0];
              kill(a);
              kill(b);
              view.refresh();
              r.add(label);
              continue;
            }
          }
        }
      }
      const std::string base = b.name.empty() ? "affine" : b.name;
      const int out = b.outputs[0];
      const int s_in = add_constant(m, base + "_scale", std::move(scale));
      const int b_in = add_constant(m, base + "_bias", std::move(bias));
      kill(a);
      b.op_type = ext::kAffine;
      b.domain = ext::kDomain;
      b.attrs.clear();
      b.inputs = {x, s_in, b_in};
      b.outputs = {out};
      view.refresh();
      r.add(what + " -> Affine");
    }
  return r;
}

}  // namespace kiln
