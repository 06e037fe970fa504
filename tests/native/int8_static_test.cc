// Static int8 (src/compress/int8_static.h): activation scales and zero points, and the QDQ
// rewrite of a small optimized CNN + classifier head: where QuantizeLinear /
// DequantizeLinear go, per-channel int8 weights, int32 biases at x_scale * w_scale,
// pass-through ops sharing their input's scale, excluded and uncalibrated nodes left
// float, outputs close to float, and the .kiln round trip.
#include <gtest/gtest.h>

#include <cmath>

#include "compress/int8_static.h"
#include "format/model_io.h"
#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph_optimizer_util.h"
#include "runtime/session.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;

TEST(Int8StaticActivationQuant, ScaleAndZeroPoint) {
  ActivationQuant q = activation_quant({-1.f, 3.f});
  EXPECT_FLOAT_EQ(q.scale, 4.f / 255.f);
  EXPECT_EQ(q.zero_point, -64);  // round(-128 + 63.75)
  q = activation_quant({0.5f, 2.f});  // widened to contain 0
  EXPECT_FLOAT_EQ(q.scale, 2.f / 255.f);
  EXPECT_EQ(q.zero_point, -128);
  q = activation_quant({-2.f, -1.f});
  EXPECT_FLOAT_EQ(q.scale, 2.f / 255.f);
  EXPECT_EQ(q.zero_point, 127);
  q = activation_quant({0.f, 0.f});  // all zero: any scale, zero exactly representable
  EXPECT_GT(q.scale, 0.f);
  EXPECT_EQ(q.zero_point, -128);
  // 0 maps exactly onto the zero point, and the range ends onto -128 / 127.
  q = activation_quant({-0.7f, 5.3f});
  EXPECT_NEAR(-0.7f / q.scale + q.zero_point, -128.f, 0.5f);
  EXPECT_NEAR(5.3f / q.scale + q.zero_point, 127.f, 0.5f);
}

std::map<std::string, Attribute> conv_attrs(int64_t k, int64_t stride, int64_t pad, int64_t group,
                                            const char* act = nullptr) {
  std::map<std::string, Attribute> a = {{"kernel_shape", opt_test::attr_ints({k, k})},
                                        {"strides", opt_test::attr_ints({stride, stride})},
                                        {"pads", opt_test::attr_ints({pad, pad, pad, pad})},
                                        {"group", opt_test::attr_i(group)}};
  if (act) a[ext::kActivation] = nntest::attr_s(act);
  return a;
}

// stem 3x3/2 + Relu -> depthwise 3x3 + Relu -> 1x1 + Clip(0, 6) -> MaxPool 2x2 -> grouped
// 3x3 + HardSwish -> Flatten (after the layout's Transpose) -> Gemm (transB, bias) ->
// Sigmoid (float) -> MatMul (graph output). Optimized, so channels-last.
Model small_net() {
  Builder b;
  const int x = b.input("x", {2, 3, 17, 15});
  int h = b.node("Conv", {x, b.random("stem_w", {8, 3, 3, 3}, 1, -0.5f, 0.5f), b.random("stem_b", {8}, 2)}, "stem",
                 conv_attrs(3, 2, 1, 1, "Relu"));
  h = b.node("Conv", {h, b.random("dw_w", {8, 1, 3, 3}, 3, -0.5f, 0.5f), b.random("dw_b", {8}, 4)}, "dw",
             conv_attrs(3, 1, 1, 8, "Relu"));
  auto clip = conv_attrs(1, 1, 0, 1, "Clip");
  clip[ext::kActivationAlpha] = opt_test::attr_f(0.f);
  clip[ext::kActivationBeta] = opt_test::attr_f(6.f);
  h = b.node("Conv", {h, b.random("pw_w", {16, 8, 1, 1}, 5, -0.5f, 0.5f), b.random("pw_b", {16}, 6)}, "pw", clip);
  h = b.node("MaxPool", {h}, "pool",
             {{"kernel_shape", opt_test::attr_ints({2, 2})}, {"strides", opt_test::attr_ints({2, 2})}});
  h = b.node("Conv", {h, b.random("grp_w", {12, 8, 3, 3}, 7, -0.3f, 0.3f)}, "grp", conv_attrs(3, 1, 1, 2, "HardSwish"));
  h = b.node("Flatten", {h}, "flat", {{"axis", opt_test::attr_i(1)}});
  std::map<std::string, Attribute> gemm = {{"transB", opt_test::attr_i(1)}, {"alpha", opt_test::attr_f(0.5f)}};
  h = b.node("Gemm", {h, b.random("fc_w", {10, 12 * 4 * 4}, 8, -0.3f, 0.3f), b.random("fc_b", {10}, 9)}, "fc", gemm);
  h = b.node("Sigmoid", {h}, "sig");
  h = b.node("MatMul", {h, b.random("head_w", {10, 6}, 10)}, "head");
  Model m = b.done({h});
  EXPECT_TRUE(optimize(m).ok());
  return m;
}

