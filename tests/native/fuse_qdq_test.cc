// fuse_qdq (graph/passes/fuse_qdq.cc) and the int8 ops it emits (kiln.QLinearNhwcConv,
// kiln.QLinearMatMul, int8 kiln.NhwcMaxPool): hand-built static-int8 QDQ graphs on the
// channels-last form `kiln compress --int8-static` writes. The unfused graph (fake quant:
// QuantizeLinear / DequantizeLinear around float ops) is the reference; the fused graph
// must give the same int8 outputs within one quantization step (nearly always exactly),
// on the fast kernels and on the reference loops alike (those two bit-identical). Groups
// that do not meet the contract (unequal pass-through scales, weight zero points, a
// second reader of the float output) must stay as they are.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"
#include "ops/packed_gemm.h"
#include "ops/registry.h"
#include "qdq_graph_builder.h"

namespace kiln {
namespace {

using opt_test::attr_f;
using opt_test::attr_i;
using opt_test::attr_ints;
using opt_test::Builder;
using opt_test::count_op;

Attribute attr_s(const std::string& s) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = s;
  return a;
}

Tensor int_tensor(DType dt, const Dims& d, uint32_t seed, float lo, float hi) {
  auto t = Tensor::make(dt, d);
  EXPECT_TRUE(t.ok());
  const std::vector<float> v = opt_test::random_values(static_cast<size_t>(num_elements(d)), seed, lo, hi);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::kI8) t->mutable_data<int8_t>()[i] = static_cast<int8_t>(std::lround(v[i]));
    else t->mutable_data<int32_t>()[i] = static_cast<int32_t>(std::lround(v[i]));
  }
  return std::move(t).value();
}

using qdq_test::i8_scalar;

// QDQ graphs with constant int8 weights and int32 biases beside the activations.
struct QdqBuilder : qdq_test::QdqGraph {
  // DequantizeLinear(int8 W, scale per channel along axis); also returns the scales.
  int weights(const Dims& d, int64_t axis, uint32_t seed, std::vector<float>* scales) {
    const size_t ch = static_cast<size_t>(d[static_cast<size_t>(axis)]);
    *scales = opt_test::random_values(ch, seed + 1, 0.002f, 0.02f);
    return b.node("DequantizeLinear",
                  {b.constant(fresh("wq"), int_tensor(DType::kI8, d, seed, -127.f, 127.f)),
                   b.c(fresh("ws"), *scales, {static_cast<int64_t>(ch)})},
                  fresh("w"), {{"axis", attr_i(axis)}});
  }
  // DequantizeLinear(int32 B, x_scale * w_scale) as ONNX QDQ writes a bias.
  int bias(float x_scale, const std::vector<float>& ws, uint32_t seed) {
    std::vector<float> s(ws.size());
    for (size_t i = 0; i < ws.size(); ++i) s[i] = x_scale * ws[i];
    const int64_t m = static_cast<int64_t>(ws.size());
    return b.node("DequantizeLinear",
                  {b.constant(fresh("bq"), int_tensor(DType::kI32, {m}, seed, -3000.f, 3000.f)), b.c(fresh("bs"), s, {m})},
                  fresh("b"), {{"axis", attr_i(0)}});
  }
  int kiln_node(const char* op, std::vector<int> ins, std::map<std::string, Attribute> attrs) {
    const int y = b.node(op, std::move(ins), fresh("y"), std::move(attrs));
    b.m.graph.nodes.back().domain = ext::kDomain;
    return y;
  }
};

struct ConvCase {
  int64_t n = 1, h = 9, w = 8, c = 16, m = 24, k = 1, stride = 1, pad = 0, group = 1;
  const char* act = nullptr;
  float alpha = 0, beta = 0;
};

constexpr float kXScale = 4.f / 255.f;
constexpr int8_t kXZero = -3;
constexpr int8_t kYZero = 5;

