// unfold_quant_ops (graph/passes/unfold_quant_ops.cc): onnxruntime's pre-quantized ONNX
// forms rewritten to QDQ. Each hand-built graph is checked for the structure the pass
// makes (and, through the whole optimizer, the kiln ops it leads to) and for outputs equal
// to the original graph's (run by kiln's ONNX quantized ops) within one int8 step.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;

template <typename T>
Tensor random_ints(DType dt, const Dims& d, uint32_t seed, int lo, int hi) {
  auto t = Tensor::make(dt, d);
  EXPECT_TRUE(t.ok());
  const std::vector<float> v = opt_test::random_values(static_cast<size_t>(num_elements(d)), seed, 0.f, 1.f);
  for (size_t i = 0; i < v.size(); ++i)
    t->mutable_data<T>()[i] = static_cast<T>(lo + std::min(hi - lo, static_cast<int>(v[i] * (hi - lo + 1))));
  return std::move(t).value();
}
Tensor int8s(const Dims& d, uint32_t seed) { return random_ints<int8_t>(DType::kI8, d, seed, -127, 127); }
template <typename T>
Tensor scalar_of_type(DType dt, T v) {
  auto t = Tensor::make(dt, {});
  EXPECT_TRUE(t.ok());
  t->mutable_data<T>()[0] = v;
  return std::move(t).value();
}
std::vector<float> scales(size_t n, uint32_t seed) { return opt_test::random_values(n, seed, 0.002f, 0.01f); }

// DynamicQuantizeLinear(x) -> (x_q, x_scale, x_zero_point).
struct Dql {
  int q, scale, zp;
};
Dql dynamic_quantize(Builder& b, int x) {
  Dql r;
  std::vector<int> outs;
  for (const char* s : {"x_q", "x_scale", "x_zp"}) {
    Value v;
    v.name = s;
    outs.push_back(b.m.add_value(std::move(v)));
  }
  Node n;
  n.name = "dql";
  n.op_type = "DynamicQuantizeLinear";
  n.inputs = {x};
  n.outputs = outs;
  b.m.graph.nodes.push_back(std::move(n));
  r.q = outs[0], r.scale = outs[1], r.zp = outs[2];
  return r;
}

// Max |got - want| over all outputs at most tol (absolute).
void expect_within(const TensorMap& got, const TensorMap& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << name;
    ASSERT_EQ(dims_to_string(it->second.dims()), dims_to_string(w.dims())) << name;
    double worst = 0, range = 0;
    for (int64_t i = 0; i < w.size(); ++i) {
      worst = std::max(worst, std::fabs(it->second.get_f64(i) - w.get_f64(i)));
      range = std::max(range, std::fabs(w.get_f64(i)));
    }
    EXPECT_LE(worst, tol) << name;
    EXPECT_GT(range, 10 * tol) << name << ": the output is nearly zero, the check proves little";
  }
}

int rewrites_of(const std::vector<PassReport>& reports, const std::string& pass) {
  int n = 0;
  for (const PassReport& r : reports)
    if (r.pass == pass) n += r.rewrites;
  return n;
}

const Node* producer_of(const Model& m, int v) {
  for (const Node& n : m.graph.nodes)
    for (int o : n.outputs)
      if (o == v) return &n;
  return nullptr;
}
std::vector<const Node*> readers_of(const Model& m, int v) {
  std::vector<const Node*> r;
  for (const Node& n : m.graph.nodes)
    for (int i : n.inputs)
      if (i == v) {
        r.push_back(&n);
        break;
      }
  return r;
}

// The activations are quantized to uint8 over their range: one step of x times the
// weights' L1 norm per output bounds the error; these graphs stay well inside 2% of range.
void expect_close_to_range(const TensorMap& got, const TensorMap& want, double frac = 0.02) {
  for (const auto& [name, w] : want) {
    double range = 0;
    for (int64_t i = 0; i < w.size(); ++i) range = std::max(range, std::fabs(w.get_f64(i)));
    expect_within({{name, got.at(name)}}, {{name, w}}, frac * range);
  }
}