std::vector<TensorMap> samples(int n, uint32_t seed) {
  std::vector<TensorMap> r;
  for (int i = 0; i < n; ++i) r.push_back({{"x", opt_test::random_tensor({2, 3, 17, 15}, seed + i, -1.f, 1.f)}});
  return r;
}

// Min / max of every float value over the samples: the model run with all of them exposed
// (calibrate()'s minmax estimator, without its histograms).
CalibrationRanges observed_ranges(const Model& model, const std::vector<TensorMap>& inputs) {
  Model m = model;
  std::set<int> outs(m.graph.outputs.begin(), m.graph.outputs.end());
  for (const Node& n : m.graph.nodes)
    for (int o : n.outputs)
      if (m.values[static_cast<size_t>(o)].dtype == DType::kF32) outs.insert(o);
  m.graph.outputs.assign(outs.begin(), outs.end());
  CalibrationRanges r;
  auto s = Session::create(std::move(m));
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return r;
  auto note = [&](const std::string& name, const Tensor& t) {
    if (t.dtype() != DType::kF32) return;
    auto [it, fresh] = r.emplace(name, TensorRange{0.f, 0.f});
    for (int64_t i = 0; i < t.size(); ++i) {
      it->second.min = std::min(it->second.min, t.data<float>()[i]);
      it->second.max = std::max(it->second.max, t.data<float>()[i]);
    }
  };
  for (const TensorMap& in : inputs) {
    for (const auto& [name, t] : in) note(name, t);
    auto out = (*s)->run(in);
    EXPECT_TRUE(out.ok()) << out.status().to_string();
    if (out.ok())
      for (const auto& [name, t] : *out) note(name, t);
  }
  return r;
}

const Node* producer(const Model& m, int v) {
  for (const Node& n : m.graph.nodes)
    for (int o : n.outputs)
      if (o == v) return &n;
  return nullptr;
}
std::vector<const Node*> readers(const Model& m, int v) {
  std::vector<const Node*> r;
  for (const Node& n : m.graph.nodes)
    for (int i : n.inputs)
      if (i == v) {
        r.push_back(&n);
        break;
      }
  return r;
}
const Node* node_named(const Model& m, const std::string& name) {
  for (const Node& n : m.graph.nodes)
    if (n.name == name) return &n;
  ADD_FAILURE() << "no node " << name;
  return nullptr;
}
float scalar_f(const Model& m, int v) { return constant_of(m, v)->data<float>()[0]; }
int zp_of(const Model& m, int v) {
  const Tensor* t = constant_of(m, v);
  EXPECT_NE(t, nullptr);
  EXPECT_EQ(t->dtype(), DType::kI8);
  EXPECT_EQ(t->rank(), 0);
  return static_cast<int>(t->data<int8_t>()[0]);
}

