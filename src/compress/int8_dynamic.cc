// int8 dynamic quantization (int8_dynamic.h): MatMul / Gemm with constant float weights
// -> kiln.DynamicQuantMatMul(X, W int8 [K, N], W_scale [N], bias [N]).
#include "compress/int8_dynamic.h"

#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "compress/gemm_plan.h"
#include "graph/kiln_extensions.h"
#include "graph/passes/eliminate_dead.h"
#include "graph/passes/pass_util.h"
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

bool name_matches(const std::string& name, const std::vector<std::string>& patterns) {
  for (const std::string& pat : patterns) {
    if (!pat.empty() && pat.back() == '*') {
      if (name.compare(0, pat.size() - 1, pat, 0, pat.size() - 1) == 0) return true;
    } else if (name == pat) {
      return true;
    }
  }
  return false;
}

Result<Int8DynamicStats> quantize_int8_dynamic(Model& model, const Int8DynamicOptions& options) {
  Int8DynamicStats stats;
  GraphView view(model);
  // Quantized weights per (B value, transB, alpha): shared weights are converted once.
  std::map<std::tuple<int, bool, float>, std::pair<int, int>> quantized;
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& node : g->nodes) {
      if (node.op_type != "MatMul" && node.op_type != "Gemm") continue;
      GemmPlan p;
      const std::string why = plan_gemm_node(model, node, p);
      if (!why.empty() || name_matches(node.name, options.exclude) ||
          name_matches(model.values[static_cast<size_t>(p.b)].name, options.exclude) || p.k * p.n < options.min_elements) {
        ++stats.skipped;
        continue;
      }
      const Tensor& b = *constant_of(model, p.b);
      const size_t k = static_cast<size_t>(p.k), n = static_cast<size_t>(p.n);
      const auto key = std::make_tuple(p.b, p.trans_b, p.alpha);
      auto it = quantized.find(key);
      const bool first = it == quantized.end();
      if (first) {
        // alpha * B, as k x n (a transposed B is read with swapped strides).
        std::vector<float> scaled(k * n);
        const float* src = b.data<float>();
        for (size_t r = 0; r < k; ++r)
          for (size_t c = 0; c < n; ++c) scaled[r * n + c] = p.alpha * (p.trans_b ? src[c * k + r] : src[r * n + c]);
        KILN_ASSIGN_OR_RETURN(Tensor q, Tensor::make(DType::kI8, {p.k, p.n}));
        std::vector<float> scale(n);
        qc8w_quantize_columns(n, k, scaled.data(), static_cast<ptrdiff_t>(n), 1, q.mutable_data<int8_t>(),
                              scale.data());
        const std::string base = model.values[static_cast<size_t>(p.b)].name;
        const int qv = add_constant(model, base + "_int8", std::move(q));
        const int sv = add_constant(model, base + "_scale", Tensor::from_f32(scale, {p.n}));
        it = quantized.emplace(key, std::make_pair(qv, sv)).first;
        stats.bytes_before += p.k * p.n * 4;
        stats.bytes_after += p.k * p.n + p.n * 4;
      }
      std::vector<int> inputs = {p.x, it->second.first, it->second.second};
      if (p.bias != kNoValue) {
        const Tensor& c = *constant_of(model, p.bias);
        if (p.beta == 1.f && c.dims() == Dims{p.n}) {
          inputs.push_back(p.bias);  // already the [N] float bias
        } else {
          std::vector<float> bias = *column_values(c, p.n);
          for (float& v : bias) v *= p.beta;
          const std::string name = model.values[static_cast<size_t>(p.bias)].name + "_bias";
          inputs.push_back(add_constant(model, name, Tensor::from_f32(bias, {p.n})));
        }
        stats.bytes_before += p.n * 4;
        stats.bytes_after += p.n * 4;
      }
      // Keep the fused activation; drop MatMul / Gemm attributes.
      std::map<std::string, Attribute> attrs;
      for (const char* a : {ext::kActivation, ext::kActivationAlpha, ext::kActivationBeta})
        if (const Attribute* v = node.attr(a)) attrs[a] = *v;
      node.attrs = std::move(attrs);
      node.op_type = ext::kDynamicQuantMatMul;
      node.domain = ext::kDomain;
      node.inputs = std::move(inputs);
      ++stats.converted;
      stats.converted_nodes.push_back(node.name);
    }
  KILN_RETURN_IF_ERROR(eliminate_dead(model));
  return stats;
}

}  // namespace kiln
