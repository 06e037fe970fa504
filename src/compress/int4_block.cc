// int4 block quantization (int4_block.h): MatMul / Gemm with constant float weights ->
// kiln.BlockQuantMatMul(X, W nibbles uint8 [N, ceil(K/32)*16], W_scale fp16 [N, KB], bias [N]).
// Which MatMul / Gemm nodes qualify is the int8 dynamic pass's rule (gemm_plan.h).
#include "compress/int4_block.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "core/half.h"
#include "compress/gemm_plan.h"
#include "compress/int4_rounding.h"
#include "graph/kiln_extensions.h"
#include "graph/passes/eliminate_dead.h"
#include "graph/passes/pass_util.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {
namespace {

// A 1x1, stride-1, unpadded, group-1 kiln.NhwcConv is a MatMul over its channels-last
// pixels: X [N, H, W, C] x W[M, C, 1, 1]^T (+ B), so it converts to the same op.
std::string plan_pointwise(const Model& m, const Node& node, GemmPlan& p) {
  p.x = input_of(node, 0);
  p.b = input_of(node, 1);
  const Tensor* w = constant_of(m, p.b);
  if (!w || w->dtype() != DType::kF32 || w->rank() != 4) return "weights are not a 4-D float32 constant";
  auto g = node.attr_int("group", 1);
  if (!g.ok() || g.value() != 1) return "grouped";
  p.n = w->dim(0);
  p.bias = input_of(node, 2);
  if (p.bias != kNoValue) {
    const Tensor* c = constant_of(m, p.bias);
    if (!c || !column_values(*c, p.n)) return "bias is not a per-channel float32 constant";
  }
  // Any other window runs as im2col + the same GEMM (kiln.BlockQuantConv). Fewer than 8
  // input channels is the stem reading the image: as in int8_conv, it stays as it is.
  const auto as_conv = [&]() -> std::string {
    if (w->dim(1) < 8) return "fewer than 8 input channels";
    p.kh = w->dim(2), p.kw = w->dim(3);
    p.k = w->dim(1) * p.kh * p.kw;
    return "";
  };
  if (w->dim(2) != 1 || w->dim(3) != 1) return as_conv();
  for (const char* a : {"strides", "pads", "dilations"}) {
    auto v = node.attr_ints(a, std::vector<int64_t>{});
    if (!v.ok()) return "bad attributes";
    for (int64_t x : *v)
      if (x != (std::string(a) == "pads" ? 0 : 1)) return as_conv();
  }
  auto pad = node.attr_string("auto_pad", "NOTSET");
  if (!pad.ok() || (*pad != "NOTSET" && *pad != "VALID" && *pad != "SAME_UPPER" && *pad != "SAME_LOWER"))
    return "bad attributes";
  p.trans_b = true;  // [M, C] = [n, k]
  p.k = w->dim(1);
  return "";
}

// The importance of each of the k rows of the weight matrix: the mean x^2 of the channel it
// multiplies (a kxk convolution's row (i * kw + j) * C + c reads channel c), scaled to mean 1
// (a floor of 1% of the mean keeps a silent channel's weights from being ignored entirely).
// Empty: no measurement for this input, or its channel count does not divide k.
std::vector<float> row_power(const Int4BlockOptions& o, const std::string& input, size_t k) {
  auto it = o.input_power.find(input);
  if (!o.fit_scales || it == o.input_power.end() || it->second.empty() || k % it->second.size() != 0) return {};
  const std::vector<float>& ch = it->second;
  double mean = 0;
  for (float v : ch) mean += v;
  mean /= double(ch.size());
  if (!(mean > 0)) return {};
  std::vector<float> rows(k);
  for (size_t r = 0; r < k; ++r) rows[r] = static_cast<float>(std::max(double(ch[r % ch.size()]) / mean, 0.01));
  return rows;
}

}  // namespace

