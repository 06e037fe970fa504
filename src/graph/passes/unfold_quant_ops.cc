// unfold_quant_ops (passes.h): ONNX models quantized ahead of time by onnxruntime run
// here on the same int8 route as kiln's own compressed ones. Two forms are rewritten:
//
// - Dynamic (quantize_dynamic): DynamicQuantizeLinear(x) -> MatMulInteger / ConvInteger
//   (x_q, W const, x_zp, [w_zp]) -> Cast(float) -> Mul by x_scale and the weight scale
//   (one Mul of the scale product Mul(x_scale, w_scale), or a chain of Muls in any order)
//   [-> Add of a per-channel constant bias]. It becomes the weight-only QDQ form, a float
//   MatMul / Conv reading DequantizeLinear(W int8 symmetric, scale per output channel),
//   which nhwc_layout and import_qdq_weights turn into kiln.DynamicQuantConv /
//   kiln.DynamicQuantMatMul: the activations are quantized at run time there too.
// - QOperator (quantize_static, QOperator format): QLinearConv / QLinearMatMul with
//   constant weights and scales become DequantizeLinear(x) -> Conv / MatMul (weights
//   DequantizeLinear(W int8 symmetric, scale per output channel), bias
//   DequantizeLinear(B int32, x_scale * w_scale)) -> QuantizeLinear(y): the static-int8 QDQ
//   contract fuse_qdq turns into kiln.QLinearNhwcConv / QLinearMatMul after nhwc_layout.
//   A MaxPool run on a QuantizeLinear's output (QOperator models keep it on int8) becomes
//   DequantizeLinear -> MaxPool -> QuantizeLinear at the same scale: int8 kiln.NhwcMaxPool.
//   onnxruntime's com.microsoft QLinearAdd / QLinearMul / QLinearConcat /
//   QLinearGlobalAveragePool / QLinearAveragePool / QLinearSigmoid / QLinearLeakyRelu
//   (which the ONNX importer accepts for this pass) become DequantizeLinear of each input
//   -> the float op -> QuantizeLinear: correct, in float between int8 tensors.
//
// uint8 activations between QuantizeLinear and DequantizeLinear are shifted to int8 (zero
// points - 128), exactly, so that fuse_qdq's int8 ops take them. Weights are kept
// bit-exact: W - w_zero_point must fit int8 (always so for int8 with zero point 0, and for
// uint8 with zero point 128). Otherwise (asymmetric uint8 weights,
// which quantize_dynamic writes for ConvInteger) the node's weights become float32
// constants (W - zp) * scale, and the rewrite is counted apart ("... float weights").
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "graph/kiln_extensions.h"
#include "graph/passes/passes.h"

