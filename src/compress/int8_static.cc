// Static int8 quantization into QDQ (int8_static.h).
#include "compress/int8_static.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "compress/gemm_plan.h"
#include "compress/int8_dynamic.h"
#include "graph/kiln_extensions.h"
#include "graph/passes/eliminate_dead.h"
#include "graph/passes/pass_util.h"

namespace kiln {

ActivationQuant activation_quant(TensorRange r) {
  const float lo = std::isfinite(r.min) ? std::min(r.min, 0.f) : 0.f;
  const float hi = std::isfinite(r.max) ? std::max(r.max, 0.f) : 0.f;
  ActivationQuant q;
  const float s = (hi - lo) / 255.f;
  // An all-zero tensor: any scale represents it; 1 keeps the graph well-formed.
  q.scale = s > std::numeric_limits<float>::min() && std::isfinite(s) ? s : 1.f;
  const float z = std::nearbyint(-128.f - lo / q.scale);
  q.zero_point = static_cast<int8_t>(std::min(127.f, std::max(-128.f, z)));
  return q;
}

namespace {

// A convolution or MatMul / Gemm the rewrite quantizes.
struct Target {
  Node* node = nullptr;
  bool conv = false;
  GemmPlan gemm;      // MatMul / Gemm
  int x = kNoValue, w = kNoValue, bias = kNoValue, y = kNoValue;
  bool quantize_y = false;  // false when y is a graph output: it stays float
};

bool is_pass_through(const Node& n) {
  if (n.outputs.size() != 1 || n.inputs.empty()) return false;
  if (n.domain == ext::kDomain) return n.op_type == ext::kNhwcMaxPool;
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  static const std::set<std::string> ops = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"};
  return ops.count(n.op_type) != 0;
}

// A kiln.Affine with one positive scale s and one bias b and no activation (PP-LCNetV3's
// learnable affine after each activation) only relabels x's int8 grid:
// s * x_scale * (q - x_zero) + b = y_scale * (q - y_zero) with y_scale = s * x_scale and
// y_zero = x_zero - b / y_scale. With y_zero rounded (the bias moves by at most half a step)
// and inside int8, fuse_qdq drops the op and its QuantizeLinear / DequantizeLinear pair: the
// readers take x's int8 data. fuse_qdq's affine_shift() computes the same numbers.
// x's rank: its shape, or 4 for a channels-last convolution's output (before shape
// inference a symbolic input leaves the shapes unknown).
int rank_of(const Model& m, const GraphView& view, int v) {
  if (const int r = known_rank(m, v); r >= 0) return r;
  const Node* p = view.producer(v);
  return p && p->domain == ext::kDomain && p->op_type == ext::kNhwcConv ? 4 : -1;
}

std::optional<ActivationQuant> affine_shift(const Model& m, const GraphView& view, const Node& n,
                                            const ActivationQuant& xq) {
  if (n.domain != ext::kDomain || n.op_type != ext::kAffine || n.inputs.size() != 3 || n.outputs.size() != 1 ||
      n.attr(ext::kActivation))
    return std::nullopt;
  const Tensor* st = constant_of(m, n.inputs[1]);
  const Tensor* bt = constant_of(m, n.inputs[2]);
  const int x_rank = rank_of(m, view, n.inputs[0]);
  // A one-element constant of higher rank than x would broadcast x to a new shape.
  if (!st || !bt || x_rank < 0 || st->rank() > x_rank || bt->rank() > x_rank) return std::nullopt;
  const auto s = scalar_of(m, n.inputs[1]), b = scalar_of(m, n.inputs[2]);
  if (!s || !b || !(*s > 0.f) || !std::isfinite(*s) || !std::isfinite(*b)) return std::nullopt;
  ActivationQuant y;
  y.scale = xq.scale * *s;
  if (!(y.scale > std::numeric_limits<float>::min()) || !std::isfinite(y.scale)) return std::nullopt;
  const double zero = static_cast<double>(xq.zero_point) - std::nearbyint(static_cast<double>(*b) / y.scale);
  if (zero < -128.0 || zero > 127.0) return std::nullopt;
  y.zero_point = static_cast<int8_t>(zero);
  return y;
}

// Add, Mul and ReduceMean over axes 1, 2 of a 4-D (NHWC) tensor: with every float input
// quantized, fuse_qdq runs them in int8 (kiln.QLinearAdd / Mul / GlobalAveragePool), so
// their output gets its own calibrated quantization instead of a float round trip.
bool is_int8_elementwise(const Model& m, const Node& n) {
  if (n.outputs.size() != 1 || (!n.domain.empty() && n.domain != "ai.onnx")) return false;
  if (n.op_type == "Add" || n.op_type == "Mul") return n.inputs.size() == 2;
  if (n.op_type != "ReduceMean" || n.inputs.empty()) return false;
  if (const int r = known_rank(m, n.inputs[0]); r >= 0 && r < 3) return false;  // unknown: symbolic shapes
  std::vector<int64_t> axes;
  if (const int av = input_of(n, 1); av != kNoValue) {
    const Tensor* t = constant_of(m, av);
    if (!t || t->dtype() != DType::kI64 || t->rank() != 1) return false;
    axes.assign(t->data<int64_t>(), t->data<int64_t>() + t->size());
  } else {
    auto a = n.attr_ints("axes", {});
    if (!a.ok()) return false;
    axes = *a;
  }
  const int rank = known_rank(m, n.inputs[0]);
  for (int64_t a : axes)
    if (a < 0 && rank < 0) return false;
  for (int64_t& a : axes)
    if (a < 0) a += rank;
  std::sort(axes.begin(), axes.end());
  return axes == std::vector<int64_t>{1, 2};
}

// Why a kiln.NhwcConv cannot be quantized (empty: it can).
std::string check_conv(const Model& m, const Node& node) {
  const Tensor* w = constant_of(m, input_of(node, 1));
  if (!w) return "weights are not a constant";
  if (w->dtype() != DType::kF32 || w->rank() != 4 || w->dim(0) <= 0) return "weights are not a 4-D float32 constant";
  const int b = input_of(node, 2);
  if (b != kNoValue) {
    const Tensor* bias = constant_of(m, b);
    if (!bias || bias->dtype() != DType::kF32 || bias->dims() != Dims{w->dim(0)})
      return "bias is not a float32 constant of one value per output channel";
  }
  auto g = node.attr_int("group", 1);
  if (!g.ok() || g.value() <= 0 || w->dim(0) % g.value() != 0) return "bad group";
  return "";
}

// The calibrated range of y narrowed by the node's fused Relu / Clip (calibration saw the
// activated values already; percentile / MSE ranges may still reach past the clamp).
TensorRange narrow_by_activation(const Node& node, TensorRange r) {
  auto act = node.attr_string(ext::kActivation, "");
  if (!act.ok()) return r;
  if (*act == "Relu") {
    r.min = std::max(r.min, 0.f);
  } else if (*act == "Clip") {
    auto lo = node.attr_float(ext::kActivationAlpha, -std::numeric_limits<float>::infinity());
    auto hi = node.attr_float(ext::kActivationBeta, std::numeric_limits<float>::infinity());
    if (lo.ok()) r.min = std::max(r.min, *lo);
    if (hi.ok()) r.max = std::min(r.max, *hi);
  }
  r.min = std::min(r.min, 0.f);
  r.max = std::max(r.max, 0.f);
  return r;
}

// Symmetric per row: w is [rows][per]; scale = max |w| / 127 (1 for an all-zero row),
// raised to min_scale[row] when given (see kBiasSteps).
void quantize_rows(size_t rows, size_t per, const float* w, const std::vector<float>& min_scale, int8_t* q, float* scale) {
  for (size_t j = 0; j < rows; ++j) {
    const float* row = w + j * per;
    float amax = 0.f;
    for (size_t t = 0; t < per; ++t) amax = std::max(amax, std::fabs(row[t]));
    float s = amax > 0.f && std::isfinite(amax) ? amax / 127.f : 1.f;
    if (!min_scale.empty() && min_scale[j] > s) s = min_scale[j];
    scale[j] = s;
    for (size_t t = 0; t < per; ++t) {
      const float v = std::nearbyint(row[t] / s);
      q[j * per + t] = static_cast<int8_t>(v < 127.f ? (v > -127.f ? v : -127.f) : 127.f);  // NaN -> -127
    }
  }
}

// The int32 bias holds b / (x_scale * w_scale) steps; fuse_qdq (and the int32 accumulators,
// which add up to 255 * 127 * K on top) need it well inside int32. A channel whose weights
// are tiny next to its bias (PP-OCRv4's recognizer has some) gets a coarser weight scale
// instead: its output is mostly the bias, so the weights lose little.
constexpr double kBiasSteps = 536870912.0;  // 2^29

class Rewriter {
 public:
  Rewriter(Model& m, Int8StaticStats& stats) : m_(m), stats_(stats) {
    for (const Value& v : m.values) names_.insert(v.name);
  }

