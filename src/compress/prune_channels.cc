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
#include "compress/channel_sets.h"
#include "compress/int8_dynamic.h"  // name_matches
#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/shape_inference.h"

namespace kiln {
namespace {

using namespace channel_sets;

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
    why = follow_channel_set(model, view, o, plan, *p);
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