namespace kiln {
namespace {

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

bool is_op(const Node* n, const char* op) { return n && n->domain.empty() && n->op_type == op; }

// Constant integer weights with their zero point, one per output channel along `axis`
// (or one for the whole tensor), and float32 scales of the same kind.
struct IntWeights {
  const Tensor* q = nullptr;
  const Tensor* zp = nullptr;  // absent: 0
  std::vector<float> scale;    // one per channel along axis (a per-tensor value broadcast)
  int64_t axis = 0;
};

// The per-channel values of a constant with n channels: one value (broadcast) or n.
std::optional<std::vector<double>> per_channel(const Tensor* t, int64_t n) {
  if (!t) return std::nullopt;
  if (t->size() != 1 && t->size() != n) return std::nullopt;
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t->get_f64(t->size() == 1 ? 0 : i);
  return v;
}

std::optional<IntWeights> int_weights(const Model& m, int w, int zp, int64_t rank, int64_t axis) {
  IntWeights r;
  r.q = constant_of(m, w);
  if (!r.q || (r.q->dtype() != DType::kI8 && r.q->dtype() != DType::kU8) || r.q->rank() != rank) return std::nullopt;
  r.axis = axis;
  if (zp != kNoValue) {
    r.zp = constant_of(m, zp);
    if (!r.zp || r.zp->dtype() != r.q->dtype() || r.zp->rank() > 1 ||
        !per_channel(r.zp, r.q->dim(static_cast<size_t>(axis))))
      return std::nullopt;
  }
  return r;
}

// (W - zp) as int8 when every value fits, else nullopt.
std::optional<Tensor> symmetric_int8(const IntWeights& w) {
  const Dims& d = w.q->dims();
  const int64_t n = d[static_cast<size_t>(w.axis)];
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(w.axis) + 1; i < d.size(); ++i) inner *= d[i];
  const std::vector<double> zp = w.zp ? *per_channel(w.zp, n) : std::vector<double>(static_cast<size_t>(n), 0.0);
  auto t = Tensor::make(DType::kI8, d);
  if (!t.ok()) return std::nullopt;
  int8_t* dst = t->mutable_data<int8_t>();
  for (int64_t i = 0; i < w.q->size(); ++i) {
    const double v = w.q->get_f64(i) - zp[static_cast<size_t>((i / inner) % n)];
    if (v < -128 || v > 127) return std::nullopt;
    dst[i] = static_cast<int8_t>(v);
  }
  return std::move(t).value();
}

// (W - zp) * scale in float32.
Tensor dequantized(const IntWeights& w) {
  const Dims& d = w.q->dims();
  const int64_t n = d[static_cast<size_t>(w.axis)];
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(w.axis) + 1; i < d.size(); ++i) inner *= d[i];
  const std::vector<double> zp = w.zp ? *per_channel(w.zp, n) : std::vector<double>(static_cast<size_t>(n), 0.0);
  std::vector<float> v(static_cast<size_t>(w.q->size()));
  for (int64_t i = 0; i < w.q->size(); ++i) {
    const size_t c = static_cast<size_t>((i / inner) % n);
    v[static_cast<size_t>(i)] = static_cast<float>((w.q->get_f64(i) - zp[c]) * w.scale[c]);
  }
  return Tensor::from_f32(v, d);
}

// New nodes are collected and appended after the walk (node vectors must not grow
// while Node pointers are held).
struct Emitter {
  Model& m;
  std::vector<Node>& added;
  int value(const std::string& base) {
    Value v;
    v.name = base;
    for (int k = 1; m.find_value(v.name) >= 0; ++k) v.name = base + "_" + std::to_string(k);
    return m.add_value(std::move(v));
  }
  int node(const std::string& name, const char* op, std::vector<int> inputs, std::map<std::string, Attribute> attrs = {}) {
    Node n;
    n.name = name;
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.outputs = {value(name)};
    n.attrs = std::move(attrs);
    added.push_back(std::move(n));
    return added.back().outputs[0];
  }
  // The float weights the rewritten node reads: DequantizeLinear(int8 W, scale) when the
  // weights convert exactly, else a float32 constant. Sets `exact`. Call it before adding
  // any value: w points into m.values, which adding values may move.
  int weights(std::string base, const IntWeights& w, bool& exact) {
    auto q8 = symmetric_int8(w);
    exact = q8.has_value();
    if (!exact) return add_constant(m, base + "_dequantized", dequantized(w));
    const int qv = add_constant(m, base + "_int8", std::move(*q8));
    const int sv = add_constant(m, base + "_scale",
                                Tensor::from_f32(w.scale, {static_cast<int64_t>(w.scale.size())}));
    return node(base + "_dequantize", "DequantizeLinear", {qv, sv}, {{"axis", int_attr(w.axis)}});
  }
};

// ---- Dynamic pattern -----------------------------------------------------------------

// A factor of the output scale: the DynamicQuantizeLinear's scale (counted in
// `x_scales`), a float32 constant, or a Mul of such factors.
bool collect_factors(const Model& m, const GraphView& view, int v, int x_scale, int depth, int& x_scales,
                     std::vector<const Tensor*>& consts) {
  if (v == x_scale) return ++x_scales, true;
  if (const Tensor* c = constant_of(m, v)) {
    if (c->dtype() != DType::kF32) return false;
    consts.push_back(c);
    return true;
  }
  Node* p = view.producer(v);
  if (depth == 0 || !is_op(p, "Mul") || p->num_inputs() != 2) return false;
  // Not killed here: eliminate_dead drops it once no rewritten chain reads it.
  return collect_factors(m, view, p->inputs[0], x_scale, depth - 1, x_scales, consts) &&
         collect_factors(m, view, p->inputs[1], x_scale, depth - 1, x_scales, consts);
}