  std::string fresh(const std::string& base) {
    std::string n = base;
    for (int k = 1; names_.count(n); ++k) n = base + "_" + std::to_string(k);
    names_.insert(n);
    return n;
  }
  int value(const std::string& base, DType dt, const std::optional<Shape>& shape) {
    Value v;
    v.name = fresh(base);
    v.dtype = dt;
    v.shape = shape;
    return m_.add_value(std::move(v));
  }
  int constant(const std::string& base, Tensor t) {
    const int v = add_constant(m_, fresh(base), std::move(t));
    return v;
  }
  void add_node(const std::string& op, std::vector<int> ins, int out, int64_t axis = -2) {
    Node n;
    n.name = fresh(m_.values[static_cast<size_t>(out)].name + "_" + op);
    n.op_type = op;
    n.inputs = std::move(ins);
    n.outputs = {out};
    if (axis != -2) {
      Attribute a;
      a.kind = Attribute::Kind::kInt;
      a.i = axis;
      n.attrs["axis"] = a;
    }
    nodes_.push_back(std::move(n));
  }

  // QuantizeLinear(v) -> v_q -> DequantizeLinear -> v_dq; returns v_dq.
  // `params` (scale, zero point constants) are reused when given (pass-through outputs
  // share their input's); otherwise created and returned through it.
  int quantize_activation(int v, ActivationQuant q, std::pair<int, int>& params) {
    const std::string base = m_.values[static_cast<size_t>(v)].name;
    const std::optional<Shape> shape = m_.values[static_cast<size_t>(v)].shape;
    if (params.first == kNoValue) {
      params.first = constant(base + "_scale", Tensor::from_f32({q.scale}, {}));
      Tensor zp = Tensor::make(DType::kI8, {}).value();
      zp.mutable_data<int8_t>()[0] = q.zero_point;
      params.second = constant(base + "_zero_point", std::move(zp));
    }
    const int scale = params.first, zero = params.second;
    const int vq = value(base + "_quantized", DType::kI8, shape);
    const int vdq = value(base + "_dequantized", DType::kF32, shape);
    add_node("QuantizeLinear", {v, scale, zero}, vq);
    add_node("DequantizeLinear", {vq, scale, zero}, vdq);
    ++stats_.tensors;
    return vdq;
  }

