// fold_batchnorm: BatchNormalization into the producer's weights (passes.h).
// BN(y) = y * s + t per channel with s = scale / sqrt(var + eps), t = B - mean * s, so a
// producer with constant weights gets W' = W * s (per output channel) and b' = b * s + t.
#include <cmath>
#include <functional>

#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {
namespace {

struct ChannelAffine {
  std::vector<float> s, t;
};

// The per-channel affine of an inference BN whose parameters are constant.
std::optional<ChannelAffine> bn_affine(const Model& m, const Node& bn) {
  if (bn.num_inputs() != 5 || bn.outputs.size() != 1) return std::nullopt;
  auto training = bn.attr_int("training_mode", 0);
  auto spatial = bn.attr_int("spatial", 1);
  auto eps = bn.attr_float("epsilon", 1e-5f);
  if (!training.ok() || *training != 0 || !spatial.ok() || *spatial != 1 || !eps.ok()) return std::nullopt;
  const Tensor* p[4];
  for (size_t i = 0; i < 4; ++i) {
    p[i] = constant_of(m, bn.inputs[i + 1]);
    if (!p[i] || p[i]->dtype() != DType::kF32 || p[i]->rank() != 1 || p[i]->size() != p[0]->size()) return std::nullopt;
  }
  ChannelAffine a;
  const size_t c = static_cast<size_t>(p[0]->size());
  a.s.resize(c);
  a.t.resize(c);
  for (size_t i = 0; i < c; ++i) {
    // As the BatchNormalization op computes it (double for the rsqrt).
    const double s = p[0]->data<float>()[i] / std::sqrt(static_cast<double>(p[3]->data<float>()[i]) + *eps);
    a.s[i] = static_cast<float>(s);
    a.t[i] = static_cast<float>(p[1]->data<float>()[i] - p[2]->data<float>()[i] * s);
  }
  return a;
}

}  // namespace

bool scale_producer_channels(Model& m, Node& p, const std::vector<float>& s, const std::vector<float>& t) {
  const Tensor* w = constant_of(m, input_of(p, 1));
  if (!w || w->dtype() != DType::kF32) return false;
  const int64_t channels = static_cast<int64_t>(s.size());
  const int bias_in = p.op_type == "MatMul" ? (p.has_attr(ext::kMatMulBias) ? 2 : -1) : 2;
  const Tensor* b = bias_in >= 0 ? constant_of(m, input_of(p, static_cast<size_t>(bias_in))) : nullptr;
  if (bias_in >= 0 && input_of(p, static_cast<size_t>(bias_in)) != kNoValue && (!b || b->dtype() != DType::kF32))
    return false;
  std::vector<float> wv = floats_of(*w);
  // channel_of(i): the output channel weight element i contributes to.
  std::function<int64_t(int64_t)> channel_of;
  const Dims& wd = w->dims();
  float alpha = 1.f, beta = 1.f;
  if (p.op_type == "Conv") {
    if (wd.empty() || wd[0] != channels) return false;
    const int64_t per = w->size() / channels;
    channel_of = [per](int64_t i) { return i / per; };
  } else if (p.op_type == "ConvTranspose") {
    auto group = p.attr_int("group", 1);
    if (!group.ok() || wd.size() < 2 || wd[1] * *group != channels || wd[0] % *group != 0) return false;
    const int64_t in_per_group = wd[0] / *group, out_per_group = wd[1];
    int64_t spatial = 1;
    for (size_t d = 2; d < wd.size(); ++d) spatial *= wd[d];
    channel_of = [=](int64_t i) {
      const int64_t c_in = i / (out_per_group * spatial), j = (i / spatial) % out_per_group;
      return (c_in / in_per_group) * out_per_group + j;
    };
  } else if (p.op_type == "Gemm" || p.op_type == "MatMul") {
    bool trans_b = false;
    if (p.op_type == "Gemm") {
      auto ta = p.attr_int("transA", 0), tb = p.attr_int("transB", 0);
      auto al = p.attr_float("alpha", 1.f), be = p.attr_float("beta", 1.f);
      if (!ta.ok() || !tb.ok() || !al.ok() || !be.ok()) return false;
      trans_b = *tb != 0;
      alpha = *al;
      beta = *be;
    }
    if (wd.size() != 2) return false;
    const int64_t n = trans_b ? wd[0] : wd[1];
    if (n != channels) return false;
    const int64_t cols = wd[1];
    channel_of = [=](int64_t i) { return trans_b ? i / cols : i % cols; };
  } else {
    return false;
  }
  // Bias: broadcast to [channels] (scalar or per channel); Gemm's C is scaled by beta.
  std::vector<float> bias(static_cast<size_t>(channels), 0.f);
  if (b) {
    if (b->size() != 1 && b->size() != channels) return false;
    if (p.op_type == "Gemm" && b->rank() > 1 && b->dims()[0] != 1 && b->size() != 1) return false;
    for (int64_t c = 0; c < channels; ++c) bias[static_cast<size_t>(c)] = beta * b->data<float>()[b->size() == 1 ? 0 : c];
  }
  for (int64_t i = 0; i < static_cast<int64_t>(wv.size()); ++i) wv[static_cast<size_t>(i)] *= alpha * s[static_cast<size_t>(channel_of(i))];
  for (size_t c = 0; c < bias.size(); ++c) bias[c] = bias[c] * s[c] + t[c];
  const std::string base = p.name.empty() ? "folded" : p.name;
  p.inputs.resize(std::max<size_t>(p.inputs.size(), static_cast<size_t>(bias_in >= 0 ? bias_in + 1 : 3)), kNoValue);
  p.inputs[1] = add_constant(m, base + "_W", Tensor::from_f32(wv, wd));
  if (p.op_type == "MatMul" && bias_in < 0) {
    Attribute a;
    a.kind = Attribute::Kind::kInt;
    a.i = 1;
    p.attrs[ext::kMatMulBias] = a;
  }
  p.inputs[2] = add_constant(m, base + "_B", Tensor::from_f32(bias, {channels}));
  if (p.op_type == "Gemm") {
    p.attrs.erase("alpha");
    p.attrs.erase("beta");
  }
  return true;
}

Result<PassResult> fold_batchnorm(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& bn : g->nodes) {
      if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.empty()) continue;
      const int x = bn.inputs[0];
      Node* p = view.producer(x);
      if (!p || !owns(*g, p) || !p->domain.empty() || p->outputs.size() != 1 || view.uses(x) != 1 || view.is_graph_output(x)) continue;
      if (p->has_attr(ext::kActivation)) continue;
      // MatMul's output channel is the BN channel only for 2-D outputs.
      if (p->op_type == "MatMul" && known_rank(m, x) != 2) continue;
      auto a = bn_affine(m, bn);
      if (!a) continue;
      const std::string label = p->op_type + "+BatchNormalization";
      if (!scale_producer_channels(m, *p, a->s, a->t)) continue;
      p->outputs[0] = bn.outputs[0];
      kill(bn);
      view.refresh();
      r.add(label);
    }
  return r;
}

}  // namespace kiln