// Multiplies a constant factor into the per-channel scale (n channels at `axis_from_end`
// of the output, rank out_rank; -1 when unknown): a scalar, or n values along that axis
// with every other dim 1, of rank <= out_rank. False for anything else (it would vary
// along another axis or change the output's shape).
bool fold_factor(const Tensor& c, int64_t axis_from_end, int out_rank, std::vector<float>& scale) {
  const int64_t n = static_cast<int64_t>(scale.size());
  // Below an unknown rank only a vector surely keeps the output's shape.
  if (out_rank >= 0 ? c.rank() > out_rank : c.rank() > 1) return false;
  if (c.size() == 1) {
    for (float& s : scale) s *= c.data<float>()[0];
    return true;
  }
  if (c.rank() < axis_from_end) return false;
  const Dims& d = c.dims();
  for (int64_t i = 0; i < c.rank(); ++i)
    if (d[static_cast<size_t>(i)] != (i == c.rank() - axis_from_end ? n : 1)) return false;
  for (int64_t i = 0; i < n; ++i) scale[static_cast<size_t>(i)] *= c.data<float>()[i];
  return true;
}

struct DynamicMatch {
  Node* dql = nullptr;
  Node* integer_op = nullptr;
  Node* cast = nullptr;
  std::vector<Node*> chain;  // the Muls on the data path; the last one (or `add`) is rewritten
  Node* add = nullptr;       // a bias Add folded in, or nullptr
  IntWeights w;
  std::optional<std::vector<float>> bias;
};

std::optional<DynamicMatch> match_dynamic(const Model& m, const GraphView& view, const Graph& g, Node& op) {
  const bool conv = op.op_type == "ConvInteger";
  if (!op.domain.empty() || (!conv && op.op_type != "MatMulInteger") || op.outputs.size() != 1 || op.num_inputs() < 3)
    return std::nullopt;
  DynamicMatch r;
  r.integer_op = &op;
  r.dql = view.producer(op.inputs[0]);
  if (!is_op(r.dql, "DynamicQuantizeLinear") || !owns(g, r.dql) || r.dql->outputs.size() != 3 ||
      r.dql->outputs[0] != op.inputs[0] || r.dql->outputs[2] != op.inputs[2] || r.dql->inputs.empty())
    return std::nullopt;
  // W [K, N] (zero points and scales per column N) or [M, C/group, kH, kW] (per M).
  const int64_t w_rank = conv ? 4 : 2, w_axis = conv ? 0 : 1;
  auto w = int_weights(m, op.inputs[1], input_of(op, 3), w_rank, w_axis);
  if (!w) return std::nullopt;
  r.w = *w;
  const int64_t n = r.w.q->dim(static_cast<size_t>(w_axis));
  if (!conv && known_rank(m, r.dql->inputs[0]) == 1) return std::nullopt;  // [K] x [K, N]: not rows
  const int y = op.outputs[0];
  if (view.uses(y) != 1 || view.is_graph_output(y)) return std::nullopt;
  r.cast = view.consumers(y)[0];
  auto to = r.cast->attr_int("to", 0);
  if (!is_op(r.cast, "Cast") || !owns(g, r.cast) || !to.ok() || *to != 1) return std::nullopt;
  // Mul by the scales, in any grouping, until the activation scale has been applied.
  const int64_t axis_from_end = conv ? 3 : 1;
  const int out_rank = conv ? 4 : known_rank(m, r.dql->inputs[0]);
  r.w.scale.assign(static_cast<size_t>(n), 1.f);
  int cur = r.cast->outputs[0], x_scales = 0;
  while (x_scales == 0) {
    if (r.chain.size() == 4 || view.uses(cur) != 1 || view.is_graph_output(cur)) return std::nullopt;
    Node* mul = view.consumers(cur)[0];
    if (!is_op(mul, "Mul") || !owns(g, mul) || mul->num_inputs() != 2 || mul->outputs.size() != 1) return std::nullopt;
    const int other = other_input(*mul, cur);
    if (other == kNoValue) return std::nullopt;
    std::vector<const Tensor*> consts;
    if (!collect_factors(m, view, other, r.dql->outputs[1], 3, x_scales, consts) || x_scales > 1)
      return std::nullopt;
    for (const Tensor* c : consts)
      if (!fold_factor(*c, axis_from_end, out_rank, r.w.scale)) return std::nullopt;
    r.chain.push_back(mul);
    cur = mul->outputs[0];
  }
  // A constant bias Add of one value per output channel folds into the new node.
  if (view.uses(cur) == 1 && !view.is_graph_output(cur)) {
    Node* add = view.consumers(cur)[0];
    if (is_op(add, "Add") && owns(g, add) && add->num_inputs() == 2 && add->outputs.size() == 1) {
      const Tensor* b = constant_of(m, other_input(*add, cur));
      // fold_factor's shape rule, applied to ones: the bias per channel.
      std::vector<float> bias(static_cast<size_t>(n), 1.f);
      if (b && b->dtype() == DType::kF32 && fold_factor(*b, axis_from_end, out_rank, bias)) {
        r.bias = std::move(bias);
        r.add = add;
      }
    }
  }
  return r;
}

