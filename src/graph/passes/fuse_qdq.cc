// fuse_qdq (passes.h): the static int8 (QDQ) form that `kiln compress --int8-static`
// writes, DequantizeLinear(x int8) -> float op -> QuantizeLinear, becomes one int8 op, so
// activations stay int8 between layers and the integer kernels run:
//   DQ(x) -> kiln.NhwcConv(DQ(W int8), [DQ(B int32) | float B]) -> Q   => kiln.QLinearNhwcConv
//   DQ(x) -> MatMul(DQ(W int8 [K, N]), [kiln.bias])             -> Q   => kiln.QLinearMatMul
//   DQ(x) -> kiln.NhwcMaxPool | Reshape | Flatten | Transpose | Squeeze | Unsqueeze -> Q
//     with the same scale and zero point on both sides => the op on the int8 tensor.
//   DQ(x) -> kiln.Affine(scalar s > 0, b) -> Q at x's scale * s, zero point shifted by b
//     => nothing: Q's readers read x (affine_shift below).

//   DQ(a), DQ(b) -> Add | Mul -> Q                                => kiln.QLinearAdd | Mul
//   DQ(x [N, H, W, C]) -> ReduceMean(axes 1, 2) -> Q              => kiln.QLinearGlobalAveragePool
// Matching is strict; anything else stays as it is and runs as fake quant (correct, float):
// activations per tensor (float32 scalar scale, int8 scalar zero point), weights constant
// int8 with zero points 0 and scales per output channel (axis 0 of W [M, C/g, kH, kW],
// axis 1 of W [K, N]) or per tensor, a bias of one value per channel, and the float output
// read by the QuantizeLinear alone. The bias becomes int32 at scale x_scale * w_scale[m]
// (the ONNX convention; an int32 bias written at that scale is kept bit-exact).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {
namespace {

bool is_onnx(const Node& n, const char* op) { return n.op_type == op && n.domain.empty(); }
bool is_kiln(const Node& n, const char* op) { return n.op_type == op && n.domain == ext::kDomain; }

// Per-tensor activation quantization of a QuantizeLinear / DequantizeLinear node: scale a
// float32 constant of one element, zero point an int8 constant of one element.
struct ActQuant {
  int scale_v = kNoValue, zero_v = kNoValue;
  float scale = 0;
  int32_t zero = 0;
  bool same(const ActQuant& o) const { return scale == o.scale && zero == o.zero; }
};

std::optional<ActQuant> act_quant(const Model& m, const Node& n, const char* op) {
  if (!is_onnx(n, op) || n.outputs.size() != 1 || n.inputs.size() != 3) return std::nullopt;
  auto block = n.attr_int("block_size", 0);
  if (!block.ok() || *block != 0) return std::nullopt;
  ActQuant q;
  q.scale_v = n.inputs[1];
  q.zero_v = n.inputs[2];
  auto s = scalar_of(m, q.scale_v);
  const Tensor* z = constant_of(m, q.zero_v);
  if (!s || !(*s > 0.f) || !std::isfinite(*s) || !z || z->dtype() != DType::kI8 || z->size() != 1) return std::nullopt;
  if (is_onnx(n, "QuantizeLinear")) {
    auto out_type = n.attr_int("output_dtype", 0);  // opset 21: must agree with the zero point
    if (!out_type.ok() || (*out_type != 0 && *out_type != 3)) return std::nullopt;
  }
  q.scale = *s;
  q.zero = z->data<int8_t>()[0];
  return q;
}

// DequantizeLinear of constant int8 weights, zero points 0, scales per tensor or along
// `axis` (the output channels).
struct WeightQuant {
  int q_v = kNoValue, scale_v = kNoValue;
  const Tensor* q = nullptr;
  std::vector<float> scale;  // one per output channel (a per-tensor scale repeated)
};

std::optional<WeightQuant> weight_quant(const Model& m, const Node* dq, size_t rank, int64_t axis) {
  if (!dq || !is_onnx(*dq, "DequantizeLinear") || dq->outputs.size() != 1 || dq->inputs.size() < 2) return std::nullopt;
  WeightQuant w;
  w.q_v = dq->inputs[0];
  w.scale_v = dq->inputs[1];
  w.q = constant_of(m, w.q_v);
  const Tensor* s = constant_of(m, w.scale_v);
  if (!w.q || !s || w.q->dtype() != DType::kI8 || static_cast<size_t>(w.q->rank()) != rank || s->dtype() != DType::kF32) return std::nullopt;
  auto block = dq->attr_int("block_size", 0);
  auto a = dq->attr_int("axis", 1);
  if (!block.ok() || *block != 0 || !a.ok()) return std::nullopt;
  const int64_t channels = w.q->dim(static_cast<size_t>(axis));
  if (s->size() == 1) {
    w.scale.assign(static_cast<size_t>(channels), s->data<float>()[0]);
  } else {
    const int64_t got = *a < 0 ? *a + static_cast<int64_t>(rank) : *a;
    if (got != axis || s->rank() != 1 || s->dim(0) != channels) return std::nullopt;
    w.scale = floats_of(*s);
  }
  for (float v : w.scale)
    if (!(v > 0.f) || !std::isfinite(v)) return std::nullopt;
  if (const int zv = input_of(*dq, 2); zv != kNoValue) {
    const Tensor* z = constant_of(m, zv);
    if (!z || z->dtype() != DType::kI8 || (z->size() != 1 && z->size() != channels)) return std::nullopt;
    for (int64_t i = 0; i < z->size(); ++i)
      if (z->data<int8_t>()[i] != 0) return std::nullopt;
  }
  return w;
}

// The bias of n channels as int32 at scale x_scale * w_scale[c]: from DequantizeLinear(int32
// B, scale, zero point 0) or a float32 constant [n]. nullopt: not that form, or out of range.
std::optional<std::vector<int32_t>> int_bias(const Model& m, const GraphView& view, int v, float x_scale,
                                             const std::vector<float>& w_scale) {
  const size_t n = w_scale.size();
  std::vector<float> real(n);
  if (const Tensor* t = constant_of(m, v)) {
    if (t->dtype() != DType::kF32 || t->size() != static_cast<int64_t>(n) || t->rank() != 1) return std::nullopt;
    real = floats_of(*t);
  } else {
    const Node* dq = view.producer(v);
    if (!dq || !is_onnx(*dq, "DequantizeLinear") || dq->inputs.size() < 2) return std::nullopt;
    const Tensor* b = constant_of(m, dq->inputs[0]);
    const Tensor* s = constant_of(m, dq->inputs[1]);
    if (!b || !s || b->dtype() != DType::kI32 || b->rank() != 1 || b->size() != static_cast<int64_t>(n) ||
        s->dtype() != DType::kF32 || (s->size() != 1 && s->size() != static_cast<int64_t>(n)))
      return std::nullopt;
    if (const int zv = input_of(*dq, 2); zv != kNoValue) {
      const Tensor* z = constant_of(m, zv);
      if (!z || z->dtype() != DType::kI32) return std::nullopt;
      for (int64_t i = 0; i < z->size(); ++i)
        if (z->data<int32_t>()[i] != 0) return std::nullopt;
    }
    for (size_t c = 0; c < n; ++c)  // DequantizeLinear's own float product
      real[c] = static_cast<float>(b->data<int32_t>()[c]) * s->data<float>()[s->size() == 1 ? 0 : c];
  }
  std::vector<int32_t> q(n);
  for (size_t c = 0; c < n; ++c) {
    const double v = std::nearbyint(static_cast<double>(real[c]) / static_cast<double>(x_scale * w_scale[c]));
    if (!std::isfinite(v) || std::fabs(v) > 1073741824.0) return std::nullopt;  // 2^30: headroom for the sums
    q[c] = static_cast<int32_t>(v);
  }
  return q;
}

// v's producer when v is its only output, read by exactly one node and no graph output.
Node* only_reader_producer(const GraphView& view, int v) {
  Node* p = view.producer(v);
  if (!p || p->outputs.size() != 1 || view.uses(v) != 1 || view.is_graph_output(v)) return nullptr;
  return p;
}

Tensor int32_tensor(const std::vector<int32_t>& v) {
  auto t = Tensor::make(DType::kI32, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t->mutable_data<int32_t>());
  return std::move(t).value();
}

// DQ(x) -> kiln.NhwcConv | MatMul -> q: rewrites q into the int8 op; the label or "".
std::string fuse_compute(Model& m, GraphView& view, Graph& g, Node& q, const ActQuant& yq) {
  Node* p = only_reader_producer(view, q.inputs[0]);
  if (!p || !owns(g, p)) return "";
  const bool conv = is_kiln(*p, ext::kNhwcConv);
  if (!conv && !is_onnx(*p, "MatMul")) return "";
  Node* dx = view.producer(input_of(*p, 0));
  if (!dx) return "";
  auto xq = act_quant(m, *dx, "DequantizeLinear");
  if (!xq) return "";
  const int wv = input_of(*p, 1);
  if (wv == kNoValue || wv == p->inputs[0]) return "";
  int bias_v = kNoValue;
  std::optional<WeightQuant> w;
  if (conv) {
    w = weight_quant(m, view.producer(wv), 4, 0);
    bias_v = input_of(*p, 2);
  } else {
    auto has_bias = p->attr_int(ext::kMatMulBias, 0);
    if (!has_bias.ok() || known_rank(m, p->inputs[0]) == 1) return "";
    if (*has_bias) bias_v = input_of(*p, 2);
    else if (p->num_inputs() != 2) return "";
    w = weight_quant(m, view.producer(wv), 2, 1);
  }
  if (!w) return "";
  std::optional<std::vector<int32_t>> bias;
  if (bias_v != kNoValue) {
    bias = int_bias(m, view, bias_v, xq->scale, w->scale);
    if (!bias) return "";
  }
  std::string label;
  std::map<std::string, Attribute> attrs;
  if (conv) {
    attrs = p->attrs;  // window, group and fused activation carry over
    auto group = p->attr_int("group", 1);
    label = group.ok() && *group > 1 && *group == w->q->dim(0) && w->q->dim(1) == 1 ? "QLinearNhwcConv (depthwise)"
                                                                                        : "QLinearNhwcConv";
  } else {
    for (const char* a : {ext::kActivation, ext::kActivationAlpha, ext::kActivationBeta})
      if (const Attribute* v = p->attr(a)) attrs[a] = *v;
    label = "QLinearMatMul";
  }
  // Values by index: add_constant may move model.values.
  const int x_v = dx->inputs[0], xs_v = xq->scale_v, xz_v = xq->zero_v, wq_v = w->q_v, ws_v = w->scale_v;
  const int b_v = bias ? add_constant(m, m.values[static_cast<size_t>(q.outputs[0])].name + "_bias_q", int32_tensor(*bias))
                       : kNoValue;
  q.op_type = conv ? ext::kQLinearNhwcConv : ext::kQLinearMatMul;
  q.domain = ext::kDomain;
  q.attrs = std::move(attrs);
  q.inputs = {x_v, xs_v, xz_v, wq_v, ws_v, kNoValue, yq.scale_v, yq.zero_v};
  if (b_v != kNoValue) q.inputs.push_back(b_v);
  kill(*p);
  return label;
}

// DQ(x) -> kiln.Affine(one scale s > 0, one bias b) -> q with q's scale = x_scale * s and
// zero point x_zero - round(b / q's scale) (what `kiln compress --int8-static` writes, see
// compress/int8_static.cc affine_shift()): the Affine maps x's int8 values onto themselves,
// so q's readers read x and the Affine and q go (the bias moves by at most half a step).
// v's rank: its shape, or 4 for channels-last convolutions' outputs, through Q / DQ (before
// shape inference a symbolic model input leaves the shapes unknown).
int rank_of(const Model& m, const GraphView& view, int v) {
  for (int hops = 0; hops < 4; ++hops) {
    if (const int r = known_rank(m, v); r >= 0) return r;
    const Node* p = view.producer(v);
    if (!p || p->inputs.empty()) return -1;
    if (is_kiln(*p, ext::kNhwcConv) || is_kiln(*p, ext::kQLinearNhwcConv)) return 4;
    if (!is_onnx(*p, "QuantizeLinear") && !is_onnx(*p, "DequantizeLinear")) return -1;
    v = p->inputs[0];
  }
  return -1;
}

std::string affine_shift(const Model& m, GraphView& view, Graph& g, Node& q, const ActQuant& yq) {
  Node* p = only_reader_producer(view, q.inputs[0]);
  if (!p || !owns(g, p) || !is_kiln(*p, ext::kAffine) || p->inputs.size() != 3 || p->attr(ext::kActivation) ||
      view.is_graph_output(q.outputs[0]))
    return "";
  Node* dx = view.producer(p->inputs[0]);
  if (!dx) return "";
  auto xq = act_quant(m, *dx, "DequantizeLinear");
  if (!xq) return "";
  const Tensor* st = constant_of(m, p->inputs[1]);
  const Tensor* bt = constant_of(m, p->inputs[2]);
  const int x_rank = rank_of(m, view, p->inputs[0]);
  if (!st || !bt || x_rank < 0 || st->rank() > x_rank || bt->rank() > x_rank) return "";  // no broadcast to a new shape
  const auto s = scalar_of(m, p->inputs[1]), b = scalar_of(m, p->inputs[2]);
  if (!s || !b || !(*s > 0.f) || !std::isfinite(*b)) return "";
  const float y_scale = xq->scale * *s;
  const double zero = static_cast<double>(xq->zero) - std::nearbyint(static_cast<double>(*b) / y_scale);
  if (yq.scale != y_scale || static_cast<double>(yq.zero) != zero) return "";
  const int x_v = dx->inputs[0], y_v = q.outputs[0];
  kill(*p);
  kill(q);
  replace_uses(view, y_v, x_v);
  return "int8 Affine (folded into the scale)";
}

// DQ(x) -> shape-only op or max pool -> q with equal quantization: the op reads x.
std::string pass_through(const Model& m, GraphView& view, Graph& g, Node& q, const ActQuant& yq) {
  Node* p = only_reader_producer(view, q.inputs[0]);
  if (!p || !owns(g, p) || p->inputs.empty()) return "";
  const bool pool = is_kiln(*p, ext::kNhwcMaxPool);
  if (!pool && !(p->domain.empty() && (p->op_type == "Reshape" || p->op_type == "Flatten" || p->op_type == "Transpose" ||
                                       p->op_type == "Squeeze" || p->op_type == "Unsqueeze")))
    return "";
  Node* dx = view.producer(p->inputs[0]);
  if (!dx) return "";
  auto xq = act_quant(m, *dx, "DequantizeLinear");
  if (!xq || !xq->same(yq)) return "";
  for (size_t i = 1; i < p->inputs.size(); ++i)
    if (p->inputs[i] == p->inputs[0]) return "";
  p->inputs[0] = dx->inputs[0];
  p->outputs[0] = q.outputs[0];
  kill(q);
  return "int8 " + p->op_type;
}

// DQ(a), DQ(b) -> Add | Mul -> q  => kiln.QLinearAdd | kiln.QLinearMul (any broadcast the
// float op took; Add's fused activation carries over), and DQ(x) -> ReduceMean over axes
// 1, 2 (H, W of NHWC) -> q => kiln.QLinearGlobalAveragePool.
std::string fuse_elementwise(const Model& m, GraphView& view, Graph& g, Node& q, const ActQuant& yq) {
  Node* p = only_reader_producer(view, q.inputs[0]);
  if (!p || !owns(g, p) || p->inputs.empty()) return "";
  const bool add = is_onnx(*p, "Add"), mul = is_onnx(*p, "Mul");
  if (add || mul) {
    if (p->inputs.size() != 2) return "";
    std::map<std::string, Attribute> attrs;
    for (const auto& [name, a] : p->attrs) {
      if (name != ext::kActivation && name != ext::kActivationAlpha && name != ext::kActivationBeta) return "";
      attrs[name] = a;
    }
    Node* da = view.producer(p->inputs[0]);
    Node* db = view.producer(p->inputs[1]);
    if (!da || !db) return "";
    auto aq = act_quant(m, *da, "DequantizeLinear");
    auto bq = act_quant(m, *db, "DequantizeLinear");
    if (!aq || !bq) return "";
    q.inputs = {da->inputs[0], aq->scale_v, aq->zero_v, db->inputs[0], bq->scale_v, bq->zero_v, yq.scale_v, yq.zero_v};
    q.op_type = add ? ext::kQLinearAdd : ext::kQLinearMul;
    q.domain = ext::kDomain;
    q.attrs = std::move(attrs);
    kill(*p);
    return add ? "QLinearAdd" : "QLinearMul";
  }
  // The rank may be unknown (symbolic shapes); the op takes any rank >= 3.
  if (!is_onnx(*p, "ReduceMean") || (known_rank(m, p->inputs[0]) >= 0 && known_rank(m, p->inputs[0]) < 3)) return "";
  std::vector<int64_t> axes;
  if (const int av = input_of(*p, 1); av != kNoValue) {
    const Tensor* t = constant_of(m, av);
    if (!t || t->dtype() != DType::kI64 || t->rank() != 1) return "";
    axes.assign(t->data<int64_t>(), t->data<int64_t>() + t->size());
  } else {
    auto a = p->attr_ints("axes", {});
    if (!a.ok()) return "";
    axes = *a;
  }
  const int rank = known_rank(m, p->inputs[0]);
  for (int64_t a : axes)
    if (a < 0 && rank < 0) return "";  // negative axes need the rank
  for (int64_t& a : axes)
    if (a < 0) a += rank;
  std::sort(axes.begin(), axes.end());
  auto keepdims = p->attr_int("keepdims", 1);
  if (axes != std::vector<int64_t>{1, 2} || !keepdims.ok() || (*keepdims != 0 && *keepdims != 1)) return "";
  Node* dx = view.producer(p->inputs[0]);
  if (!dx) return "";
  auto xq = act_quant(m, *dx, "DequantizeLinear");
  if (!xq) return "";
  Attribute kd;
  kd.kind = Attribute::Kind::kInt;
  kd.i = *keepdims;
  q.inputs = {dx->inputs[0], xq->scale_v, xq->zero_v, yq.scale_v, yq.zero_v};
  q.op_type = ext::kQLinearGlobalAveragePool;
  q.domain = ext::kDomain;
  q.attrs = {{"keepdims", kd}};
  kill(*p);
  return "QLinearGlobalAveragePool";
}

}  // namespace

Result<PassResult> fuse_qdq(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs()))
    for (Node& q : g->nodes) {
      auto yq = act_quant(m, q, "QuantizeLinear");
      if (!yq) continue;
      std::string label = fuse_compute(m, view, *g, q, *yq);
      if (label.empty()) label = pass_through(m, view, *g, q, *yq);
      if (label.empty()) label = affine_shift(m, view, *g, q, *yq);

      if (label.empty()) label = fuse_elementwise(m, view, *g, q, *yq);
      if (label.empty()) continue;
      view.refresh();
      r.add(label);
    }
  return r;
}

}  // namespace kiln
