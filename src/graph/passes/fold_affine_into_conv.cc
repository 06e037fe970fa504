// fold_affine_into_conv (passes.h): a kiln.Affine (x * s + b, per input channel or
// scalar) whose only reader is a Conv folds into that Conv's weights:
//   Conv(x * s + b) = Conv'(x) with W'[m, c, k] = W[m, c, k] * s[c] and
//   B'[m] = B[m] + sum over c, k of W[m, c, k] * b[c].
// The bias part is exact only where no window reads padding (padding is zero, not b), so a
// non-zero b needs a Conv without padding; a pure scale folds into any Conv.
// PP-OCRv4's "learnable affine blocks" after each activation are this pattern.
#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {
namespace {

// The constant as one value per input channel (channels = x's dim 1 of rank `rank`).
std::optional<std::vector<float>> per_input_channel(const Tensor& t, int64_t channels, int64_t rank) {
  const Dims& d = t.dims();
  const int64_t r = static_cast<int64_t>(d.size());
  if (t.dtype() != DType::kF32 || r > rank) return std::nullopt;
  const int64_t axis = 1 - (rank - r);  // index of the channel axis in d (may be < 0)
  for (int64_t i = 0; i < r; ++i)
    if (i != axis && d[static_cast<size_t>(i)] != 1) return std::nullopt;
  const int64_t len = axis >= 0 ? d[static_cast<size_t>(axis)] : 1;
  if (len != 1 && len != channels) return std::nullopt;
  std::vector<float> v(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) v[static_cast<size_t>(c)] = t.data<float>()[len == 1 ? 0 : c];
  return v;
}

bool no_padding(const Node& conv) {
  auto pads = conv.attr_ints("pads", std::vector<int64_t>{});
  auto auto_pad = conv.attr_string("auto_pad", std::string("NOTSET"));
  if (!pads.ok() || !auto_pad.ok()) return false;
  for (int64_t p : *pads)
    if (p != 0) return false;
  return *auto_pad == "NOTSET" || *auto_pad == "VALID";
}

}  // namespace

Result<PassResult> fold_affine_into_conv(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& conv : g->nodes) {
      if (conv.op_type != "Conv" || !conv.domain.empty() || conv.num_inputs() < 2 || conv.outputs.size() != 1) continue;
      const int y = conv.inputs[0];
      Node* aff = view.producer(y);
      if (!aff || !owns(*g, aff) || aff->domain != ext::kDomain || aff->op_type != ext::kAffine ||
          aff->has_attr(ext::kActivation) || aff->num_inputs() != 3 || view.uses(y) != 1 || view.is_graph_output(y))
        continue;
      const Tensor* w = constant_of(m, conv.inputs[1]);
      const Tensor* bias = conv.num_inputs() > 2 ? constant_of(m, conv.inputs[2]) : nullptr;
      const Tensor *st = constant_of(m, aff->inputs[1]), *bt = constant_of(m, aff->inputs[2]);
      auto group = conv.attr_int("group", 1);
      if (!w || w->dtype() != DType::kF32 || w->rank() < 3 || !st || !bt || !group.ok() || *group <= 0) continue;
      if (conv.num_inputs() > 2 && (!bias || bias->dtype() != DType::kF32 || bias->size() != w->dim(0))) continue;
      const int64_t out_ch = w->dim(0), per_group_in = w->dim(1), in_ch = per_group_in * *group;
      if (out_ch % *group != 0) continue;
      auto s = per_input_channel(*st, in_ch, w->rank()), b = per_input_channel(*bt, in_ch, w->rank());
      if (!s || !b) continue;
      bool zero_bias = true;
      for (float v : *b) zero_bias = zero_bias && v == 0.f;
      if (!zero_bias && !no_padding(conv)) continue;
      // The Affine's output must have x's shape. Constants of at most one dim passed
      // per_input_channel only as [1] (the channel axis is dim 1 of >= 3); larger ones need
      // x's rank to prove they do not add dims.
      const int x = aff->inputs[0];
      if ((st->rank() > 1 && !broadcasts_into(st->dims(), m, x)) || (bt->rank() > 1 && !broadcasts_into(bt->dims(), m, x)))
        continue;
      std::vector<float> wv = floats_of(*w);
      std::vector<float> bv = bias ? floats_of(*bias) : std::vector<float>(static_cast<size_t>(out_ch), 0.f);
      const int64_t spatial = w->size() / (out_ch * per_group_in), out_per_group = out_ch / *group;
      for (int64_t o = 0; o < out_ch; ++o) {
        const int64_t first_in = (o / out_per_group) * per_group_in;
        double extra = 0;
        for (int64_t cl = 0; cl < per_group_in; ++cl) {
          const size_t c = static_cast<size_t>(first_in + cl);
          float* row = wv.data() + (o * per_group_in + cl) * spatial;
          double sum = 0;
          for (int64_t k = 0; k < spatial; ++k) sum += row[k];
          extra += sum * (*b)[c];
          for (int64_t k = 0; k < spatial; ++k) row[k] *= (*s)[c];
        }
        bv[static_cast<size_t>(o)] += static_cast<float>(extra);
      }
      const std::string base = conv.name.empty() ? "conv" : conv.name;
      conv.inputs.resize(3, kNoValue);
      conv.inputs[0] = x;
      conv.inputs[1] = add_constant(m, base + "_W", Tensor::from_f32(wv, w->dims()));
      conv.inputs[2] = add_constant(m, base + "_B", Tensor::from_f32(bv, {out_ch}));
      kill(*aff);
      view.refresh();
      r.add(zero_bias ? "Affine(scale)+Conv" : "Affine+Conv");
    }
  return r;
}

}  // namespace kiln