  // DequantizeLinear(q, scale, axis) as a new float value named after `base`.
  int dequantize_constant(const std::string& base, int q, int scale, int64_t axis) {
    const Value& qv = m_.values[static_cast<size_t>(q)];
    const int out = value(base + "_dequantized", DType::kF32, shape_from_dims(qv.data->dims()));
    add_node("DequantizeLinear", {q, scale}, out, axis);
    return out;
  }

  // Per-channel int8 weights of a target: (int8, scales). Cached by (weight, transB, alpha)
  // unless a bias needs a coarser scale for some channel (`min_scale`, one per channel).
  Result<std::pair<int, int>> weights(const Target& t, const std::vector<float>& min_scale) {
    const auto key = std::make_tuple(t.w, t.gemm.trans_b, t.gemm.alpha);
    const std::string base = m_.values[static_cast<size_t>(t.w)].name;
    const Tensor& w = *constant_of(m_, t.w);
    // Rows, one per output channel: W [M, C/group, kH, kW] as is, alpha * B [K, N] transposed.
    int64_t rows = 0, per = 0;
    std::vector<float> data;
    if (t.conv) {
      rows = w.dim(0), per = w.size() / rows;
      data.assign(w.data<float>(), w.data<float>() + w.size());
    } else {
      rows = t.gemm.n, per = t.gemm.k;
      const size_t k = static_cast<size_t>(per), n = static_cast<size_t>(rows);
      data.resize(k * n);
      const float* src = w.data<float>();
      for (size_t r = 0; r < k; ++r)
        for (size_t c = 0; c < n; ++c) data[c * k + r] = t.gemm.alpha * (t.gemm.trans_b ? src[c * k + r] : src[r * n + c]);
    }
    std::vector<int8_t> q(data.size());
    std::vector<float> scale(static_cast<size_t>(rows));
    quantize_rows(scale.size(), static_cast<size_t>(per), data.data(), {}, q.data(), scale.data());
    bool raised = false;
    for (size_t j = 0; j < min_scale.size(); ++j) raised |= min_scale[j] > scale[j];
    if (!raised)
      if (auto it = weights_.find(key); it != weights_.end()) return it->second;
    if (raised) quantize_rows(scale.size(), static_cast<size_t>(per), data.data(), min_scale, q.data(), scale.data());
    KILN_ASSIGN_OR_RETURN(Tensor qt, Tensor::make(DType::kI8, t.conv ? w.dims() : Dims{per, rows}));
    int8_t* qo = qt.mutable_data<int8_t>();
    if (t.conv) {
      std::copy(q.begin(), q.end(), qo);
    } else {  // back to [K, N]
      for (int64_t r = 0; r < per; ++r)
        for (int64_t c = 0; c < rows; ++c) qo[r * rows + c] = q[static_cast<size_t>(c * per + r)];
    }
    const int64_t elements = qt.size();
    const int qv = constant(base + "_int8", std::move(qt));
    const int sv = constant(base + "_scale", Tensor::from_f32(scale, {rows}));
    stats_.bytes_before += elements * 4;
    stats_.bytes_after += elements + rows * 4;
    if (raised) {
      ++stats_.coarser_weights;
      return std::make_pair(qv, sv);
    }
    return weights_[key] = {qv, sv};
  }

