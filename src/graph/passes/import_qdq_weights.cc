// import_qdq_weights (passes.h): weight-only QDQ models (already quantized, e.g. by
// onnxruntime's quantize_static with weight-only QDQ) keep their weights as
// DequantizeLinear(int8 W, scale) feeding MatMul / Gemm / Conv. Constant folding leaves
// these alone (dequantizing would grow the file), and nhwc_layout turns the Conv into
// kiln.NhwcConv with the DequantizeLinear output as its weights; this pass, run after
// both, hands the int8 weights themselves to kiln.DynamicQuantMatMul /
// kiln.DynamicQuantConv (graph/kiln_extensions.h), so the file keeps them as int8 and
// the op runs the int8 kernels. The int8 values are copied bit-exact; only symmetric
// weights (zero point absent or all 0) quantized per output channel or per tensor qualify,
// under a float activation: one from a DequantizeLinear is static QDQ, left to fuse_qdq.
#include <optional>
#include <string>
#include <vector>

#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {
namespace {

// A DequantizeLinear of constant int8 weights with float32 scales and zero zero points.
struct QdqWeight {
  const Tensor* q = nullptr;
  std::vector<float> scale;  // one value (per tensor) or one per element along `axis`
  int64_t axis = 1;          // normalized to [0, rank)
};

std::optional<QdqWeight> match_dequantize(const Model& m, const Node& dq) {
  if (dq.op_type != "DequantizeLinear" || !dq.domain.empty() || dq.outputs.size() != 1 || dq.num_inputs() < 2)
    return std::nullopt;
  QdqWeight w;
  w.q = constant_of(m, input_of(dq, 0));
  const Tensor* s = constant_of(m, input_of(dq, 1));
  if (!w.q || !s || w.q->dtype() != DType::kI8 || s->dtype() != DType::kF32 || w.q->rank() < 1) return std::nullopt;
  // Blocked quantization (opset 21) and non-float outputs are not kiln's representation.
  auto block = dq.attr_int("block_size", 0);
  auto out_type = dq.attr_int("output_dtype", 0);
  auto axis = dq.attr_int("axis", 1);
  if (!block.ok() || *block != 0 || !out_type.ok() || (*out_type != 0 && *out_type != 1) || !axis.ok())
    return std::nullopt;
  const int64_t rank = w.q->rank();
  w.axis = *axis < 0 ? *axis + rank : *axis;
  if (s->size() == 1) {
    w.scale = {s->data<float>()[0]};
  } else {
    if (s->rank() != 1 || w.axis < 0 || w.axis >= rank || s->dim(0) != w.q->dim(static_cast<size_t>(w.axis)))
      return std::nullopt;
    w.scale = floats_of(*s);
  }
  if (const int zv = input_of(dq, 2); zv != kNoValue) {
    const Tensor* z = constant_of(m, zv);
    if (!z || z->dtype() != DType::kI8 || z->size() != s->size()) return std::nullopt;
    for (int64_t i = 0; i < z->size(); ++i)
      if (z->data<int8_t>()[i] != 0) return std::nullopt;
  }
  return w;
}

// The per-channel scales of w along output-channel axis `axis` (a per-tensor scale is
// broadcast), or nullopt when w was quantized along another axis.
std::optional<std::vector<float>> channel_scales(const QdqWeight& w, int64_t axis) {
  const int64_t n = w.q->dim(static_cast<size_t>(axis));
  if (w.scale.size() == 1) return std::vector<float>(static_cast<size_t>(n), w.scale[0]);
  if (w.axis != axis) return std::nullopt;
  return w.scale;
}

// A float32 constant of n values: [], [1], [n] or [1, n].
std::optional<std::vector<float>> bias_values(const Model& m, int v, int64_t n) {
  const Tensor* t = constant_of(m, v);
  if (!t || t->dtype() != DType::kF32 || t->rank() > 2 || (t->rank() == 2 && t->dim(0) != 1)) return std::nullopt;
  if (t->size() == n) return floats_of(*t);
  if (t->size() == 1) return std::vector<float>(static_cast<size_t>(n), t->data<float>()[0]);
  return std::nullopt;
}

// How one consumer would be rewritten: its new op and inputs (int8 weights, scales, bias).
struct Plan {
  Node* node = nullptr;
  const char* op = nullptr;
  bool transpose = false;  // Gemm transB: int8 [N, K] -> [K, N]
  std::vector<float> scale;
  std::optional<std::vector<float>> bias;  // a new bias constant (Gemm C times beta)
  int keep_bias = kNoValue;                // an existing [N] float bias value read as is
};

std::optional<Plan> plan_consumer(const Model& m, Node& c, int y, const QdqWeight& w) {
  Plan p;
  p.node = &c;
  if (c.outputs.size() != 1 || input_of(c, 0) == kNoValue || input_of(c, 0) == y || input_of(c, 1) != y ||
      !may_be_f32(m, input_of(c, 0)))
    return std::nullopt;
  if (c.domain.empty() && (c.op_type == "MatMul" || c.op_type == "Gemm")) {
    // A 1-D x ([K] x [K, N] -> [N]) is MatMul's vector case, not rows of kiln's op.
    if (w.q->rank() != 2 || known_rank(m, input_of(c, 0)) == 1) return std::nullopt;
    float alpha = 1.f, beta = 1.f;
    int bias = kNoValue;
    if (c.op_type == "Gemm") {
      auto ta = c.attr_int("transA", 0), tb = c.attr_int("transB", 0);
      auto a = c.attr_float("alpha", 1.f), b = c.attr_float("beta", 1.f);
      if (!ta.ok() || !tb.ok() || !a.ok() || !b.ok() || *ta != 0) return std::nullopt;
      p.transpose = *tb != 0;
      alpha = *a;
      beta = *b;
      bias = input_of(c, 2);
    } else {
      auto has_bias = c.attr_int(ext::kMatMulBias, 0);
      if (!has_bias.ok()) return std::nullopt;
      if (*has_bias) bias = input_of(c, 2);
      else if (c.num_inputs() != 2) return std::nullopt;
    }
    const int64_t out_axis = p.transpose ? 0 : 1;
    auto s = channel_scales(w, out_axis);
    if (!s) return std::nullopt;
    for (float& v : *s) v *= alpha;
    p.scale = std::move(*s);
    const int64_t n = w.q->dim(static_cast<size_t>(out_axis));
    if (bias != kNoValue) {
      auto b = bias_values(m, bias, n);
      if (!b) return std::nullopt;
      const Tensor* t = constant_of(m, bias);
      if (beta == 1.f && t->dims() == Dims{n}) {
        p.keep_bias = bias;
      } else {
        for (float& v : *b) v *= beta;
        p.bias = std::move(b);
      }
    }
    p.op = ext::kDynamicQuantMatMul;
    return p;
  }
  if (c.domain == ext::kDomain && c.op_type == ext::kNhwcConv) {
    // What `kiln compress --int8` (int8_conv.cc) would convert, group 1 only: depthwise
    // and grouped layers keep the ONNX DequantizeLinear. Fewer than 8 input channels (the
    // stem) stays float as there: one activation scale per image costs the most there.
    auto group = c.attr_int("group", 1);
    if (!group.ok() || *group != 1 || w.q->rank() != 4 || w.q->dim(1) < 8) return std::nullopt;
    auto s = channel_scales(w, 0);
    if (!s) return std::nullopt;
    p.scale = std::move(*s);
    if (const int b = input_of(c, 2); b != kNoValue) {
      const Tensor* t = constant_of(m, b);
      if (!t || t->dtype() != DType::kF32 || t->dims() != Dims{w.q->dim(0)}) return std::nullopt;
      p.keep_bias = b;
    }
    p.op = ext::kDynamicQuantConv;
    return p;
  }
  return std::nullopt;
}

}  // namespace