// The DequantizeLinear feeding a node's input i, checked to read a QuantizeLinear of the
// same scale and zero point values (an activation) or a constant (a weight / bias).
const Node* dq_input(const Model& m, const Node& n, size_t i) {
  const Node* dq = producer(m, input_of(n, i));
  EXPECT_NE(dq, nullptr) << n.name << " input " << i;
  if (!dq) return nullptr;
  EXPECT_EQ(dq->op_type, "DequantizeLinear") << n.name << " input " << i;
  return dq;
}

TEST(QuantizeInt8Static, RewritesIntoQdq) {
  const Model before = small_net();
  ASSERT_EQ(count_op(before, ext::kNhwcConv), 4);
  ASSERT_EQ(count_op(before, ext::kNhwcMaxPool), 1);
  const CalibrationRanges ranges = observed_ranges(before, samples(4, 100));
  Model after = before;
  auto stats = quantize_int8_static(after, ranges);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->quantized, 6);  // 4 convolutions, the Gemm, the head MatMul
  EXPECT_EQ(stats->skipped, 0);
  EXPECT_GE(stats->pass_through, 2);  // MaxPool, then the Transpose / Flatten before the Gemm
  EXPECT_EQ(count_op(after, "Gemm"), 0);
  EXPECT_EQ(count_op(after, "MatMul"), 2);
  EXPECT_EQ(count_op(after, "QuantizeLinear"), stats->tensors);
  // Weights: 8*27 + 8*9 + 16*8 + 12*72 + 10*144 + 10*6 int8 plus one float scale per
  // channel; biases (stem, dw, pw, fc) int32 plus their float scales.
  const int64_t w = 8 * 27 + 8 * 9 + 16 * 8 + 12 * 72 + 10 * 192 + 10 * 6, ch = 8 + 8 + 16 + 12 + 10 + 6;
  const int64_t biases = 8 + 8 + 16 + 10;
  EXPECT_EQ(stats->bytes_before, (w + biases) * 4);
  EXPECT_EQ(stats->bytes_after, w + ch * 4 + biases * 8);
  for (const char* gone : {"stem_w", "dw_w", "pw_w", "grp_w", "fc_w", "head_w", "fc_b"})
    EXPECT_LT(after.find_value(gone), 0) << gone;

  // Each tensor is quantized once: no value has two QuantizeLinear readers, and each
  // QuantizeLinear feeds one DequantizeLinear with the same scale and zero point.
  for (const Node& q : after.graph.nodes) {
    if (q.op_type != "QuantizeLinear") continue;
    int qs = 0;
    for (const Node* r : readers(after, q.inputs[0])) qs += r->op_type == "QuantizeLinear";
    EXPECT_EQ(qs, 1) << q.name;
    const auto rs = readers(after, q.outputs[0]);
    ASSERT_EQ(rs.size(), 1u) << q.name;
    EXPECT_EQ(rs[0]->op_type, "DequantizeLinear");
    EXPECT_EQ(rs[0]->inputs[1], q.inputs[1]);
    EXPECT_EQ(rs[0]->inputs[2], q.inputs[2]);
    EXPECT_EQ(after.values[static_cast<size_t>(q.outputs[0])].dtype, DType::kI8);
    zp_of(after, q.inputs[2]);
  }

  // Every quantized convolution: DQ(x_q), DQ(W int8, [M] scales, axis 0), bias DQ(int32,
  // x_scale * W_scale); its float output is read only by its QuantizeLinear.
  for (const Node& n : after.graph.nodes) {
    if (n.op_type != ext::kNhwcConv) continue;
    const Node* x = dq_input(after, n, 0);
    const Node* w = dq_input(after, n, 1);
    ASSERT_TRUE(x && w);
    const Tensor* wq = constant_of(after, w->inputs[0]);
    ASSERT_NE(wq, nullptr);
    EXPECT_EQ(wq->dtype(), DType::kI8);
    EXPECT_EQ(w->attr("axis")->i, 0);
    const std::vector<float> w_scale = floats_of(*constant_of(after, w->inputs[1]));
    EXPECT_EQ(static_cast<int64_t>(w_scale.size()), wq->dim(0));
    EXPECT_EQ(input_of(*w, 2), kNoValue);  // symmetric
    int big = 0;
    for (int64_t i = 0; i < wq->size(); ++i) big = std::max(big, std::abs(int{wq->data<int8_t>()[i]}));
    EXPECT_EQ(big, 127) << n.name << ": per-channel scales use the full range";
    const auto rs = readers(after, n.outputs[0]);
    ASSERT_EQ(rs.size(), 1u) << n.name;
    EXPECT_EQ(rs[0]->op_type, "QuantizeLinear");
    if (input_of(n, 2) == kNoValue) continue;
    const Node* b = dq_input(after, n, 2);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(constant_of(after, b->inputs[0])->dtype(), DType::kI32);
    const std::vector<float> b_scale = floats_of(*constant_of(after, b->inputs[1]));
    const float x_scale = scalar_f(after, x->inputs[1]);
    ASSERT_EQ(b_scale.size(), w_scale.size());
    for (size_t j = 0; j < b_scale.size(); ++j) EXPECT_FLOAT_EQ(b_scale[j], x_scale * w_scale[j]);
  }

  // Fused Relu / Clip(0, 6) outputs have no negative part: zero point -128; Clip's range
  // never exceeds 6.
  for (const char* name : {"stem_node", "dw_node", "pw_node"}) {
    const Node* n = node_named(after, name);
    ASSERT_NE(n, nullptr);
    const Node* q = readers(after, n->outputs[0])[0];
    EXPECT_EQ(zp_of(after, q->inputs[2]), -128) << name;
    if (std::string(name) == "pw_node") EXPECT_LE(scalar_f(after, q->inputs[1]), 6.f / 255.f * 1.0001f);
  }

  // MaxPool reads the pw output's DQ and quantizes its output with the same scale and zero
  // point (the same constants).
  for (const Node& p : after.graph.nodes) {
    if (p.op_type != ext::kNhwcMaxPool) continue;
    const Node* in = dq_input(after, p, 0);
    ASSERT_NE(in, nullptr);
    const auto rs = readers(after, p.outputs[0]);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0]->op_type, "QuantizeLinear");
    EXPECT_EQ(rs[0]->inputs[1], in->inputs[1]);
    EXPECT_EQ(rs[0]->inputs[2], in->inputs[2]);
  }

  // The Gemm became MatMul + kiln.bias on DQ(W [K, N] int8, axis 1); the head MatMul's
  // output is the graph output: it stays float (no QuantizeLinear after it).
  const Node* fc = node_named(after, "fc_node");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->op_type, "MatMul");
  EXPECT_EQ(fc->attr(ext::kMatMulBias)->i, 1);
  EXPECT_EQ(fc->attr("transB"), nullptr);
  const Node* fw = dq_input(after, *fc, 1);
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ(fw->attr("axis")->i, 1);
  EXPECT_EQ(dims_to_string(constant_of(after, fw->inputs[0])->dims()), "[192,10]");
  EXPECT_EQ(constant_of(after, dq_input(after, *fc, 2)->inputs[0])->dtype(), DType::kI32);
  // Sigmoid (float) reads the DQ of the fc output.
  for (const Node& n : after.graph.nodes)
    if (n.op_type == "Sigmoid") EXPECT_EQ(producer(after, n.inputs[0])->op_type, "DequantizeLinear");
  const Node* head = node_named(after, "head_node");
  ASSERT_NE(head, nullptr);
  for (const Node* r : readers(after, head->outputs[0])) EXPECT_NE(r->op_type, "QuantizeLinear");

  // Close to float on inputs the calibration did not see; not bit-identical.
  for (const TensorMap& in : samples(2, 500)) {
    const TensorMap want = opt_test::run_model(before, in), got = opt_test::run_model(after, in);
    ASSERT_EQ(got.size(), 1u);
    const Tensor& g = got.begin()->second;
    const Tensor& wt = want.begin()->second;
    double range = 0, worst = 0;
    for (int64_t i = 0; i < wt.size(); ++i) range = std::max(range, std::fabs(wt.get_f64(i)));
    for (int64_t i = 0; i < wt.size(); ++i) worst = std::max(worst, std::fabs(g.get_f64(i) - wt.get_f64(i)));
    EXPECT_LE(worst, 0.05 * range);
    EXPECT_GT(worst, 0.0);
  }

  // The .kiln round trip keeps the int8 / int32 constants and runs the same.
  auto bytes = write_model(after);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = read_model(std::make_shared<const std::vector<uint8_t>>(std::move(*bytes)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  const TensorMap in = samples(1, 900)[0];
  opt_test::expect_same(opt_test::run_model(*back, in), opt_test::run_model(after, in), 0.f);
}

// What the rewrite writes is what fuse_qdq fuses: every quantized convolution becomes a
// kiln.QLinearNhwcConv, the fc MatMul a kiln.QLinearMatMul (the head's output is the graph
// output, so it stays a float MatMul on DQ inputs), MaxPool runs on int8, and the fused
// model still agrees with float.
TEST(QuantizeInt8Static, FuseQdqTurnsItIntoInt8Ops) {
  const Model before = small_net();
  Model after = before;
  auto stats = quantize_int8_static(after, observed_ranges(before, samples(4, 100)));
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  const TensorMap in = samples(1, 321)[0];
  const TensorMap qdq = opt_test::run_model(after, in);
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(count_op(after, ext::kQLinearNhwcConv), 4) << describe(*rep);
  EXPECT_EQ(count_op(after, ext::kNhwcConv), 0);
  EXPECT_EQ(count_op(after, ext::kQLinearMatMul), 1);
  EXPECT_EQ(count_op(after, "MatMul"), 1);  // the head
  for (const Node& n : after.graph.nodes)
    if (n.op_type == ext::kNhwcMaxPool) {
      EXPECT_EQ(after.values[static_cast<size_t>(n.inputs[0])].dtype, DType::kI8);
      EXPECT_EQ(after.values[static_cast<size_t>(n.outputs[0])].dtype, DType::kI8);
    }
  // int8 flows from the first convolution to the fc layer: one QuantizeLinear (the image)
  // and DequantizeLinear only where float ops read (Sigmoid, the float head's weights).
  EXPECT_EQ(count_op(after, "QuantizeLinear"), 1);
  const TensorMap fused = opt_test::run_model(after, in);
  // Integer kernels against fake quant: the same rounding up to an int8 step here and there.
  opt_test::expect_same(fused, qdq, 0.05f);
  const TensorMap want = opt_test::run_model(before, in);
  const Tensor& g = fused.begin()->second;
  const Tensor& w = want.begin()->second;
  double range = 0, worst = 0;
  for (int64_t i = 0; i < w.size(); ++i) range = std::max(range, std::fabs(w.get_f64(i)));
  for (int64_t i = 0; i < w.size(); ++i) worst = std::max(worst, std::fabs(g.get_f64(i) - w.get_f64(i)));
  EXPECT_LE(worst, 0.05 * range);
}

TEST(QuantizeInt8Static, ExcludedAndUncalibratedNodesStayFloat) {
  const Model before = small_net();
  CalibrationRanges ranges = observed_ranges(before, samples(2, 7));
  Model a = before;
  Int8StaticOptions opt;
  opt.exclude = {"grp_node", "head_w"};  // a node name and a weight name
  auto s = quantize_int8_static(a, ranges, opt);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->quantized, 4);
  EXPECT_EQ(s->skipped, 2);
  ASSERT_EQ(s->skip_reasons.size(), 2u);
  EXPECT_NE(s->skip_reasons[0].find("excluded"), std::string::npos) << s->skip_reasons[0];
  const Node* grp = node_named(a, "grp_node");
  ASSERT_NE(grp, nullptr);
  EXPECT_EQ(constant_of(a, grp->inputs[1])->dtype(), DType::kF32);  // float weights, as before
  EXPECT_GE(a.find_value("grp_w"), 0);
  EXPECT_GE(a.find_value("head_w"), 0);
  const Node* head = node_named(a, "head_node");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(constant_of(a, head->inputs[1])->dtype(), DType::kF32);
  // The excluded grp reads the dequantized pool output (the float one is gone).
  EXPECT_EQ(producer(a, grp->inputs[0])->op_type, "DequantizeLinear");
  const TensorMap in = samples(1, 77)[0];
  const TensorMap want = opt_test::run_model(before, in), got = opt_test::run_model(a, in);
  ASSERT_EQ(got.size(), 1u);
  opt_test::expect_same(got, want, 0.1f);

  // A node whose input has no range is left float and says which tensor is missing.
  Model b = before;
  const Node* fc = node_named(b, "fc_node");
  ASSERT_NE(fc, nullptr);
  const std::string fc_in = b.values[static_cast<size_t>(fc->inputs[0])].name;
  ranges.erase(fc_in);
  s = quantize_int8_static(b, ranges);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->quantized, 5);
  ASSERT_EQ(s->skip_reasons.size(), 1u);
  EXPECT_NE(s->skip_reasons[0].find("'" + fc_in + "'"), std::string::npos) << s->skip_reasons[0];
  EXPECT_EQ(count_op(b, "Gemm"), 1);

  // No ranges at all: nothing changes.
  Model c = before;
  s = quantize_int8_static(c, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->quantized, 0);
  EXPECT_EQ(s->skipped, 6);
  EXPECT_EQ(count_op(c, "QuantizeLinear"), 0);
}