// quantize_dynamic's MatMul: Cast -> Mul(Mul(x_scale, w_scale)), then the float bias Add.
TEST(UnfoldQuantOps, DynamicMatMulIntegerBecomesQdqMatMulThenDynamicQuantMatMul) {
  Builder b(13);
  const int x = b.input("x", {5, 32});
  const Dql d = dynamic_quantize(b, x);
  const Tensor w = int8s({32, 24}, 1);
  const int wq = b.constant("w_q", w);
  const int wz = b.constant("w_zp", scalar_of_type<int8_t>(DType::kI8, 0));
  const int mi = b.node("MatMulInteger", {d.q, wq, d.zp, wz}, "mi");
  const int cast = b.node("Cast", {mi}, "cast", {{"to", opt_test::attr_i(1)}});
  const int s = b.node("Mul", {d.scale, b.scalar("w_scale", 0.004f)}, "scales");
  const int y = b.node("Mul", {cast, s}, "y0");
  const Model before = b.done({b.node("Add", {y, b.random("bias", {24}, 2)}, "y")});

  Model after = before;
  auto rep = run_pass(after, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1);
  EXPECT_EQ(rep->patterns.count("MatMulInteger -> QDQ int8 weights"), 1u);
  EXPECT_EQ(count_op(after, "MatMulInteger"), 0);
  EXPECT_EQ(count_op(after, "DynamicQuantizeLinear"), 0);
  EXPECT_EQ(count_op(after, "Cast"), 0);
  EXPECT_EQ(count_op(after, "Mul"), 0);
  EXPECT_EQ(count_op(after, "Add"), 0);  // the bias became the MatMul's kiln.bias
  const Node* mm = opt_test::only_node(after, "MatMul");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->inputs[0], after.find_value("x"));
  const Node* dq = producer_of(after, mm->inputs[1]);
  ASSERT_TRUE(dq && dq->op_type == "DequantizeLinear");
  const Tensor* q = constant_of(after, dq->inputs[0]);
  ASSERT_TRUE(q && q->dtype() == DType::kI8);
  for (int64_t i = 0; i < w.size(); ++i) ASSERT_EQ(q->data<int8_t>()[i], w.data<int8_t>()[i]);
  EXPECT_EQ(floats_of(*constant_of(after, dq->inputs[1])), std::vector<float>(24, 0.004f));
  const TensorMap in = opt_test::random_inputs(before, 3);
  const TensorMap want = opt_test::run_model(before, in);
  expect_close_to_range(opt_test::run_model(after, in), want);

  Model full = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(full, {}, &reports).ok());
  EXPECT_EQ(rewrites_of(reports, "unfold_quant_ops"), 1);
  EXPECT_EQ(rewrites_of(reports, "import_qdq_weights"), 1);
  EXPECT_EQ(count_op(full, ext::kDynamicQuantMatMul), 1);
  EXPECT_EQ(count_op(full, "MatMulInteger"), 0);
  EXPECT_EQ(count_op(full, "DequantizeLinear"), 0);
  expect_close_to_range(opt_test::run_model(full, in), want);
}