// ---- QOperator pattern ---------------------------------------------------------------

// A constant scalar quantization parameter.
const Tensor* scalar_param(const Model& m, int v, DType dtype) {
  const Tensor* t = constant_of(m, v);
  return t && t->dtype() == dtype && t->size() == 1 && t->rank() <= 1 ? t : nullptr;
}

struct QLinearMatch {
  IntWeights w;
  const Tensor* bias = nullptr;  // int32 [M], conv only
  float x_scale = 0;
};

std::optional<QLinearMatch> match_qlinear(const Model& m, const Node& n) {
  const bool conv = n.op_type == "QLinearConv";
  if (!n.domain.empty() || (!conv && n.op_type != "QLinearMatMul") || n.outputs.size() != 1 || n.num_inputs() < 8)
    return std::nullopt;
  for (int i : {1, 2, 4, 5, 6, 7})
    if (input_of(n, static_cast<size_t>(i)) == kNoValue) return std::nullopt;
  const int x = n.inputs[0];
  const DType xt = m.values[static_cast<size_t>(x)].dtype;
  const Tensor* xs = scalar_param(m, n.inputs[1], DType::kF32);
  const Tensor* xz = constant_of(m, n.inputs[2]);
  const Tensor* ys = scalar_param(m, n.inputs[6], DType::kF32);
  const Tensor* yz = constant_of(m, n.inputs[7]);
  if (!xs || !xz || xz->size() != 1 || (xt != DType::kUndefined && xt != xz->dtype()) || !ys || !yz ||
      yz->size() != 1 || yz->rank() > 1)
    return std::nullopt;
  QLinearMatch r;
  r.x_scale = xs->data<float>()[0];
  auto w = int_weights(m, n.inputs[3], n.inputs[5], conv ? 4 : 2, conv ? 0 : 1);
  if (!w) return std::nullopt;
  r.w = *w;
  const int64_t ch = r.w.q->dim(static_cast<size_t>(r.w.axis));
  const Tensor* ws = constant_of(m, n.inputs[4]);
  if (!ws || ws->dtype() != DType::kF32 || ws->rank() > 1) return std::nullopt;
  auto s = per_channel(ws, ch);
  if (!s) return std::nullopt;
  r.w.scale.assign(s->begin(), s->end());
  if (!conv && known_rank(m, x) == 1) return std::nullopt;
  if (conv && input_of(n, 8) != kNoValue) {
    r.bias = constant_of(m, n.inputs[8]);
    if (!r.bias || r.bias->dtype() != DType::kI32 || r.bias->dims() != Dims{ch}) return std::nullopt;
  }
  return r;
}