// A channel whose weights are tiny next to its bias (as in PP-OCRv4's recognizer) would
// need more int32 steps than fuse_qdq accepts: its weight scale is raised so the bias fits,
// the other channels keep max |w| / 127, and the layer still fuses and stays close.
// conv + HardSwish -> Mul(a) -> Add(b) (kiln.Affine after optimization: PP-LCNetV3's
// learnable affine block) -> conv: the Affine's output goes on its input's int8 grid
// (scale x_scale * a, zero point shifted by b), and fuse_qdq removes it.
TEST(QuantizeInt8Static, ScalarAffineBetweenConvsSharesTheGrid) {
  Builder b;
  const int x = b.input("x", {1, 8, 6, 6});
  int h = b.node("Conv", {x, b.random("w1", {12, 8, 3, 3}, 81, -0.3f, 0.3f), b.random("b1", {12}, 82)}, "c1",
                 conv_attrs(3, 1, 1, 1, "HardSwish"));
  h = b.node("Mul", {h, b.scalar("lab_scale", 1.3f)}, "lab_mul");
  h = b.node("Add", {h, b.scalar("lab_bias", 0.21f)}, "lab_add");
  // Padded, so the Affine's bias cannot fold into this conv's weights (fold_affine_into_conv).
  h = b.node("Conv", {h, b.random("w2", {6, 12, 3, 3}, 83, -0.2f, 0.2f), b.random("b2", {6}, 84)}, "c2",
             conv_attrs(3, 1, 1, 1));
  Model before = b.done({b.node("Sigmoid", {h}, "out")});
  ASSERT_TRUE(optimize(before).ok());
  ASSERT_EQ(count_op(before, ext::kAffine), 1);
  std::vector<TensorMap> in;
  for (uint32_t i = 0; i < 4; ++i) in.push_back({{"x", opt_test::random_tensor({1, 8, 6, 6}, 90 + i, -1.f, 1.f)}});
  Model after = before;
  auto stats = quantize_int8_static(after, observed_ranges(before, in));
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->quantized, 2);
  EXPECT_EQ(stats->pass_through, 1);
  for (const Node& n : after.graph.nodes) {
    if (n.op_type != ext::kAffine) continue;
    const Node* xdq = dq_input(after, n, 0);
    ASSERT_NE(xdq, nullptr);
    const std::vector<const Node*> qs = readers(after, n.outputs[0]);
    ASSERT_EQ(qs.size(), 1u);
    ASSERT_EQ(qs[0]->op_type, "QuantizeLinear");
    const float xs = scalar_f(after, xdq->inputs[1]), ys = scalar_f(after, qs[0]->inputs[1]);
    EXPECT_EQ(ys, xs * 1.3f);
    EXPECT_EQ(zp_of(after, qs[0]->inputs[2]), zp_of(after, xdq->inputs[2]) - std::lround(0.21 / ys));
  }
  const TensorMap fake = opt_test::run_model(after, in[0]);
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->patterns["int8 Affine (folded into the scale)"], 1) << describe(*rep);
  EXPECT_EQ(count_op(after, ext::kAffine), 0);
  EXPECT_EQ(count_op(after, ext::kQLinearNhwcConv), 2);
  opt_test::expect_same(opt_test::run_model(after, in[0]), fake, 0.01f);
  opt_test::expect_same(opt_test::run_model(after, in[0]), opt_test::run_model(before, in[0]), 0.03f);
}