// A transformer's projections (quantize_dynamic on BERT-like models): one
// DynamicQuantizeLinear of a [B, T, K] activation read by several MatMulIntegers, each
// with its own scale product and bias Add.
TEST(UnfoldQuantOps, DynamicQuantizeLinearSharedByThreeProjections) {
  Builder b(13);
  const int x = b.input("x", {2, 5, 32});
  const Dql d = dynamic_quantize(b, x);
  std::vector<int> outs;
  for (int i = 0; i < 3; ++i) {
    const std::string t = std::to_string(i);
    const int mi = b.node("MatMulInteger", {d.q, b.constant("w" + t, int8s({32, 16}, 70 + i)), d.zp,
                                            b.constant("wz" + t, scalar_of_type<int8_t>(DType::kI8, 0))},
                          "mi" + t);
    const int cast = b.node("Cast", {mi}, "cast" + t, {{"to", opt_test::attr_i(1)}});
    const int s = b.node("Mul", {d.scale, b.scalar("ws" + t, 0.003f + 0.001f * i)}, "scales" + t);
    const int y = b.node("Mul", {cast, s}, "y0" + t);
    outs.push_back(b.node("Add", {b.random("bias" + t, {16}, 80 + i), y}, "y" + t));
  }
  const Model before = b.done(outs);
  const TensorMap in = opt_test::random_inputs(before, 90);
  const TensorMap want = opt_test::run_model(before, in);
  Model full = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(full, {}, &reports).ok());
  EXPECT_EQ(rewrites_of(reports, "unfold_quant_ops"), 3);
  EXPECT_EQ(count_op(full, ext::kDynamicQuantMatMul), 3);
  for (const char* gone : {"DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Add"}) EXPECT_EQ(count_op(full, gone), 0) << gone;
  expect_close_to_range(opt_test::run_model(full, in), want);
}

// Another order (Mul by the per-column weight scale first, then by x_scale) and uint8
// weights with zero point 128: shifted to int8 exactly.
TEST(UnfoldQuantOps, DynamicChainOfMulsAndUint8Weights128AreExact) {
  Builder b(13);
  const int x = b.input("x", {3, 4, 40});
  const Dql d = dynamic_quantize(b, x);
  const Tensor w = random_ints<uint8_t>(DType::kU8, {40, 17}, 5, 1, 255);
  const std::vector<float> ws = scales(17, 6);
  const int mi = b.node("MatMulInteger", {d.q, b.constant("w_q", w), d.zp,
                                          b.constant("w_zp", scalar_of_type<uint8_t>(DType::kU8, 128))},
                        "mi");
  const int cast = b.node("Cast", {mi}, "cast", {{"to", opt_test::attr_i(1)}});
  const int y0 = b.node("Mul", {b.c("w_scale", ws, {17}), cast}, "y0");
  const Model before = b.done({b.node("Mul", {y0, d.scale}, "y")});
  Model after = before;
  auto rep = run_pass(after, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->patterns.count("MatMulInteger -> QDQ int8 weights"), 1u);
  const Node* mm = opt_test::only_node(after, "MatMul");
  ASSERT_NE(mm, nullptr);
  const Node* dq = producer_of(after, mm->inputs[1]);
  ASSERT_TRUE(dq && dq->op_type == "DequantizeLinear");
  const Tensor* q = constant_of(after, dq->inputs[0]);
  ASSERT_TRUE(q && q->dtype() == DType::kI8);
  for (int64_t i = 0; i < w.size(); ++i) ASSERT_EQ(q->data<int8_t>()[i], int{w.data<uint8_t>()[i]} - 128) << i;
  EXPECT_EQ(floats_of(*constant_of(after, dq->inputs[1])), ws);
  const TensorMap in = opt_test::random_inputs(before, 7);
  const TensorMap want = opt_test::run_model(before, in);
  expect_close_to_range(opt_test::run_model(after, in), want);
  Model full = before;
  ASSERT_TRUE(optimize(full).ok());
  EXPECT_EQ(count_op(full, ext::kDynamicQuantMatMul), 1);
  expect_close_to_range(opt_test::run_model(full, in), want);
}