// x float -> Q -> DQ -> kiln.NhwcConv(DQ W, DQ B) [act] -> Q (int8 graph output "y").
Model conv_model(const ConvCase& t, float* y_scale) {
  QdqBuilder q;
  const int x = q.b.input("x", {t.n, t.h, t.w, t.c});
  const int xd = q.dq(q.q(x, kXScale, kXZero), kXScale, kXZero);
  std::vector<float> ws;
  const int w = q.weights({t.m, t.c / t.group, t.k, t.k}, 0, 11, &ws);
  const int bias = q.bias(kXScale, ws, 12);
  std::map<std::string, Attribute> attrs = {{"kernel_shape", attr_ints({t.k, t.k})},
                                            {"strides", attr_ints({t.stride, t.stride})},
                                            {"pads", attr_ints({t.pad, t.pad, t.pad, t.pad})},
                                            {"group", attr_i(t.group)}};
  if (t.act) {
    attrs[ext::kActivation] = attr_s(t.act);
    if (std::string(t.act) == "Clip" || std::string(t.act) == "HardSigmoid") {
      attrs[ext::kActivationAlpha] = attr_f(t.alpha);
      attrs[ext::kActivationBeta] = attr_f(t.beta);
    }
  }
  const int y = q.kiln_node(ext::kNhwcConv, {xd, w, bias}, attrs);
  // Output scale from the sum's spread: some values saturate, most do not.
  *y_scale = 0.02f * std::sqrt(static_cast<float>(t.c / t.group * t.k * t.k));
  return q.b.done({q.q(y, *y_scale, kYZero, "y")});
}

// got within one int8 step of want everywhere, and exactly equal almost everywhere.
void expect_int8_close(const Tensor& got, const Tensor& want, double max_mismatch = 0.02) {
  ASSERT_EQ(got.dtype(), DType::kI8);
  ASSERT_EQ(want.dtype(), DType::kI8);
  ASSERT_EQ(dims_to_string(got.dims()), dims_to_string(want.dims()));
  int64_t off = 0;
  for (int64_t i = 0; i < want.size(); ++i) {
    const int d = std::abs(got.data<int8_t>()[i] - want.data<int8_t>()[i]);
    ASSERT_LE(d, 1) << "element " << i << ": fused " << int(got.data<int8_t>()[i]) << " vs fake quant "
                    << int(want.data<int8_t>()[i]);
    off += d;
  }
  EXPECT_LE(static_cast<double>(off), max_mismatch * static_cast<double>(want.size())) << off << " off by one";
}

void expect_identical(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(dims_to_string(a.dims()), dims_to_string(b.dims()));
  for (int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.data<int8_t>()[i], b.data<int8_t>()[i]) << i;
}

// Fuses, checks the op and pattern count, compares with the fake-quant graph, and the fast
// kernels with the reference loops.
Model fuse_and_compare(const Model& before, const std::string& op, const std::string& label, int rewrites = 1) {
  Model after = before;
  auto rep = run_pass(after, "fuse_qdq");
  EXPECT_TRUE(rep.ok()) << rep.status().to_string();
  if (!rep.ok()) return after;
  EXPECT_EQ(rep->rewrites, rewrites) << describe(*rep);
  EXPECT_EQ(rep->patterns[label], 1) << describe(*rep);
  EXPECT_EQ(count_op(after, op), 1);
  const TensorMap in = opt_test::random_inputs(before, 21, -2.f, 2.f);
  const TensorMap want = opt_test::run_model(before, in);
  const TensorMap got = opt_test::run_model(after, in);
  for (const auto& [name, w] : want) {
    EXPECT_NE(got.find(name), got.end()) << name;
    if (got.find(name) != got.end()) expect_int8_close(got.at(name), w);
  }
  set_use_reference_kernels(true);
  const TensorMap ref = opt_test::run_model(after, in);
  set_use_reference_kernels(false);
  for (const auto& [name, g] : got) expect_identical(g, ref.at(name));
  return after;
}