// A constant zero point of one element of type dt, or nullptr.
const Tensor* scalar_zero_point(const Model& m, const Node& n, DType dt) {
  const Tensor* z = constant_of(m, input_of(n, 2));
  return z && z->dtype() == dt && z->size() == 1 && z->rank() <= 1 ? z : nullptr;
}

Tensor int8_scalar(int v) {
  auto t = Tensor::make(DType::kI8, {});
  t->mutable_data<int8_t>()[0] = static_cast<int8_t>(v);
  return std::move(t).value();
}

// uint8 activations (older quantize_static defaults, QOperator models of the ONNX zoo) ->
// int8, the type kiln's static int8 ops take: a QuantizeLinear with a uint8 zero point
// whose output only DequantizeLinears with uint8 zero points read gets zero point - 128,
// and so do its readers. Exact: the int8 values are the uint8 ones minus 128 and
// (q - zp) is unchanged. Returns the number of tensors changed.
int uint8_activations_to_int8(Model& m, GraphView& view, Graph& g) {
  int changed = 0;
  for (Node& q : g.nodes) {
    if (!is_op(&q, "QuantizeLinear") || q.outputs.size() != 1 || !scalar_zero_point(m, q, DType::kU8)) continue;
    auto block = q.attr_int("block_size", 0), out_type = q.attr_int("output_dtype", 0);
    if (!block.ok() || *block != 0 || !out_type.ok() || *out_type != 0) continue;
    const int y = q.outputs[0];
    if (view.is_graph_output(y)) continue;
    const std::vector<Node*> readers = view.consumers(y);
    bool ok = !readers.empty();
    for (const Node* r : readers)
      ok = ok && is_op(r, "DequantizeLinear") && r->inputs[0] == y && scalar_zero_point(m, *r, DType::kU8) &&
           r->attr_int("block_size", 0).ok() && r->attr_int("block_size", 0).value() == 0;
    if (!ok) continue;
    auto shift = [&](Node& n) {
      const int z = static_cast<int>(constant_of(m, n.inputs[2])->data<uint8_t>()[0]) - 128;
      n.inputs[2] = add_constant(m, m.values[static_cast<size_t>(n.inputs[2])].name + "_int8", int8_scalar(z));
    };
    shift(q);
    for (Node* r : readers) shift(*r);
    m.values[static_cast<size_t>(y)].dtype = DType::kI8;
    view.refresh();
    ++changed;
  }
  return changed;
}

// onnxruntime's com.microsoft QLinear* ops its QOperator format writes around the
// convolutions (residual Add, pooling heads, Concat, activations): each input
// (x, scale, zero point) is dequantized, the float op runs, the output is quantized.
struct MsQuantOp {
  const char* ms;    // com.microsoft op type
  const char* onnx;  // the float op
};
constexpr MsQuantOp kMsQuantOps[] = {
    {"QLinearAdd", "Add"},         {"QLinearMul", "Mul"},           {"QLinearGlobalAveragePool", "GlobalAveragePool"},
    {"QLinearAveragePool", "AveragePool"}, {"QLinearConcat", "Concat"}, {"QLinearSigmoid", "Sigmoid"},
    {"QLinearLeakyRelu", "LeakyRelu"},
};
constexpr const char* kMsDomain = "com.microsoft";

const MsQuantOp* ms_quant_op(const std::string& domain, const std::string& op) {
  if (domain != kMsDomain) return nullptr;
  for (const MsQuantOp& o : kMsQuantOps)
    if (op == o.ms) return &o;
  return nullptr;
}

struct MsMatch {
  const MsQuantOp* op = nullptr;
  std::vector<std::array<int, 3>> data;  // (x, scale, zero point) per float input
  int y_scale = kNoValue, y_zero = kNoValue;
};