// quantize_dynamic's ConvInteger with its bias (Reshape to [1, M, 1, 1], folded, then Add):
// int8 weights -> kiln.DynamicQuantConv through the optimizer.
TEST(UnfoldQuantOps, DynamicConvIntegerWithBiasBecomesDynamicQuantConv) {
  Builder b(13);
  const int x = b.input("x", {1, 8, 9, 7});
  const Dql d = dynamic_quantize(b, x);
  const Tensor w = int8s({12, 8, 3, 3}, 9);
  const int ci = b.node("ConvInteger", {d.q, b.constant("w_q", w), d.zp}, "ci",
                        {{"kernel_shape", opt_test::attr_ints({3, 3})}, {"pads", opt_test::attr_ints({1, 1, 1, 1})}});
  const int cast = b.node("Cast", {ci}, "cast", {{"to", opt_test::attr_i(1)}});
  const int s = b.node("Mul", {d.scale, b.scalar("w_scale", 0.003f)}, "scales");
  const int y0 = b.node("Mul", {cast, s}, "y0");
  const int bias = b.node("Reshape", {b.random("bias", {12}, 10), b.constant("shape", Tensor::from_i64({1, -1, 1, 1}, {4}))},
                          "bias_r");
  const Model before = b.done({b.node("Relu", {b.node("Add", {y0, bias}, "y1")}, "y")});
  const TensorMap in = opt_test::random_inputs(before, 11);
  const TensorMap want = opt_test::run_model(before, in);
  Model full = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(full, {}, &reports).ok());
  EXPECT_EQ(rewrites_of(reports, "unfold_quant_ops"), 1);
  EXPECT_EQ(count_op(full, "ConvInteger"), 0);
  EXPECT_EQ(count_op(full, "Add"), 0);
  const Node* c = opt_test::only_node(full, ext::kDynamicQuantConv);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->inputs.size(), 4u);  // x, int8 W, scales, bias
  const Tensor* q = constant_of(full, c->inputs[1]);
  ASSERT_TRUE(q && q->dtype() == DType::kI8);
  for (int64_t i = 0; i < w.size(); ++i) ASSERT_EQ(q->data<int8_t>()[i], w.data<int8_t>()[i]);
  expect_close_to_range(opt_test::run_model(full, in), want);
}

// Asymmetric uint8 weights (zero point 100: W - 100 leaves int8) become float weights.
TEST(UnfoldQuantOps, AsymmetricUint8ConvWeightsBecomeFloat) {
  Builder b(13);
  const int x = b.input("x", {1, 4, 6, 6});
  const Dql d = dynamic_quantize(b, x);
  const Tensor w = random_ints<uint8_t>(DType::kU8, {6, 4, 3, 3}, 12, 0, 255);
  const int ci = b.node("ConvInteger", {d.q, b.constant("w_q", w), d.zp,
                                        b.constant("w_zp", scalar_of_type<uint8_t>(DType::kU8, 100))},
                        "ci", {{"strides", opt_test::attr_ints({2, 2})}});
  const int cast = b.node("Cast", {ci}, "cast", {{"to", opt_test::attr_i(1)}});
  const Model before = b.done({b.node("Mul", {cast, b.node("Mul", {b.scalar("w_scale", 0.002f), d.scale}, "s")}, "y")});
  Model after = before;
  auto rep = run_pass(after, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->patterns.count("ConvInteger -> float weights"), 1u);
  const Node* c = opt_test::only_node(after, "Conv");
  ASSERT_NE(c, nullptr);
  const Tensor* wf = constant_of(after, c->inputs[1]);
  ASSERT_TRUE(wf && wf->dtype() == DType::kF32);
  for (int64_t i = 0; i < w.size(); ++i)
    ASSERT_FLOAT_EQ(wf->data<float>()[i], static_cast<float>((int{w.data<uint8_t>()[i]} - 100) * 0.002));
  const TensorMap in = opt_test::random_inputs(before, 13);
  expect_close_to_range(opt_test::run_model(after, in), opt_test::run_model(before, in));
}