TEST(QuantizeInt8Static, BiasBeyondInt32RangeGetsACoarserWeightScale) {
  Builder b;
  const int x = b.input("x", {1, 8, 6, 6});
  std::vector<float> w = opt_test::random_values(4 * 8, 3, -0.5f, 0.5f);
  for (int t = 0; t < 8; ++t) w[8 + t] = 1e-9f * static_cast<float>(t + 1);  // channel 1: ~zero weights
  const int h = b.node("Conv", {x, b.c("w", w, {4, 8, 1, 1}), b.c("bias", {0.1f, 40.f, -0.2f, 0.f}, {4})}, "conv",
                       conv_attrs(1, 1, 0, 1));
  const int y = b.node("Relu", {h}, "y");
  Model before = b.done({b.node("Sigmoid", {y}, "out")});
  ASSERT_TRUE(optimize(before).ok());
  std::vector<TensorMap> in;
  for (uint32_t i = 0; i < 3; ++i) in.push_back({{"x", opt_test::random_tensor({1, 8, 6, 6}, 40 + i, -1.f, 1.f)}});
  Model after = before;
  auto stats = quantize_int8_static(after, observed_ranges(before, in));
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->quantized, 1);
  EXPECT_EQ(stats->coarser_weights, 1);
  for (const Node& n : after.graph.nodes) {
    if (n.op_type != ext::kNhwcConv) continue;
    const Node* xdq = dq_input(after, n, 0);
    const Node* wdq = dq_input(after, n, 1);
    const Node* bdq = dq_input(after, n, 2);
    ASSERT_TRUE(xdq && wdq && bdq);
    const float x_scale = scalar_f(after, xdq->inputs[1]);
    const std::vector<float> w_scale = floats_of(*constant_of(after, wdq->inputs[1]));
    ASSERT_EQ(w_scale.size(), 4u);
    EXPECT_GE(w_scale[1], 40.f / (x_scale * 536870912.f) * 0.999f);
    for (int j : {0, 2, 3}) EXPECT_LT(w_scale[j], 0.5f / 127.f * 1.0001f) << j;
    const Tensor* bq = constant_of(after, bdq->inputs[0]);
    for (int64_t j = 0; j < 4; ++j) EXPECT_LE(std::abs(int64_t{bq->data<int32_t>()[j]}), int64_t{1} << 29) << j;
  }
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(count_op(after, ext::kQLinearNhwcConv), 1) << describe(*rep);
  opt_test::expect_same(opt_test::run_model(after, in[0]), opt_test::run_model(before, in[0]), 0.02f);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// A MobileNetV3 block: stem, depthwise (HardSwish), squeeze-excite (mean over H, W, 1x1 +