Result<PassResult> import_qdq_weights(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& dq : g->nodes) {
      auto w = match_dequantize(m, dq);
      if (!w) continue;
      const int y = dq.outputs[0];
      if (view.is_graph_output(y)) continue;
      // Every reader must convert, else the float weights are still needed and the
      // DequantizeLinear stays as it is.
      const std::vector<Node*> readers = view.consumers(y);
      std::vector<Plan> plans;
      for (Node* c : readers) {
        // An activation that is itself dequantized is static int8 QDQ (fuse_qdq's, or fake
        // quant): quantizing it again at run time would only add error.
        if (const Node* a = view.producer(input_of(*c, 0)); a && a->op_type == "DequantizeLinear" && a->domain.empty())
          break;
        auto p = plan_consumer(m, *c, y, *w);
        if (!p) break;
        plans.push_back(std::move(*p));
      }
      if (readers.empty() || plans.size() != readers.size()) continue;
      // Values by index and dims by value: add_constant may move model.values.
      const int qv = dq.inputs[0];
      const std::string base = m.values[static_cast<size_t>(qv)].name;
      const Dims qd = w->q->dims();
      int transposed = kNoValue;
      std::string label;
      for (size_t i = 0; i < plans.size(); ++i) {
        Plan& p = plans[i];
        const std::string tag = base + (plans.size() > 1 ? "_" + std::to_string(i) : "");
        int wq = qv;
        if (p.transpose) {
          if (transposed == kNoValue) {
            // [N, K] -> [K, N], the same int8 values.
            KILN_ASSIGN_OR_RETURN(Tensor t, Tensor::make(DType::kI8, {qd[1], qd[0]}));
            const int8_t* src = constant_of(m, qv)->data<int8_t>();
            int8_t* dst = t.mutable_data<int8_t>();
            for (int64_t a = 0; a < qd[0]; ++a)
              for (int64_t b = 0; b < qd[1]; ++b) dst[b * qd[0] + a] = src[a * qd[1] + b];
            transposed = add_constant(m, base + "_kn", std::move(t));
          }
          wq = transposed;
        }
        const int64_t n = static_cast<int64_t>(p.scale.size());
        const int sv = add_constant(m, tag + "_scale", Tensor::from_f32(p.scale, {n}));
        std::vector<int> inputs = {p.node->inputs[0], wq, sv};
        if (p.keep_bias != kNoValue) inputs.push_back(p.keep_bias);
        if (p.bias) inputs.push_back(add_constant(m, tag + "_bias", Tensor::from_f32(*p.bias, {n})));
        std::map<std::string, Attribute> attrs;
        if (p.op == ext::kDynamicQuantConv) {
          attrs = p.node->attrs;  // window, group and fused activation carry over
        } else {
          for (const char* a : {ext::kActivation, ext::kActivationAlpha, ext::kActivationBeta})
            if (const Attribute* v = p.node->attr(a)) attrs[a] = *v;
        }
        if (label.empty()) label = "DequantizeLinear+" + std::string(p.node->op_type);
        p.node->op_type = p.op;
        p.node->domain = ext::kDomain;
        p.node->attrs = std::move(attrs);
        p.node->inputs = std::move(inputs);
      }
      kill(dq);
      view.refresh();
      r.add(label);  // one rewrite per imported weight
    }
  return r;
}

}  // namespace kiln