TEST(UnfoldQuantOps, MatMulIntegerNotFedByDynamicQuantizeLinearStays) {
  Builder b(13);
  const int xq = b.input("xq", shape_from_dims({4, 32}), DType::kU8);
  const int mi = b.node("MatMulInteger", {xq, b.constant("w_q", int8s({32, 8}, 14))}, "mi");
  const int cast = b.node("Cast", {mi}, "cast", {{"to", opt_test::attr_i(1)}});
  Model m = b.done({b.node("Mul", {cast, b.scalar("s", 0.01f)}, "y")});
  auto rep = run_pass(m, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 0);
  EXPECT_EQ(count_op(m, "MatMulInteger"), 1);
}

// QOperator: x -> QuantizeLinear -> QLinearConv -> QLinearConv -> DequantizeLinear.
struct QConvGraph {
  Model model;
  int convs = 2;
};
QConvGraph qoperator_convs(DType act, bool pool) {
  Builder b(13);
  const int x = b.input("x", {1, 8, 10, 10});
  const bool u8 = act == DType::kU8;
  auto zp = [&](const std::string& name, int v) {
    return u8 ? b.constant(name, scalar_of_type<uint8_t>(DType::kU8, static_cast<uint8_t>(v + 128)))
              : b.constant(name, scalar_of_type<int8_t>(DType::kI8, static_cast<int8_t>(v)));
  };
  const int xs = b.scalar("x_s", 0.02f), xz = zp("x_z", -3);
  const int xq = b.node("QuantizeLinear", {x, xs, xz}, "xq");
  int cur = xq, cur_s = xs, cur_z = xz;
  for (int i = 0; i < 2; ++i) {
    const std::string t = std::to_string(i);
    const int64_t c = 8, m = i == 0 ? 16 : 8;
    const std::vector<float> ws = scales(static_cast<size_t>(m), 20 + i);
    const int ys = b.scalar("y_s" + t, i == 0 ? 0.05f : 0.08f), yz = zp("y_z" + t, i == 0 ? 5 : -7);
    const std::vector<float> bf = opt_test::random_values(static_cast<size_t>(m), 30 + i, -3000.f, 3000.f);
    std::vector<int64_t> bi(bf.begin(), bf.end());
    auto bias = Tensor::make(DType::kI32, {m});
    for (int64_t k = 0; k < m; ++k) bias->mutable_data<int32_t>()[k] = static_cast<int32_t>(bi[static_cast<size_t>(k)]);
    auto wz = Tensor::make(DType::kI8, {m});
    for (int64_t k = 0; k < m; ++k) wz->mutable_data<int8_t>()[k] = 0;
    cur = b.node("QLinearConv",
                 {cur, cur_s, cur_z, b.constant("w" + t, int8s(i == 0 ? Dims{m, c, 3, 3} : Dims{m, 16, 1, 1}, 40 + i)),
                  b.c("w_s" + t, ws, {m}), b.constant("w_z" + t, std::move(wz).value()), ys, yz,
                  b.constant("b" + t, std::move(bias).value())},
                 "yq" + t,
                 i == 0 ? std::map<std::string, Attribute>{{"kernel_shape", opt_test::attr_ints({3, 3})},
                                                           {"pads", opt_test::attr_ints({1, 1, 1, 1})}}
                        : std::map<std::string, Attribute>{});
    cur_s = ys, cur_z = yz;
    // QOperator models run MaxPool on the int8 tensor itself.
    if (i == 0 && pool)
      cur = b.node("MaxPool", {cur}, "pooled",
                   {{"kernel_shape", opt_test::attr_ints({2, 2})}, {"strides", opt_test::attr_ints({2, 2})}});
  }
  QConvGraph r;
  r.model = b.done({b.node("DequantizeLinear", {cur, cur_s, cur_z}, "y")});
  return r;
}