// Relu, 1x1 + HardSigmoid, Mul), projection, residual Add (+ Relu), a 1x1 head (graph
// output). The SE mean / gate and the Add get calibrated int8 outputs, and fuse_qdq keeps
// the whole block in int8: one QuantizeLinear (the image) remains.
Model se_block_net() {
  Builder b;
  const int x = b.input("x", {2, 3, 17, 15});
  const int stem = b.node("Conv", {x, b.random("stem_w", {8, 3, 3, 3}, 21, -0.5f, 0.5f), b.random("stem_b", {8}, 22)},
                          "stem", conv_attrs(3, 2, 1, 1, "Relu"));
  const int dw = b.node("Conv", {stem, b.random("dw_w", {8, 1, 3, 3}, 23, -0.5f, 0.5f), b.random("dw_b", {8}, 24)},
                        "dw", conv_attrs(3, 1, 1, 8, "HardSwish"));
  const int mean = b.node("ReduceMean", {dw}, "se_mean",
                          {{"axes", opt_test::attr_ints({2, 3})}, {"keepdims", opt_test::attr_i(1)}});
  const int r = b.node("Conv", {mean, b.random("se1_w", {4, 8, 1, 1}, 25, -0.5f, 0.5f), b.random("se1_b", {4}, 26)},
                       "se1", conv_attrs(1, 1, 0, 1, "Relu"));
  auto hs = conv_attrs(1, 1, 0, 1, "HardSigmoid");
  hs[ext::kActivationAlpha] = opt_test::attr_f(0.2f);
  hs[ext::kActivationBeta] = opt_test::attr_f(0.5f);
  const int gate = b.node("Conv", {r, b.random("se2_w", {8, 4, 1, 1}, 27, -0.5f, 0.5f), b.random("se2_b", {8}, 28)},
                          "se2", hs);
  const int gated = b.node("Mul", {dw, gate}, "se_mul");
  const int proj = b.node("Conv", {gated, b.random("proj_w", {8, 8, 1, 1}, 29, -0.5f, 0.5f)}, "proj",
                          conv_attrs(1, 1, 0, 1));
  const int sum = b.node("Add", {proj, stem}, "residual");
  const int head = b.node("Conv", {sum, b.random("head_w", {5, 8, 1, 1}, 30, -0.5f, 0.5f)}, "head", conv_attrs(1, 1, 0, 1));
  Model m = b.done({head});
  EXPECT_TRUE(optimize(m).ok());
  return m;
}