  // Rewrites one target's inputs: x_dq, DQ(W int8), DQ(B int32, x_scale * W_scale).
  Status rewrite(Target& t, int x_dq, ActivationQuant xq) {
    std::vector<float> bias, min_scale;
    if (t.bias != kNoValue) {
      if (t.conv) {
        bias = floats_of(*constant_of(m_, t.bias));
      } else {
        bias = *column_values(*constant_of(m_, t.bias), t.gemm.n);
        for (float& v : bias) v *= t.gemm.beta;
      }
      for (float b : bias) min_scale.push_back(static_cast<float>(std::fabs(b) / (xq.scale * kBiasSteps)));
    }
    KILN_ASSIGN_OR_RETURN(auto qw, weights(t, min_scale));
    const std::vector<float> w_scale = floats_of(*constant_of(m_, qw.second));
    const std::string node_base = t.node->name.empty() ? m_.values[static_cast<size_t>(t.y)].name : t.node->name;
    const int w_dq = dequantize_constant(m_.values[static_cast<size_t>(qw.first)].name, qw.first, qw.second,
                                         t.conv ? 0 : 1);
    int b_dq = kNoValue;
    if (t.bias != kNoValue) {
      const int64_t n = static_cast<int64_t>(bias.size());
      KILN_ASSIGN_OR_RETURN(Tensor bq, Tensor::make(DType::kI32, {n}));
      std::vector<float> b_scale(bias.size());
      for (size_t j = 0; j < bias.size(); ++j) {
        b_scale[j] = xq.scale * w_scale[j];
        // Within kBiasSteps by the weight scales' minimum; saturate in case of rounding.
        const double v = std::nearbyint(static_cast<double>(bias[j]) / b_scale[j]);
        bq.mutable_data<int32_t>()[j] = static_cast<int32_t>(std::isnan(v) ? 0.0 : std::clamp(v, -2147483648.0, 2147483647.0));
      }
      const int bqv = constant(node_base + "_bias_int32", std::move(bq));
      const int bsv = constant(node_base + "_bias_scale", Tensor::from_f32(b_scale, {n}));
      b_dq = dequantize_constant(node_base + "_bias", bqv, bsv, 0);
      stats_.bytes_before += n * 4;
      stats_.bytes_after += n * 8;
    }
    Node& node = *t.node;
    if (t.conv) {
      node.inputs = {x_dq, w_dq};
      if (b_dq != kNoValue) node.inputs.push_back(b_dq);
    } else {
      // Gemm becomes MatMul + kiln.bias (transB, alpha, beta are in the constants now).
      std::map<std::string, Attribute> attrs;
      for (const char* a : {ext::kActivation, ext::kActivationAlpha, ext::kActivationBeta})
        if (const Attribute* v = node.attr(a)) attrs[a] = *v;
      if (b_dq != kNoValue) {
        Attribute one;
        one.kind = Attribute::Kind::kInt;
        one.i = 1;
        attrs[ext::kMatMulBias] = one;
      }
      node.attrs = std::move(attrs);
      node.op_type = "MatMul";
      node.domain.clear();
      node.inputs = {x_dq, w_dq};
      if (b_dq != kNoValue) node.inputs.push_back(b_dq);
    }
    return Status::Ok();
  }