TEST(UnfoldQuantOps, QLinearConvsBecomeQdqAroundNhwcConvWithTransposesOnTheInt8Side) {
  for (DType act : {DType::kI8, DType::kU8})
  for (bool pool : {false, true}) {
    SCOPED_TRACE(std::string(dtype_name(act)) + (pool ? " with MaxPool" : ""));
    const QConvGraph g = qoperator_convs(act, pool);
    const int p = pool ? 1 : 0;
    Model after = g.model;
    auto rep = run_pass(after, "unfold_quant_ops");
    ASSERT_TRUE(rep.ok()) << rep.status().to_string();
    EXPECT_EQ(rep->patterns["QLinearConv -> QDQ with int8 weights"], 2);
    // uint8 activations shifted to int8 (zero points - 128): x, between the convs, y.
    EXPECT_EQ(rep->patterns["uint8 activations -> int8"], act == DType::kU8 ? 3 + p : 0);
    EXPECT_EQ(rep->patterns["MaxPool on quantized tensor -> QDQ"], p);
    for (const Node& n : after.graph.nodes)
      if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear")
        if (const Tensor* z = constant_of(after, input_of(n, 2)); z && z->size() == 1)
          EXPECT_EQ(z->dtype(), DType::kI8) << n.name;
    EXPECT_EQ(count_op(after, "QLinearConv"), 0);
    EXPECT_EQ(count_op(after, "Conv"), 2);
    EXPECT_EQ(count_op(after, "QuantizeLinear"), 3 + p);
    EXPECT_EQ(count_op(after, "DequantizeLinear"), 1 + 2 * 3 + p);  // output; per conv x, W, bias
    const TensorMap in = opt_test::random_inputs(g.model, 50);
    const TensorMap want = opt_test::run_model(g.model, in);
    // Both requantize the same int32 sums; float rounding may move a value of the first by
    // one step, which the second conv can carry into about one step of its own.
    expect_within(opt_test::run_model(after, in), want, 2 * 0.08 * 1.001);

    // The graph fuse_qdq sees (run without it): DequantizeLinear -> kiln.NhwcConv ->
    // QuantizeLinear; import_qdq_weights leaves these static QDQ convs alone.
    Model full = g.model;
    PipelineOptions no_fuse;
    no_fuse.skip = {"fuse_qdq"};
    ASSERT_TRUE(optimize(full, no_fuse).ok());
    EXPECT_EQ(count_op(full, ext::kDynamicQuantConv), 0);
    EXPECT_EQ(count_op(full, ext::kNhwcConv), 2);
    // fuse_qdq's pattern: DequantizeLinear -> kiln.NhwcConv -> QuantizeLinear (its only reader).
    for (const Node& n : full.graph.nodes) {
      if (n.op_type != ext::kNhwcConv) continue;
      const Node* p = producer_of(full, n.inputs[0]);
      ASSERT_TRUE(p && p->op_type == "DequantizeLinear") << (p ? p->op_type : "input");
      const std::vector<const Node*> r = readers_of(full, n.outputs[0]);
      ASSERT_EQ(r.size(), 1u);
      EXPECT_EQ(r[0]->op_type, "QuantizeLinear");
    }
    // The layout changes stay at the edges, on the quantized tensors (int8 by now).
    EXPECT_EQ(count_op(full, "Transpose"), 2);
    for (const Node& n : full.graph.nodes)
      if (n.op_type == "Transpose") EXPECT_EQ(full.values[static_cast<size_t>(n.inputs[0])].dtype, DType::kI8);
    expect_within(opt_test::run_model(full, in), want, 2 * 0.08 * 1.001);

    // The whole pipeline: both fused into kiln.QLinearNhwcConv, int8 between them.
    Model fused = g.model;
    ASSERT_TRUE(optimize(fused).ok());
    EXPECT_EQ(count_op(fused, ext::kQLinearNhwcConv), 2);
    EXPECT_EQ(count_op(fused, ext::kNhwcConv), 0);
    EXPECT_EQ(count_op(fused, ext::kNhwcMaxPool), p);
    EXPECT_EQ(count_op(fused, "MaxPool"), 0);
    for (const Node& n : fused.graph.nodes)
      if (n.op_type == ext::kNhwcMaxPool) EXPECT_EQ(fused.values[static_cast<size_t>(n.inputs[0])].dtype, DType::kI8);
    EXPECT_EQ(count_op(fused, "QuantizeLinear"), 1);
    EXPECT_EQ(count_op(fused, "DequantizeLinear"), 1);
    EXPECT_LE(count_op(fused, "Transpose"), 2);
    expect_within(opt_test::run_model(fused, in), want, 2 * 0.08 * 1.001);
  }
}