std::optional<MsMatch> match_ms(const Model& m, const Node& n) {
  MsMatch r;
  r.op = ms_quant_op(n.domain, n.op_type);
  if (!r.op || n.outputs.size() != 1) return std::nullopt;
  const std::string op = n.op_type;
  auto triple = [&](size_t i) { return std::array<int, 3>{input_of(n, i), input_of(n, i + 1), input_of(n, i + 2)}; };
  if (op == "QLinearAdd" || op == "QLinearMul") {
    r.data = {triple(0), triple(3)};
    r.y_scale = input_of(n, 6), r.y_zero = input_of(n, 7);
  } else if (op == "QLinearConcat") {
    if (n.inputs.size() < 5 || (n.inputs.size() - 2) % 3 != 0) return std::nullopt;
    for (size_t i = 2; i < n.inputs.size(); i += 3) r.data.push_back(triple(i));
    r.y_scale = input_of(n, 0), r.y_zero = input_of(n, 1);
  } else {
    auto cl = n.attr_int("channels_last", 0);
    if (!cl.ok() || *cl != 0) return std::nullopt;
    r.data = {triple(0)};
    r.y_scale = input_of(n, 3), r.y_zero = input_of(n, 4);
  }
  // Every scale a float32 constant scalar, every zero point a constant scalar of its
  // tensor's type (the output's fixes the QuantizeLinear's output type).
  auto zero_ok = [&](int z, int x) {
    const Tensor* t = constant_of(m, z);
    if (!t || t->size() != 1 || (t->dtype() != DType::kI8 && t->dtype() != DType::kU8)) return false;
    const DType xt = x == kNoValue ? DType::kUndefined : m.values[static_cast<size_t>(x)].dtype;
    return xt == DType::kUndefined || xt == t->dtype();
  };
  for (const auto& [x, sc, z] : r.data)
    if (x == kNoValue || !scalar_param(m, sc, DType::kF32) || !zero_ok(z, x)) return std::nullopt;
  if (!scalar_param(m, r.y_scale, DType::kF32) || !zero_ok(r.y_zero, n.outputs[0])) return std::nullopt;
  return r;
}

}  // namespace

bool unfold_quant_ops_imports(const std::string& domain, const std::string& op_type) {
  return ms_quant_op(domain, op_type) != nullptr;
}