TEST(FuseQdq, Conv1x1BecomesQLinearNhwcConv) {
  float ys = 0;
  const Model m = conv_model({.n = 2, .h = 7, .w = 9, .c = 16, .m = 24}, &ys);
  const Model after = fuse_and_compare(m, ext::kQLinearNhwcConv, "QLinearNhwcConv");
  EXPECT_EQ(count_op(after, "QuantizeLinear"), 1);  // the input's
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  EXPECT_EQ(count_op(after, ext::kNhwcConv), 0);
}

TEST(FuseQdq, Conv1x1OddChannelsWithRelu) {
  float ys = 0;
  fuse_and_compare(conv_model({.h = 5, .w = 5, .c = 3, .m = 17, .act = "Relu"}, &ys), ext::kQLinearNhwcConv,
                   "QLinearNhwcConv");
}

TEST(FuseQdq, Conv3x3StridedPaddedWithClip) {
  float ys = 0;
  fuse_and_compare(conv_model({.n = 2, .h = 11, .w = 10, .c = 5, .m = 13, .k = 3, .stride = 2, .pad = 1, .act = "Clip",
                               .alpha = 0.f, .beta = 6.f},
                              &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv");
}

TEST(FuseQdq, Conv3x3HardSwishAppliedBeforeRequantization) {
  float ys = 0;
  fuse_and_compare(conv_model({.h = 8, .w = 8, .c = 8, .m = 9, .k = 3, .pad = 1, .act = "HardSwish"}, &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv");
}

TEST(FuseQdq, StemLike3ChannelStride2HardSwish) {
  // The MobileNetV3 stem's shape (3 channels, 3x3 stride 2, pad 1, HardSwish): unfolded
  // windows with whole rows inside, rows of padding and partial rows at both edges.
  float ys = 0;
  fuse_and_compare(conv_model({.n = 2, .h = 9, .w = 14, .c = 3, .m = 16, .k = 3, .stride = 2, .pad = 1,
                               .act = "HardSwish"},
                              &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv");
}

TEST(FuseQdq, DepthwiseWithClip) {
  float ys = 0;
  fuse_and_compare(conv_model({.n = 2, .h = 9, .w = 7, .c = 19, .m = 19, .k = 3, .pad = 1, .group = 19, .act = "Clip",
                               .alpha = 0.f, .beta = 6.f},
                              &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv (depthwise)");
}

TEST(FuseQdq, DepthwiseStrided5x5WithSwishAndHardSigmoid) {
  float ys = 0;
  fuse_and_compare(conv_model({.h = 12, .w = 11, .c = 24, .m = 24, .k = 5, .stride = 2, .pad = 2, .group = 24, .act = "Swish"},
                              &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv (depthwise)");
  fuse_and_compare(conv_model({.h = 6, .w = 6, .c = 8, .m = 8, .k = 3, .pad = 1, .group = 8, .act = "HardSigmoid",
                               .alpha = 0.2f, .beta = 0.5f},
                              &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv (depthwise)");
}

// Stride 1 with a float epilogue: whole output rows per tap (edges clipped per tap).
TEST(FuseQdq, DepthwiseStride1HardSwishBatchAndWideKernel) {
  float ys = 0;
  fuse_and_compare(conv_model({.n = 2, .h = 7, .w = 9, .c = 24, .m = 24, .k = 3, .pad = 1, .group = 24, .act = "HardSwish"},
                              &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv (depthwise)");
  fuse_and_compare(conv_model({.h = 5, .w = 4, .c = 8, .m = 8, .k = 5, .pad = 2, .group = 8, .act = "Swish"}, &ys),
                   ext::kQLinearNhwcConv, "QLinearNhwcConv (depthwise)");
}

TEST(FuseQdq, GroupedConvRunsTheReferenceLoop) {
  float ys = 0;
  fuse_and_compare(conv_model({.h = 6, .w = 7, .c = 12, .m = 8, .k = 3, .pad = 1, .group = 4}, &ys), ext::kQLinearNhwcConv,
                   "QLinearNhwcConv");
}

// kiln.QLinearNhwcConv declares writes_every_output, so the executor hands it arena memory
// that still holds an earlier tensor: on every path (IGEMM with and without the HardSwish
// epilogue, depthwise, the grouped reference loop) an output buffer full of garbage must
// come out the same as a zero-filled one.
TEST(FuseQdq, QLinearNhwcConvWritesEveryOutputElement) {
  const ConvCase cases[] = {
      {.n = 2, .h = 5, .w = 7, .c = 16, .m = 24, .act = "HardSwish"},
      {.h = 6, .w = 5, .c = 5, .m = 17, .k = 3, .stride = 2, .pad = 1},
      {.h = 7, .w = 6, .c = 24, .m = 24, .k = 3, .pad = 1, .group = 24, .act = "HardSwish"},
      {.h = 6, .w = 7, .c = 12, .m = 8, .k = 3, .pad = 1, .group = 4},
  };
  uint32_t seed = 300;
  for (const ConvCase& t : cases) {
    SCOPED_TRACE("c " + std::to_string(t.c) + " m " + std::to_string(t.m) + " k " + std::to_string(t.k) + " group " +
                 std::to_string(t.group));
    float ys = 0;
    Model m = conv_model(t, &ys);
    ASSERT_TRUE(run_pass(m, "fuse_qdq").ok());
    const Node* conv = nullptr;
    for (const Node& n : m.graph.nodes)
      if (n.op_type == ext::kQLinearNhwcConv) conv = &n;
    ASSERT_NE(conv, nullptr);
    auto op = create_op(OpContext{*conv, m, 13});
    ASSERT_TRUE(op.ok()) << op.status().to_string();
    EXPECT_TRUE((*op)->writes_every_output());
    // Constants from the model, the int8 image random.
    std::vector<Tensor> ins;
    std::vector<TensorInfo> infos;
    for (int v : conv->inputs) {
      if (v == kNoValue) {
        ins.emplace_back();
        continue;
      }
      const Value& val = m.values[static_cast<size_t>(v)];
      ins.push_back(val.data ? *val.data : int_tensor(DType::kI8, {t.n, t.h, t.w, t.c}, seed++, -128, 127));
    }
    for (size_t i = 0; i < ins.size(); ++i)
      infos.push_back(conv->inputs[i] == kNoValue ? TensorInfo() : TensorInfo{ins[i].dtype(), ins[i].dims(), &ins[i]});
    std::vector<TensorInfo> out_info(1);
    ASSERT_TRUE((*op)->infer(infos, out_info).ok());
    auto zeroed = Tensor::make(out_info[0].dtype, out_info[0].dims);
    auto dirty = Tensor::make(out_info[0].dtype, out_info[0].dims);
    ASSERT_TRUE(zeroed.ok() && dirty.ok());
    std::memset(dirty->mutable_data<int8_t>(), 0x5A, static_cast<size_t>(dirty->size()));
    std::vector<Tensor> out_zeroed = {*zeroed}, out_dirty = {*dirty};
    ASSERT_TRUE((*op)->run(ins, out_zeroed).ok());
    ASSERT_TRUE((*op)->run(ins, out_dirty).ok());
    expect_identical(out_dirty[0], out_zeroed[0]);
  }
}

TEST(FuseQdq, FloatBiasIsQuantizedAtTheProductScale) {
  QdqBuilder q;
  const int x = q.b.input("x", {1, 6, 6, 8});
  const int xd = q.dq(q.q(x, kXScale, kXZero), kXScale, kXZero);
  std::vector<float> ws;
  const int w = q.weights({10, 8, 3, 3}, 0, 31, &ws);
  const int y = q.kiln_node(ext::kNhwcConv, {xd, w, q.b.random("bias", {10}, 32, -0.5f, 0.5f)},
                            {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}});
  const Model m = q.b.done({q.q(y, 0.1f, 0, "y")});
  fuse_and_compare(m, ext::kQLinearNhwcConv, "QLinearNhwcConv");
}

Model matmul_model(const char* act, bool bias) {
  QdqBuilder q;
  const int a = q.b.input("a", {3, 5, 40});
  const int ad = q.dq(q.q(a, kXScale, kXZero), kXScale, kXZero);
  std::vector<float> ws;
  const int w = q.weights({40, 24}, 1, 41, &ws);
  std::vector<int> ins = {ad, w};
  std::map<std::string, Attribute> attrs;
  if (bias) {
    ins.push_back(q.bias(kXScale, ws, 42));
    attrs[ext::kMatMulBias] = attr_i(1);
  }
  if (act) attrs[ext::kActivation] = attr_s(act);
  const int y = q.b.node("MatMul", ins, "mm", attrs);
  return q.b.done({q.q(y, 0.15f, kYZero, "y")});
}

TEST(FuseQdq, MatMulWithBiasBecomesQLinearMatMul) {
  const Model after = fuse_and_compare(matmul_model(nullptr, true), ext::kQLinearMatMul, "QLinearMatMul");
  const Node* n = opt_test::only_node(after, ext::kQLinearMatMul);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->domain, ext::kDomain);
  ASSERT_EQ(n->inputs.size(), 9u);
  EXPECT_EQ(after.values[static_cast<size_t>(n->inputs[8])].dtype, DType::kI32);
}

TEST(FuseQdq, MatMulWithoutBiasWithRelu) {
  fuse_and_compare(matmul_model("Relu", false), ext::kQLinearMatMul, "QLinearMatMul");
}

TEST(FuseQdq, MatMulWithHardSwish) {
  fuse_and_compare(matmul_model("HardSwish", true), ext::kQLinearMatMul, "QLinearMatMul");
}

// conv -> Q -> DQ -> NhwcMaxPool -> Q -> DQ -> Reshape -> Q: int8 all the way.
TEST(FuseQdq, MaxPoolAndReshapePassInt8Through) {
  QdqBuilder q;
  const int x = q.b.input("x", {1, 8, 8, 16});
  const int xd = q.dq(q.q(x, kXScale, kXZero), kXScale, kXZero);
  std::vector<float> ws;
  const int w = q.weights({16, 16, 1, 1}, 0, 51, &ws);
  const float s = 0.09f;
  const int8_t z = -7;
  const int c = q.kiln_node(ext::kNhwcConv, {xd, w, q.bias(kXScale, ws, 52)}, {{"kernel_shape", attr_ints({1, 1})}});
  const int p = q.kiln_node(ext::kNhwcMaxPool, {q.dq(q.q(c, s, z), s, z)},
                            {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}, {"pads", attr_ints({1, 1, 1, 1})}});
  const int r = q.b.node("Reshape", {q.dq(q.q(p, s, z), s, z), q.b.constant("shape", Tensor::from_i64({1, -1}, {2}))}, "r");
  const Model before = q.b.done({q.q(r, s, z, "y")});
  Model after = before;
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 3) << describe(*rep);
  EXPECT_EQ(rep->patterns["int8 NhwcMaxPool"], 1);
  EXPECT_EQ(rep->patterns["int8 Reshape"], 1);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  EXPECT_EQ(count_op(after, "QuantizeLinear"), 1);
  const TensorMap in = opt_test::random_inputs(before, 53);
  expect_int8_close(opt_test::run_model(after, in).at("y"), opt_test::run_model(before, in).at("y"));
}

// conv (HardSwish) -> Q -> DQ -> kiln.Affine(a, b) -> Q at (s * a, z - round(b / (s * a)))
// -> DQ -> 1x1 conv -> Q: the Affine only relabels the int8 grid, so it and its Q / DQ go
// (what `kiln compress --int8-static` writes for PP-LCNetV3's learnable affine blocks).
// variant 0: folds; 1: zero point off by one; 2: negative scale; 3: a fused activation;
// 4: a bias per channel: all but 0 stay.
Model affine_model(int variant, float* y_scale) {
  QdqBuilder q;
  const int x = q.b.input("x", {1, 7, 5, 16});
  const int xd = q.dq(q.q(x, kXScale, kXZero), kXScale, kXZero);
  std::vector<float> ws;
  const int w = q.weights({12, 16, 3, 3}, 0, 61, &ws);
  const int c = q.kiln_node(ext::kNhwcConv, {xd, w, q.bias(kXScale, ws, 62)},
                            {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})},
                             {ext::kActivation, attr_s("HardSwish")}});
  const float s = 0.05f, a = variant == 2 ? -1.7f : 1.7f, bias = 0.83f;
  const int8_t z = -100;
  const float as = s * a;
  const int shift = static_cast<int>(std::nearbyint(static_cast<double>(bias) / as));
  const int8_t az = static_cast<int8_t>(z - shift + (variant == 1 ? 1 : 0));
  const int bias_v = variant == 4 ? q.b.c("b", std::vector<float>(12, bias), {12}) : q.b.scalar("b", bias);
  std::map<std::string, Attribute> aff_attrs;
  if (variant == 3) aff_attrs[ext::kActivation] = attr_s("Relu");
  const int af = q.kiln_node(ext::kAffine, {q.dq(q.q(c, s, z), s, z), q.b.scalar("a", a), bias_v}, aff_attrs);
  std::vector<float> ws2;
  const int w2 = q.weights({8, 12, 1, 1}, 0, 63, &ws2);
  const int c2 = q.kiln_node(ext::kNhwcConv, {q.dq(q.q(af, as, az), as, az), w2, q.bias(as, ws2, 64)},
                             {{"kernel_shape", attr_ints({1, 1})}});
  *y_scale = 0.1f;
  return q.b.done({q.q(c2, *y_scale, kYZero, "y")});
}

TEST(FuseQdq, ScalarAffineFoldsIntoTheQuantization) {
  float ys = 0;
  const Model before = affine_model(0, &ys);
  Model after = before;
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 3) << describe(*rep);
  EXPECT_EQ(rep->patterns["int8 Affine (folded into the scale)"], 1) << describe(*rep);
  EXPECT_EQ(count_op(after, ext::kAffine), 0);
  EXPECT_EQ(count_op(after, ext::kQLinearNhwcConv), 2);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 0);
  EXPECT_EQ(count_op(after, "QuantizeLinear"), 1);
  for (uint32_t seed : {71u, 72u, 73u}) {
    const TensorMap in = opt_test::random_inputs(before, seed, -2.f, 2.f);
    expect_int8_close(opt_test::run_model(after, in).at("y"), opt_test::run_model(before, in).at("y"));
  }
}

TEST(FuseQdq, AffineWithOtherParametersIsLeftAlone) {
  for (int variant = 1; variant <= 4; ++variant) {
    float ys = 0;
    Model after = affine_model(variant, &ys);
    auto rep = run_pass(after, "fuse_qdq");
    ASSERT_TRUE(rep.ok()) << rep.status().to_string();
    EXPECT_EQ(rep->patterns.count("int8 Affine (folded into the scale)"), 0u) << variant << ": " << describe(*rep);
    EXPECT_EQ(count_op(after, ext::kAffine), 1) << variant;
  }
}

TEST(FuseQdq, MismatchedPassThroughScalesAreLeftAlone) {
  QdqBuilder q;
  const int x = q.b.input("x", {1, 6, 6, 4});
  const int xd = q.dq(q.q(x, 0.05f, 0), 0.05f, 0);
  const int p = q.kiln_node(ext::kNhwcMaxPool, {xd}, {{"kernel_shape", attr_ints({2, 2})}});
  const Model before = q.b.done({q.q(p, 0.06f, 0, "y")});
  Model after = before;
  auto rep = run_pass(after, "fuse_qdq");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->rewrites, 0);
  EXPECT_EQ(count_op(after, "DequantizeLinear"), 1);
}

TEST(FuseQdq, WeightZeroPointOrSecondReaderKeepsFakeQuant) {
  for (int variant = 0; variant < 3; ++variant) {
    QdqBuilder q;
    const int x = q.b.input("x", {1, 5, 5, 8});
    const int xd = q.dq(q.q(x, kXScale, kXZero), kXScale, kXZero);
    std::vector<int> wz(8, 0);
    auto zt = Tensor::make(DType::kI8, {8});
    for (int i = 0; i < 8; ++i) zt->mutable_data<int8_t>()[i] = static_cast<int8_t>(variant == 0 && i == 3 ? 1 : 0);
    const int w = q.b.node("DequantizeLinear",
                           {q.b.constant("wq", int_tensor(DType::kI8, {8, 8, 1, 1}, 61, -127.f, 127.f)),
                            q.b.c("ws", std::vector<float>(8, 0.01f), {8}), q.b.constant("wz", std::move(zt).value())},
                           "w", {{"axis", attr_i(variant == 2 ? 1 : 0)}});
    const int y = q.kiln_node(ext::kNhwcConv, {xd, w}, {{"kernel_shape", attr_ints({1, 1})}});
    std::vector<int> outs = {q.q(y, 0.1f, 0, "y")};
    if (variant == 1) outs.push_back(q.b.node("Relu", {y}, "second"));  // the float output read twice
    const Model before = q.b.done(outs);
    Model after = before;
    auto rep = run_pass(after, "fuse_qdq");
    ASSERT_TRUE(rep.ok());
    EXPECT_EQ(rep->rewrites, 0) << "variant " << variant;
    EXPECT_EQ(count_op(after, ext::kQLinearNhwcConv), 0);
  }
}

// The whole optimizer: fuse_qdq runs after nhwc_layout, before import_qdq_weights (which
// would otherwise take the weights of a float conv).
TEST(FuseQdq, RunsInTheDefaultPipeline) {
  float ys = 0;
  const Model before = conv_model({.h = 6, .w = 6, .c = 16, .m = 16, .k = 3, .pad = 1, .act = "Relu"}, &ys);
  Model after = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(after, {}, &reports).ok());
  int fused = 0;
  for (const PassReport& r : reports)
    if (r.pass == "fuse_qdq") fused += r.rewrites;
  EXPECT_EQ(fused, 1);
  EXPECT_EQ(count_op(after, ext::kQLinearNhwcConv), 1);
  EXPECT_EQ(count_op(after, ext::kDynamicQuantConv), 0);
  const TensorMap in = opt_test::random_inputs(before, 71);
  expect_int8_close(opt_test::run_model(after, in).at("y"), opt_test::run_model(before, in).at("y"));
}

TEST(FuseQdq, OpsRejectBadInputsWithMessages) {
  // A uint8 input where the op takes int8: an error naming the node, no crash.
  QdqBuilder q;
  const int x = q.b.input("x", shape_from_dims({1, 4, 4, 8}), DType::kU8);
  const int y = q.kiln_node(ext::kQLinearNhwcConv,
                            {x, q.b.scalar("xs", 0.1f), q.b.constant("xz", i8_scalar(0)),
                             q.b.constant("w", int_tensor(DType::kI8, {4, 8, 1, 1}, 81, -5.f, 5.f)),
                             q.b.scalar("ws", 0.1f), kNoValue, q.b.scalar("ys", 0.1f), q.b.constant("yz", i8_scalar(0))},
                            {});
  q.b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(q.b.m).ok());
  auto sess = Session::create(Model(q.b.m));
  std::string msg;
  if (!sess.ok()) {
    msg = sess.status().to_string();
  } else {
    auto t = Tensor::make(DType::kU8, {1, 4, 4, 8});
    TensorMap in;
    in["x"] = std::move(t).value();
    auto out = (*sess)->run(in);
    ASSERT_FALSE(out.ok());
    msg = out.status().to_string();
  }
  EXPECT_NE(msg.find("input x must be int8, got uint8"), std::string::npos) << msg;
}

}  // namespace
}  // namespace kiln