TEST(UnfoldQuantOps, QLinearMatMulBecomesQdqMatMul) {
  Builder b(13);
  const int a = b.input("a", {2, 5, 16});
  const int as = b.scalar("a_s", 0.01f), az = b.constant("a_z", scalar_of_type<int8_t>(DType::kI8, 4));
  const int aq = b.node("QuantizeLinear", {a, as, az}, "aq");
  const Tensor w = int8s({16, 7}, 60);
  const int ys = b.scalar("y_s", 0.02f), yz = b.constant("y_z", scalar_of_type<int8_t>(DType::kI8, -5));
  const int yq = b.node("QLinearMatMul", {aq, as, az, b.constant("b", w), b.c("b_s", scales(7, 61), {7}),
                                          b.constant("b_z", scalar_of_type<int8_t>(DType::kI8, 0)), ys, yz},
                        "yq");
  const Model before = b.done({b.node("DequantizeLinear", {yq, ys, yz}, "y")});
  Model after = before;
  auto rep = run_pass(after, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1);
  EXPECT_EQ(count_op(after, "QLinearMatMul"), 0);
  const Node* mm = opt_test::only_node(after, "MatMul");
  ASSERT_NE(mm, nullptr);
  const Node* dx = producer_of(after, mm->inputs[0]);
  ASSERT_TRUE(dx && dx->op_type == "DequantizeLinear");
  const Node* dw = producer_of(after, mm->inputs[1]);
  ASSERT_TRUE(dw && dw->op_type == "DequantizeLinear");
  EXPECT_EQ(dw->attr_int("axis", 1).value(), 1);
  const std::vector<const Node*> r = readers_of(after, mm->outputs[0]);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->op_type, "QuantizeLinear");
  const TensorMap in = opt_test::random_inputs(before, 62);
  const TensorMap want = opt_test::run_model(before, in);
  expect_within(opt_test::run_model(after, in), want, 0.02 * 1.001);
  Model full = before;
  ASSERT_TRUE(optimize(full).ok());
  const Node* fused = opt_test::only_node(full, ext::kQLinearMatMul);  // fuse_qdq's, on int8
  ASSERT_NE(fused, nullptr);
  EXPECT_EQ(fused->domain, ext::kDomain);
  EXPECT_EQ(count_op(full, "MatMul"), 0);
  expect_within(opt_test::run_model(full, in), want, 0.02 * 1.001);
}

// A uint8 tensor the model itself outputs (or any non-DequantizeLinear reads) keeps its type.
TEST(UnfoldQuantOps, Uint8ActivationThatIsAGraphOutputStays) {
  Builder b(13);
  const int x = b.input("x", {2, 6});
  const int s = b.scalar("s", 0.05f), z = b.constant("z", scalar_of_type<uint8_t>(DType::kU8, 120));
  const int q = b.node("QuantizeLinear", {x, s, z}, "q");
  Model m = b.done({q, b.node("DequantizeLinear", {q, s, z}, "y")});
  auto rep = run_pass(m, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 0);
  EXPECT_EQ(m.values[static_cast<size_t>(m.graph.outputs[0])].dtype, DType::kU8);
}