Result<PassResult> unfold_quant_ops(Model& m) {
  PassResult r;
  GraphView view(m);
  for (Graph* g : std::vector<Graph*>(view.graphs())) {
    std::vector<Node> added;
    Emitter e{m, added};
    for (Node& n : g->nodes) {
      if (n.outputs.empty()) continue;
      if (auto d = match_dynamic(m, view, *g, n)) {
        const bool conv = n.op_type == "ConvInteger";
        Node& out = d->add ? *d->add : *d->chain.back();
        bool exact = false;
        const int wv = e.weights(m.values[static_cast<size_t>(n.inputs[1])].name, d->w, exact);
        std::vector<int> inputs = {d->dql->inputs[0], wv};
        std::map<std::string, Attribute> attrs;
        if (conv) attrs = n.attrs;  // ConvInteger's attributes are Conv's
        if (d->bias) {
          const int64_t ch = static_cast<int64_t>(d->bias->size());
          inputs.push_back(add_constant(m, out.name + "_bias", Tensor::from_f32(*d->bias, {ch})));
          if (!conv) attrs[ext::kMatMulBias] = int_attr(1);
        }
        out.op_type = conv ? "Conv" : "MatMul";
        out.domain.clear();
        out.inputs = std::move(inputs);
        out.attrs = std::move(attrs);
        for (Node* mul : d->chain)
          if (mul != &out) kill(*mul);
        kill(*d->cast);
        kill(n);
        view.refresh();
        r.add(std::string(conv ? "ConvInteger" : "MatMulInteger") + (exact ? " -> QDQ int8 weights" : " -> float weights"));
        continue;
      }
      if (auto ms = match_ms(m, n)) {
        const std::string base = n.name.empty() ? m.values[static_cast<size_t>(n.outputs[0])].name : n.name;
        std::vector<int> xs;
        for (const auto& [x, sc, z] : ms->data)
          xs.push_back(e.node(base + "_dequantize_" + std::to_string(xs.size()), "DequantizeLinear", {x, sc, z}));
        std::map<std::string, Attribute> attrs = n.attrs;
        attrs.erase("channels_last");
        const int yf = e.node(base + "_float", ms->op->onnx, std::move(xs), std::move(attrs));
        const std::string label = n.op_type + " -> QDQ";
        n.op_type = "QuantizeLinear";
        n.domain.clear();
        n.inputs = {yf, ms->y_scale, ms->y_zero};
        n.attrs.clear();
        view.refresh();
        r.add(label);
        continue;
      }
      if (Node* q = view.producer(input_of(n, 0));
          is_op(&n, "MaxPool") && n.outputs.size() == 1 && is_op(q, "QuantizeLinear") && owns(*g, q) &&
          q->outputs.size() == 1 && q->num_inputs() == 3 && scalar_param(m, q->inputs[1], DType::kF32) &&
          constant_of(m, q->inputs[2]) && constant_of(m, q->inputs[2])->size() == 1) {
        // Max commutes with dequantizing (monotonic): DQ -> MaxPool -> Q at the same scale
        // and zero point is exact, and nhwc_layout / fuse_qdq make it int8 kiln.NhwcMaxPool.
        const std::string base = n.name.empty() ? m.values[static_cast<size_t>(n.outputs[0])].name : n.name;
        const int s = q->inputs[1], z = q->inputs[2];
        const int xf = e.node(base + "_dequantize_x", "DequantizeLinear", {n.inputs[0], s, z});
        const int yf = e.node(base + "_maxpool", "MaxPool", {xf}, n.attrs);
        n.op_type = "QuantizeLinear";
        n.inputs = {yf, s, z};
        n.attrs.clear();
        view.refresh();
        r.add("MaxPool on quantized tensor -> QDQ");
        continue;
      }
      if (auto q = match_qlinear(m, n)) {
        const bool conv = n.op_type == "QLinearConv";
        const std::string base = n.name.empty() ? m.values[static_cast<size_t>(n.outputs[0])].name : n.name;
        bool exact = false;
        const int wv = e.weights(m.values[static_cast<size_t>(n.inputs[3])].name, q->w, exact);
        const int xf = e.node(base + "_dequantize_x", "DequantizeLinear", {n.inputs[0], n.inputs[1], n.inputs[2]});
        std::vector<int> inputs = {xf, wv};
        if (q->bias) {
          // ONNX's QDQ bias: int32 at scale x_scale * w_scale, zero point 0.
          std::vector<float> bs = q->w.scale;
          for (float& s : bs) s *= q->x_scale;
          const int sv = add_constant(m, base + "_bias_scale", Tensor::from_f32(bs, {static_cast<int64_t>(bs.size())}));
          inputs.push_back(e.node(base + "_dequantize_bias", "DequantizeLinear", {n.inputs[8], sv}, {{"axis", int_attr(0)}}));
        }
        std::map<std::string, Attribute> attrs;
        if (conv) attrs = n.attrs;
        const int yf = e.node(base + (conv ? "_conv" : "_matmul"), conv ? "Conv" : "MatMul", std::move(inputs), std::move(attrs));
        const std::string label = n.op_type + (exact ? " -> QDQ with int8 weights" : " -> QDQ with float weights");
        n.op_type = "QuantizeLinear";
        n.inputs = {yf, n.inputs[6], n.inputs[7]};
        n.attrs.clear();
        r.add(label);
        view.refresh();
        continue;
      }
    }
    for (Node& n : added) g->nodes.push_back(std::move(n));
    if (!added.empty()) view.refresh();
    for (int k = uint8_activations_to_int8(m, view, *g); k > 0; --k) r.add("uint8 activations -> int8");
  }
  return r;
}

}  // namespace kiln