Result<Int4BlockStats> quantize_int4_block(Model& model, const Int4BlockOptions& options) {
  Int4BlockStats stats;
  GraphView view(model);
  struct Quantized { int w, scale, min; };
  std::map<std::tuple<int, bool, float, bool>, Quantized> quantized;  // shared weights once
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& node : g->nodes) {
      const bool conv = node.domain == ext::kDomain && node.op_type == ext::kNhwcConv;
      if (node.op_type != "MatMul" && node.op_type != "Gemm" && !conv) continue;
      GemmPlan p;
      const std::string why = conv ? plan_pointwise(model, node, p) : plan_gemm_node(model, node, p);
      if (conv && (!why.empty() || !(p.kh > 0 ? options.other_convs : options.pointwise_convs)))
        continue;  // convolutions out of scope are not counted as skipped
      if (!why.empty() || name_matches(node.name, options.exclude) ||
          name_matches(model.values[static_cast<size_t>(p.b)].name, options.exclude) ||
          p.k * p.n < options.min_elements) {
        ++stats.skipped;
        continue;
      }
      const size_t k = static_cast<size_t>(p.k), n = static_cast<size_t>(p.n);
      const bool asym = options.asymmetric || name_matches(node.name, options.asymmetric_nodes);
      const auto key = std::make_tuple(p.b, p.trans_b, p.alpha, asym);
      auto it = quantized.find(key);
      if (it == quantized.end()) {
        const Tensor& b = *constant_of(model, p.b);
        std::vector<float> scaled(k * n);  // alpha * B as k x n
        const float* src = b.data<float>();
        if (p.kh > 0) {  // W [M, C, kh, kw] -> row (i * kw + j) * C + ch
          const size_t kh = static_cast<size_t>(p.kh), kw = static_cast<size_t>(p.kw), ch = k / (kh * kw);
          for (size_t c = 0; c < n; ++c)
            for (size_t q = 0; q < ch; ++q)
              for (size_t i = 0; i < kh; ++i)
                for (size_t j = 0; j < kw; ++j) scaled[((i * kw + j) * ch + q) * n + c] = src[((c * ch + q) * kh + i) * kw + j];
        } else {
          for (size_t r = 0; r < k; ++r)
            for (size_t c = 0; c < n; ++c) scaled[r * n + c] = p.alpha * (p.trans_b ? src[c * k + r] : src[r * n + c]);
        }
        const int64_t row = static_cast<int64_t>(qb4w_row_bytes(k)), nb = static_cast<int64_t>(qb4w_blocks(k));
        KILN_ASSIGN_OR_RETURN(Tensor q, Tensor::make(DType::kU8, {p.n, row}));
        KILN_ASSIGN_OR_RETURN(Tensor s, Tensor::make(DType::kF16, {p.n, nb}));
        KILN_ASSIGN_OR_RETURN(Tensor mn, Tensor::make(DType::kF16, {asym ? p.n : 0, nb}));
        const ptrdiff_t sk = static_cast<ptrdiff_t>(n);
        const std::vector<float> power = row_power(options, model.values[static_cast<size_t>(p.x)].name, k);
        const float* imp = power.empty() ? nullptr : power.data();
        if (asym && options.fit_scales)
          int4_quantize_blocks_min_fit(n, k, scaled.data(), sk, 1, imp, q.mutable_data<uint8_t>(),
                                       s.mutable_data<uint16_t>(), mn.mutable_data<uint16_t>());
        else if (asym)
          qb4w_quantize_blocks_min(n, k, scaled.data(), sk, 1, q.mutable_data<uint8_t>(), s.mutable_data<uint16_t>(),
                                   mn.mutable_data<uint16_t>());
        else if (options.fit_scales)
          int4_quantize_blocks_fit(n, k, scaled.data(), sk, 1, imp, q.mutable_data<uint8_t>(),
                                   s.mutable_data<uint16_t>());
        else
          qb4w_quantize_blocks(n, k, scaled.data(), sk, 1, q.mutable_data<uint8_t>(), s.mutable_data<uint16_t>());
        for (size_t j = 0; j < n; ++j)
          for (size_t r = 0; r < k; ++r) {
            const size_t bi = j * static_cast<size_t>(nb) + r / kQB4WBlock;
            const float sc = half_to_float(s.data<uint16_t>()[bi]), w = scaled[r * n + j];
            const float back = asym ? half_to_float(mn.data<uint16_t>()[bi]) +
                                          (sc > 0.f ? sc * qb4w_nibble_u(q.data<uint8_t>(), k, j, r) : 0.f)
                                    : sc * qb4w_nibble(q.data<uint8_t>(), k, j, r);
            stats.weight_sq_error += double(back - w) * double(back - w);
            stats.weight_sq_sum += double(w) * double(w);
            if (sc > 0.f) stats.max_block_error = std::max(stats.max_block_error, double(std::fabs(back - w) / sc));
          }
        const std::string base = model.values[static_cast<size_t>(p.b)].name;
        const int qv = add_constant(model, base + "_int4", std::move(q));
        const int sv = add_constant(model, base + "_block_scale", std::move(s));
        const int mv = asym ? add_constant(model, base + "_block_min", std::move(mn)) : kNoValue;
        it = quantized.emplace(key, Quantized{qv, sv, mv}).first;
        stats.bytes_before += p.k * p.n * 4;
        stats.bytes_after += p.n * row + p.n * nb * 2 * (asym ? 2 : 1);
      }
      std::vector<int> inputs = {p.x, it->second.w, it->second.scale};
      if (p.bias != kNoValue) {
        const Tensor& c = *constant_of(model, p.bias);
        if (p.beta == 1.f && c.dims() == Dims{p.n}) {
          inputs.push_back(p.bias);
        } else {
          std::vector<float> bias = *column_values(c, p.n);
          for (float& v : bias) v *= p.beta;
          const std::string name = model.values[static_cast<size_t>(p.bias)].name + "_bias";
          inputs.push_back(add_constant(model, name, Tensor::from_f32(bias, {p.n})));
        }
        stats.bytes_before += p.n * 4;
        stats.bytes_after += p.n * 4;
      }
      if (it->second.min != kNoValue) {  // W_min is input 4: an absent bias keeps its place
        if (inputs.size() == 3) inputs.push_back(kNoValue);
        inputs.push_back(it->second.min);
      }
      Attribute block;
      block.kind = Attribute::Kind::kInt;
      block.i = static_cast<int64_t>(kQB4WBlock);
      if (p.kh > 0) {  // kiln.NhwcConv's attributes stay; kernel_shape becomes explicit
        Attribute ks;
        ks.kind = Attribute::Kind::kInts;
        ks.ints = {p.kh, p.kw};
        node.attrs["kernel_shape"] = ks;
        node.attrs["block_size"] = block;
        node.op_type = ext::kBlockQuantConv;
        ++stats.convs;
      } else {
        std::map<std::string, Attribute> attrs;  // the fused activation stays
        for (const char* a : {ext::kActivation, ext::kActivationAlpha, ext::kActivationBeta})
          if (const Attribute* v = node.attr(a)) attrs[a] = *v;
        attrs["block_size"] = block;
        node.attrs = std::move(attrs);
        node.op_type = ext::kBlockQuantMatMul;
        stats.pointwise_convs += conv;
      }
      node.domain = ext::kDomain;
      node.inputs = std::move(inputs);
      ++stats.converted;
      stats.converted_nodes.push_back(node.name);
    }
  KILN_RETURN_IF_ERROR(eliminate_dead(model));
  return stats;
}

}  // namespace kiln