// onnxruntime's com.microsoft QLinear ops -> DequantizeLinear -> float op -> QuantizeLinear,
// checked against the same computation written with ONNX ops (input order and attributes
// carried over: Concat's axis, LeakyRelu's alpha).
TEST(UnfoldQuantOps, MicrosoftQLinearOpsBecomeQdq) {
  auto build = [](bool ms) {
    Builder b(13);
    const int x = b.input("x", {1, 4, 3, 3});
    const int xs = b.scalar("xs", 0.02f), xz = b.constant("xz", scalar_of_type<int8_t>(DType::kI8, 3));
    const int cs = b.scalar("cs", 0.03f), cz = b.constant("cz", scalar_of_type<int8_t>(DType::kI8, -4));
    const int ks = b.scalar("ks", 0.025f), kz = b.constant("kz", scalar_of_type<int8_t>(DType::kI8, 1));
    const int ls = b.scalar("ls", 0.01f), lz = b.constant("lz", scalar_of_type<int8_t>(DType::kI8, -2));
    const int xq = b.node("QuantizeLinear", {x, xs, xz}, "xq");
    const int sq = b.node("QuantizeLinear", {b.node("Relu", {x}, "r"), xs, xz}, "sq");
    auto dq = [&](int v, int s, int z, const std::string& n) { return b.node("DequantizeLinear", {v, s, z}, n); };
    auto ms_node = [&](const std::string& op, std::vector<int> in, const std::string& out,
                       std::map<std::string, Attribute> attrs = {}) {
      const int v = b.node(op, std::move(in), out, std::move(attrs));
      b.m.graph.nodes.back().domain = "com.microsoft";
      return v;
    };
    int c, k, l;
    if (ms) {
      c = ms_node("QLinearAdd", {xq, xs, xz, sq, xs, xz, cs, cz}, "c");
      k = ms_node("QLinearConcat", {ks, kz, c, cs, cz, xq, xs, xz}, "k", {{"axis", opt_test::attr_i(1)}});
      l = ms_node("QLinearLeakyRelu", {k, ks, kz, ls, lz}, "l", {{"alpha", opt_test::attr_f(0.2f)}});
    } else {
      c = b.node("QuantizeLinear", {b.node("Add", {dq(xq, xs, xz, "a0"), dq(sq, xs, xz, "a1")}, "cf"), cs, cz}, "c");
      k = b.node("QuantizeLinear",
                 {b.node("Concat", {dq(c, cs, cz, "k0"), dq(xq, xs, xz, "k1")}, "kf", {{"axis", opt_test::attr_i(1)}}), ks, kz},
                 "k");
      l = b.node("QuantizeLinear",
                 {b.node("LeakyRelu", {dq(k, ks, kz, "l0")}, "lf", {{"alpha", opt_test::attr_f(0.2f)}}), ls, lz}, "l");
    }
    return b.done({b.node("DequantizeLinear", {l, ls, lz}, "y")});
  };
  Model after = build(true);
  auto rep = run_pass(after, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->patterns["QLinearAdd -> QDQ"], 1);
  EXPECT_EQ(rep->patterns["QLinearConcat -> QDQ"], 1);
  EXPECT_EQ(rep->patterns["QLinearLeakyRelu -> QDQ"], 1);
  for (const Node& n : after.graph.nodes) EXPECT_NE(n.domain, "com.microsoft") << n.op_type;
  const Model want = build(false);
  const TensorMap in = opt_test::random_inputs(want, 95);
  opt_test::expect_same(opt_test::run_model(after, in), opt_test::run_model(want, in));
}

TEST(UnfoldQuantOps, QLinearConvWithRuntimeWeightsStays) {
  Builder b(13);
  const int x = b.input("x", shape_from_dims({1, 2, 5, 5}), DType::kI8);
  const int w = b.input("w", shape_from_dims({3, 2, 1, 1}), DType::kI8);
  const int s = b.scalar("s", 0.1f), z = b.constant("z", scalar_of_type<int8_t>(DType::kI8, 0));
  Model m = b.done({b.node("QLinearConv", {x, s, z, w, s, z, s, z}, "y")});
  auto rep = run_pass(m, "unfold_quant_ops");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 0);
  EXPECT_EQ(count_op(m, "QLinearConv"), 1);
}

}  // namespace
}  // namespace kiln
