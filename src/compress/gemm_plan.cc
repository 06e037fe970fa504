// Shared MatMul / Gemm selection for the weight-compression passes (gemm_plan.h).
#include "compress/gemm_plan.h"

#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"

namespace kiln {

// The per-column values of a float constant of shape [], [1], [N] or [1, N].
std::optional<std::vector<float>> column_values(const Tensor& t, int64_t n) {
  const Dims& d = t.dims();
  if (t.dtype() != DType::kF32 || d.size() > 2 || (d.size() == 2 && d[0] != 1)) return std::nullopt;
  if (t.size() == n) return floats_of(t);
  if (t.size() == 1) return std::vector<float>(static_cast<size_t>(n), t.data<float>()[0]);
  return std::nullopt;
}

// Why a MatMul / Gemm cannot be converted (empty: it can, and `p` describes it).
std::string plan_gemm_node(const Model& m, const Node& node, GemmPlan& p) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return "not an ONNX op";
  const bool gemm = node.op_type == "Gemm";
  p.x = input_of(node, 0);
  p.b = input_of(node, 1);
  const Tensor* b = constant_of(m, p.b);
  if (!b) return "B is not a constant";
  if (b->dtype() != DType::kF32 || b->rank() != 2) return "B is not a 2-D float32 constant";
  if (gemm) {
    auto ta = node.attr_int("transA", 0), tb = node.attr_int("transB", 0);
    auto alpha = node.attr_float("alpha", 1.f), beta = node.attr_float("beta", 1.f);
    if (!ta.ok() || !tb.ok() || !alpha.ok() || !beta.ok()) return "bad attributes";
    if (ta.value() != 0) return "transA";
    p.trans_b = tb.value() != 0;
    p.alpha = alpha.value();
    p.beta = beta.value();
    p.bias = input_of(node, 2);
  } else {
    auto bias = node.attr_int(ext::kMatMulBias, 0);
    if (!bias.ok()) return "bad attributes";
    p.bias = bias.value() ? input_of(node, 2) : kNoValue;
    if (!bias.value() && node.num_inputs() != 2) return "unexpected inputs";
  }
  p.k = b->dim(p.trans_b ? 1 : 0);
  p.n = b->dim(p.trans_b ? 0 : 1);
  if (p.bias != kNoValue) {
    const Tensor* c = constant_of(m, p.bias);
    if (!c || !column_values(*c, p.n)) return "bias is not a per-column float32 constant";
  }
  return "";
}

}  // namespace kiln