  std::vector<Node>& new_nodes() { return nodes_; }

 private:
  Model& m_;
  Int8StaticStats& stats_;
  std::set<std::string> names_;
  std::vector<Node> nodes_;
  std::map<std::tuple<int, bool, float>, std::pair<int, int>> weights_;
};

}  // namespace

Result<Int8StaticStats> quantize_int8_static(Model& model, const CalibrationRanges& ranges,
                                             const Int8StaticOptions& options) {
  Int8StaticStats stats;
  GraphView view(model);
  auto range_of = [&](int v) -> const TensorRange* {
    if (v < 0) return nullptr;
    auto it = ranges.find(model.values[static_cast<size_t>(v)].name);
    return it == ranges.end() ? nullptr : &it->second;
  };
  auto name_of = [&](int v) { return model.values[static_cast<size_t>(v)].name; };

  // 1. Which convolutions / MatMul / Gemm to quantize, and why the others stay float.
  std::vector<Target> targets;
  for (Node& node : model.graph.nodes) {
    Target t;
    t.node = &node;
    std::string why;
    if (node.domain == ext::kDomain && node.op_type == ext::kNhwcConv) {
      t.conv = true;
      why = check_conv(model, node);
      t.x = input_of(node, 0), t.w = input_of(node, 1), t.bias = input_of(node, 2);
    } else if (node.op_type == "MatMul" || node.op_type == "Gemm") {
      why = plan_gemm_node(model, node, t.gemm);
      t.x = t.gemm.x, t.w = t.gemm.b, t.bias = t.gemm.bias;
    } else {
      continue;
    }
    if (why.empty() && node.outputs.size() != 1) why = "unexpected outputs";
    if (why.empty()) {
      t.y = node.outputs[0];
      t.quantize_y = !view.is_graph_output(t.y);
      if (name_matches(node.name, options.exclude) || name_matches(name_of(t.w), options.exclude))
        why = "excluded";
      else if (t.x == kNoValue || constant_of(model, t.x))
        why = "input is a constant";
      else if (!may_be_f32(model, t.x))
        why = "input is not float32";
      else if (!range_of(t.x))
        why = "no calibration range for input '" + name_of(t.x) + "'";
      else if (t.quantize_y && !range_of(t.y))
        why = "no calibration range for output '" + name_of(t.y) + "'";
    }
    if (!why.empty()) {
      ++stats.skipped;
      stats.skip_reasons.push_back(node.describe() + ": " + why);
      continue;
    }
    targets.push_back(t);
  }

  // 2. Scales and zero points: outputs first (narrowed by their fused activation), then
  // inputs that are no quantized node's output.
  std::map<int, ActivationQuant> quant;  // by value
  std::set<int> int8_produced;           // values whose float form no reader needs any more
  std::set<const Node*> int8_readers;    // nodes reading the dequantized form of their inputs
  std::map<int, int> shares;             // pass-through output -> the value whose scale it shares
  for (const Target& t : targets) {
    int8_readers.insert(t.node);
    if (!t.quantize_y) continue;
    quant[t.y] = activation_quant(narrow_by_activation(*t.node, *range_of(t.y)));
    int8_produced.insert(t.y);
  }
  for (const Target& t : targets)
    if (!quant.count(t.x)) quant[t.x] = activation_quant(*range_of(t.x));
  // 3. Pass-through ops on a quantized tensor: same scale and zero point for their output,
  // in graph order so chains (MaxPool -> Reshape) carry them along.
  // Elementwise ops on quantized inputs get their own output quantization, in the same
  // pass so residual chains (Add -> Add) and pass-through ops after them carry along.
  for (Node& node : model.graph.nodes) {
    if (node.domain == ext::kDomain && node.op_type == ext::kAffine) {
      // An Affine between quantized tensors: its output on x's grid (affine_shift above)
      // instead of its calibrated range.
      const int x = input_of(node, 0), y = node.outputs.empty() ? kNoValue : node.outputs[0];
      if (!quant.count(x) || !quant.count(y) || int8_produced.count(y) || view.is_graph_output(y)) continue;
      auto shifted = affine_shift(model, view, node, quant.at(x));
      if (!shifted) continue;
      quant[y] = *shifted;
      int8_produced.insert(y);
      int8_readers.insert(&node);
      ++stats.pass_through;
      continue;
    }
    if (is_int8_elementwise(model, node)) {
      const int y = node.outputs[0];
      bool ok = y != kNoValue && !view.is_graph_output(y) && may_be_f32(model, y) && range_of(y) &&
                !name_matches(node.name, options.exclude);
      const size_t data_inputs = node.op_type == "ReduceMean" ? 1 : node.inputs.size();
      for (size_t i = 0; ok && i < data_inputs; ++i) ok = quant.count(node.inputs[i]) != 0;
      if (!ok) continue;
      quant[y] = activation_quant(narrow_by_activation(node, *range_of(y)));
      shares.erase(y);
      int8_produced.insert(y);
      int8_readers.insert(&node);
      ++stats.elementwise;
      continue;
    }
    if (!is_pass_through(node)) continue;
    const int x = input_of(node, 0), y = node.outputs[0];
    if (!quant.count(x) || y == kNoValue || view.is_graph_output(y) || !may_be_f32(model, y)) continue;
    quant[y] = quant.at(x);
    shares[y] = shares.count(x) ? shares.at(x) : x;
    int8_produced.insert(y);
    int8_readers.insert(&node);
    ++stats.pass_through;
  }

  // 4. One QuantizeLinear -> DequantizeLinear per quantized tensor; int8 readers (and every
  // reader of an int8-produced tensor) read the dequantized value.
  Rewriter rw(model, stats);
  std::map<int, int> dequantized;
  std::map<int, std::pair<int, int>> params;  // value -> its (scale, zero point) constants
  for (const auto& [v, q] : quant) {
    if (shares.count(v)) continue;
    params[v] = {kNoValue, kNoValue};
    dequantized[v] = rw.quantize_activation(v, q, params[v]);
  }
  for (const auto& [y, x] : shares) dequantized[y] = rw.quantize_activation(y, quant.at(y), params.at(x));
  for (Graph* g : view.graphs())
    for (Node& node : g->nodes)
      for (int& in : node.inputs) {
        auto it = dequantized.find(in);
        if (it == dequantized.end()) continue;
        // Only a pass-through's data input: Reshape's shape and the like stay as they are.
        const bool data_input = &in == &node.inputs[0] || !is_pass_through(node);
        if (data_input && (int8_produced.count(in) || int8_readers.count(&node))) in = it->second;
      }

  // 5. Weights and biases.
  for (Target& t : targets) {
    KILN_RETURN_IF_ERROR(rw.rewrite(t, dequantized.at(t.x), quant.at(t.x)));
    ++stats.quantized;
    stats.quantized_nodes.push_back(t.node->name);
  }
  for (Node& n : rw.new_nodes()) model.graph.nodes.push_back(std::move(n));
  KILN_RETURN_IF_ERROR(validate_and_sort(model));
  KILN_RETURN_IF_ERROR(eliminate_dead(model));
  return stats;
}

}  // namespace kiln