TEST(QuantizeInt8Static, SqueezeExciteAndResidualStayInt8) {
  const Model before = se_block_net();
  ASSERT_EQ(count_op(before, "ReduceMean"), 1);
  ASSERT_EQ(count_op(before, "Mul"), 1);
  Model after = before;
  auto stats = quantize_int8_static(after, observed_ranges(before, samples(4, 500)));
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->elementwise, 3);  // the mean, the gate's Mul, the residual Add
  const TensorMap in = samples(1, 777)[0];
  const TensorMap qdq = opt_test::run_model(after, in);
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->patterns["QLinearAdd"], 1) << describe(*rep);
  EXPECT_EQ(rep->patterns["QLinearMul"], 1) << describe(*rep);
  EXPECT_EQ(rep->patterns["QLinearGlobalAveragePool"], 1) << describe(*rep);
  EXPECT_EQ(count_op(after, "ReduceMean"), 0);
  EXPECT_EQ(count_op(after, "Mul"), 0);
  EXPECT_EQ(count_op(after, "Add"), 0);
  EXPECT_EQ(count_op(after, "QuantizeLinear"), 1) << describe(*rep);
  const TensorMap fused = opt_test::run_model(after, in);
  opt_test::expect_same(fused, qdq, 0.05f);
  // And close to float (the calibration saw other inputs).
  const TensorMap want = opt_test::run_model(before, in);
  const Tensor& g = fused.begin()->second;
  const Tensor& w = want.begin()->second;
  double range = 0, worst = 0;
  for (int64_t i = 0; i < w.size(); ++i) range = std::max(range, std::fabs(w.get_f64(i)));
  for (int64_t i = 0; i < w.size(); ++i) worst = std::max(worst, std::fabs(g.get_f64(i) - w.get_f64(i)));
  EXPECT_LE(worst, 0.08 * range);
}

}  // namespace
}  // namespace kiln
