// int8 convolutions (int8_conv.h): kiln.NhwcConv with constant float weights
// -> kiln.DynamicQuantConv(X, W int8, W_scale [M], B [M]).
#include "compress/int8_conv.h"

#include <cmath>
#include <map>

#include "graph/kiln_extensions.h"
#include "graph/passes/eliminate_dead.h"
#include "graph/passes/pass_util.h"

namespace kiln {
namespace {

// Symmetric per output channel: w is [M][per] row-major; scale = max |w| / 127 (1 for an
// all-zero channel), q = round(w / scale) in [-127, 127].
void quantize_channels(size_t m, size_t per, const float* w, int8_t* q, float* scale) {
  for (size_t j = 0; j < m; ++j) {
    const float* row = w + j * per;
    float amax = 0.f;
    for (size_t t = 0; t < per; ++t) amax = std::max(amax, std::fabs(row[t]));
    const float s = amax > 0.f && std::isfinite(amax) ? amax / 127.f : 1.f;
    scale[j] = s;
    for (size_t t = 0; t < per; ++t) {
      const float y = std::nearbyint(row[t] / s);
      q[j * per + t] = static_cast<int8_t>(y < 127.f ? (y > -127.f ? y : -127.f) : 127.f);  // NaN -> -127
    }
  }
}

// Why a kiln.NhwcConv stays float (empty: it converts).
std::string plan_conv(const Model& m, const Node& node, Int8ConvScope scope, int64_t& group) {
  const Tensor* w = constant_of(m, input_of(node, 1));
  if (!w) return "weights are not a constant";
  if (w->dtype() != DType::kF32 || w->rank() != 4) return "weights are not a 4-D float32 constant";
  const int b = input_of(node, 2);
  if (b != kNoValue) {
    const Tensor* bias = constant_of(m, b);
    if (!bias || bias->dtype() != DType::kF32 || bias->dims() != Dims{w->dim(0)}) return "bias is not a constant";
  }
  auto g = node.attr_int("group", 1);
  if (!g.ok() || g.value() <= 0 || w->dim(0) % g.value() != 0) return "bad group";
  group = g.value();
  // Depthwise layers convert whatever their channel count: they run the f32-qc8w depthwise
  // kernels on float activations (ops/qd8_conv_kernels.h).
  if (w->dim(1) == 1 && w->dim(0) == group) return scope == Int8ConvScope::kNone ? "out of scope" : "";
  // Fewer than 8 input channels per group: the int8 kernels' k blocks of 8 would be mostly
  // padding, and such a layer is usually the stem reading the raw image, where one scale
  // per image costs the most accuracy (BlazeFace's box output: 18.5 -> 26.3 dB kept float).
  if (w->dim(1) < 8) return "fewer than 8 input channels";
  if (scope == Int8ConvScope::kNone) return "out of scope";
  if (scope == Int8ConvScope::kPointwise) {
    // The op runs a layer as per-pixel GEMM rows when it is 1x1, stride 1, unpadded, group 1.
    if (group != 1 || w->dim(2) != 1 || w->dim(3) != 1) return "not pointwise";
    for (const char* a : {"strides", "pads", "dilations"}) {
      auto v = node.attr_ints(a, std::vector<int64_t>{});
      if (!v.ok()) return "bad attributes";
      for (int64_t x : *v)
        if (x != (std::string(a) == "pads" ? 0 : 1)) return "not pointwise";
    }
    auto pad = node.attr_string("auto_pad", "NOTSET");
    if (!pad.ok() || (*pad != "NOTSET" && *pad != "VALID" && *pad != "SAME_UPPER" && *pad != "SAME_LOWER"))
      return "bad attributes";
  }
  return "";
}

}  // namespace

Result<Int8ConvStats> quantize_int8_conv(Model& model, const Int8DynamicOptions& options, Int8ConvScope scope) {
  Int8ConvStats stats;
  GraphView view(model);
  std::map<int, std::pair<int, int>> quantized;  // float W value -> (int8 W, scales): shared weights once
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& node : g->nodes) {
      if (node.domain != ext::kDomain || node.op_type != ext::kNhwcConv) continue;
      int64_t group = 1;
      const std::string why = plan_conv(model, node, scope, group);
      const int wv = input_of(node, 1);
      if (!why.empty() || name_matches(node.name, options.exclude) ||
          name_matches(model.values[static_cast<size_t>(wv)].name, options.exclude) ||
          constant_of(model, wv)->size() < options.min_elements) {
        ++stats.skipped;
        continue;
      }
      // Sizes by value: add_constant below may move model.values (and the tensor with it).
      const Tensor& w = *constant_of(model, wv);
      const int64_t m = w.dim(0), elements = w.size(), per = elements / m;
      const bool w_is_depthwise = w.dim(1) == 1 && m == group;
      auto it = quantized.find(wv);
      if (it == quantized.end()) {
        KILN_ASSIGN_OR_RETURN(Tensor q, Tensor::make(DType::kI8, w.dims()));
        std::vector<float> scale(static_cast<size_t>(m));
        quantize_channels(static_cast<size_t>(m), static_cast<size_t>(per), w.data<float>(), q.mutable_data<int8_t>(),
                          scale.data());
        const std::string base = model.values[static_cast<size_t>(wv)].name;
        const int qv = add_constant(model, base + "_int8", std::move(q));
        const int sv = add_constant(model, base + "_scale", Tensor::from_f32(scale, {m}));
        it = quantized.emplace(wv, std::make_pair(qv, sv)).first;
        stats.bytes_before += elements * 4;
        stats.bytes_after += elements + m * 4;
      }
      std::vector<int> inputs = {input_of(node, 0), it->second.first, it->second.second};
      if (const int b = input_of(node, 2); b != kNoValue) {
        inputs.push_back(b);
        stats.bytes_before += m * 4;
        stats.bytes_after += m * 4;
      }
      // The attributes (window, group, fused activation) carry over unchanged.
      node.op_type = ext::kDynamicQuantConv;
      node.inputs = std::move(inputs);
      ++stats.converted;
      if (w_is_depthwise) ++stats.depthwise;
      stats.converted_nodes.push_back(node.name);
    }
  KILN_RETURN_IF_ERROR(eliminate_dead(model));
  return stats;
}

}  // namespace kiln
