// The channels-last ops (kiln.NhwcConv / NhwcMaxPool / NhwcAveragePool) against the NCHW
// ops between Transposes, and the nhwc_layout pass: which ops it rewrites, where the
// Transposes end up, and the same outputs as the graph before it.
#include "graph/kiln_extensions.h"
#include "graph/passes/pass_util.h"
#include "graph_optimizer_util.h"

namespace kiln {
namespace {

using namespace opt_test;  // NOLINT
using Attrs = std::map<std::string, Attribute>;

Attribute attr_s(const std::string& s) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = s;
  return a;
}

// y = op(x) in NCHW, and y = Transpose(kiln.Nhwc<op>(Transpose(x))) (same attributes and
// extra inputs): equal outputs on random data. `weights_as_input` feeds W (and B) at run
// time instead of as constants (the reference kernel instead of the packed GEMM).
void check_nhwc_op(const std::string& op, const Dims& xd, Attrs attrs, std::vector<Dims> extra = {},
                   bool weights_as_input = false) {
  auto build = [&](bool nhwc) {
    Builder b(19);
    int x = b.input("x", xd);
    std::vector<int> ins = {x};
    for (size_t i = 0; i < extra.size(); ++i) {
      const std::string name = "p" + std::to_string(i);
      ins.push_back(weights_as_input ? b.input(name, extra[i]) : b.random(name, extra[i], 10 + static_cast<uint32_t>(i)));
    }
    if (!nhwc) return b.done({b.node(op, ins, "y", attrs)});
    ins[0] = b.node("Transpose", {x}, "xt", {{"perm", attr_ints({0, 2, 3, 1})}});
    int yt = b.node(std::string("Nhwc") + op, ins, "yt", attrs);
    b.m.graph.nodes.back().domain = ext::kDomain;
    return b.done({b.node("Transpose", {yt}, "y", {{"perm", attr_ints({0, 3, 1, 2})}})});
  };
  Model ref = build(false), nhwc = build(true);
  const TensorMap in = random_inputs(ref, 3);
  expect_same(run_model(nhwc, in), run_model(ref, in), 1e-5f);
}

TEST(NhwcConv, MatchesConvOverGeometries) {
  check_nhwc_op("Conv", {1, 3, 9, 8}, {{"pads", attr_ints({1, 1, 1, 1})}}, {{4, 3, 3, 3}, {4}});
  check_nhwc_op("Conv", {2, 4, 11, 7},
                {{"strides", attr_ints({2, 1})}, {"dilations", attr_ints({1, 2})}, {"pads", attr_ints({0, 2, 1, 0})}},
                {{6, 4, 3, 2}});
  check_nhwc_op("Conv", {1, 6, 8, 8}, {{"group", attr_i(3)}, {"auto_pad", attr_s("SAME_UPPER")}, {"strides", attr_ints({2, 2})}},
                {{9, 2, 3, 3}, {9}});
  check_nhwc_op("Conv", {1, 5, 7, 6}, {{"group", attr_i(5)}, {"pads", attr_ints({1, 1, 1, 1})}}, {{5, 1, 3, 3}, {5}});
  check_nhwc_op("Conv", {1, 3, 5, 5}, {{"kernel_shape", attr_ints({5, 5})}}, {{2, 3, 5, 5}});  // one output pixel
}

TEST(NhwcConv, PointwiseGemmAndReferencePathsWithFusedActivations) {
  for (bool as_input : {false, true}) {
    check_nhwc_op("Conv", {2, 8, 5, 3}, {}, {{12, 8, 1, 1}, {12}}, as_input);
    check_nhwc_op("Conv", {1, 8, 5, 3}, {{ext::kActivation, attr_s("Relu")}}, {{12, 8, 1, 1}, {12}}, as_input);
    check_nhwc_op("Conv", {1, 8, 5, 3},
                  {{ext::kActivation, attr_s("Clip")}, {ext::kActivationAlpha, attr_f(-0.2f)},
                   {ext::kActivationBeta, attr_f(0.3f)}},
                  {{4, 8, 1, 1}}, as_input);
    check_nhwc_op("Conv", {1, 3, 6, 6}, {{ext::kActivation, attr_s("HardSwish")}, {"pads", attr_ints({1, 0, 1, 0})}},
                  {{4, 3, 3, 3}, {4}}, as_input);
  }
  // A strided 1x1 convolution is not the plain GEMM.
  check_nhwc_op("Conv", {1, 4, 6, 6}, {{"strides", attr_ints({2, 2})}}, {{3, 4, 1, 1}});
}

TEST(NhwcConv, BadShapesAreErrorsNamingTheNode) {
  Builder b(13);
  int x = b.input("x", Dims{1, 5, 5, 3});
  int y = b.node("NhwcConv", {x, b.random("w", {4, 2, 3, 3}, 1)}, "y");  // W expects 2 channels
  b.m.graph.nodes.back().domain = ext::kDomain;
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  Status s = infer_shapes(b.m);
  auto session = Session::create(Model(b.m));
  const std::string msg = s.ok() ? (session.ok() ? std::string() : session.status().message()) : s.message();
  EXPECT_NE(msg.find("channels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("y_node"), std::string::npos) << msg;
}

TEST(NhwcPool, MaxAndAverageMatchNchwPooling) {
  check_nhwc_op("MaxPool", {1, 5, 9, 8}, {{"kernel_shape", attr_ints({3, 3})}, {"strides", attr_ints({2, 2})}});
  check_nhwc_op("MaxPool", {2, 3, 10, 7},
                {{"kernel_shape", attr_ints({3, 2})}, {"pads", attr_ints({1, 0, 1, 1})}, {"ceil_mode", attr_i(1)},
                 {"strides", attr_ints({2, 2})}, {"dilations", attr_ints({2, 1})}});
  check_nhwc_op("MaxPool", {1, 4, 7, 7}, {{"kernel_shape", attr_ints({2, 2})}, {"auto_pad", attr_s("SAME_LOWER")}});
  check_nhwc_op("AveragePool", {1, 5, 9, 8}, {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}});
  check_nhwc_op("AveragePool", {2, 3, 10, 7},
                {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}, {"count_include_pad", attr_i(1)},
                 {"ceil_mode", attr_i(1)}, {"strides", attr_ints({2, 2})}});
  check_nhwc_op("AveragePool", {1, 6, 8, 9},
                {{"kernel_shape", attr_ints({2, 3})}, {"dilations", attr_ints({2, 2})}, {"auto_pad", attr_s("SAME_UPPER")},
                 {"strides", attr_ints({1, 2})}});
}

// Runs the pass on a copy, checks it did something and that the outputs stay the same.
Model run_layout(const Model& before, uint32_t seed = 5) {
  Model after = before;
  auto rep = run_pass(after, "nhwc_layout");
  EXPECT_TRUE(rep.ok()) << rep.status().to_string();
  if (rep.ok()) EXPECT_GT(rep->rewrites, 0);
  EXPECT_TRUE(validate_and_sort(after).ok());
  const TensorMap in = random_inputs(before, seed);
  expect_same(run_model(after, in), run_model(before, in), 1e-5f);
  return after;
}

TEST(NhwcLayout, SmallCnnKeepsOneTransposeAtTheInput) {
  // conv -> relu -> maxpool -> conv -> add (residual) -> concat -> resize -> global average
  // pool -> flatten -> gemm.
  Builder b(13);
  int x = b.input("x", Dims{1, 3, 16, 16});
  int c0 = b.node("Conv", {x, b.random("w0", {8, 3, 3, 3}, 1), b.random("b0", {8}, 2)}, "c0",
                  {{"pads", attr_ints({1, 1, 1, 1})}});
  int r0 = b.node("Relu", {c0}, "r0");
  int p0 = b.node("MaxPool", {r0}, "p0", {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}});
  int c1 = b.node("Conv", {p0, b.random("w1", {8, 8, 3, 3}, 3)}, "c1", {{"pads", attr_ints({1, 1, 1, 1})}});
  int a = b.node("Add", {c1, p0}, "a");
  int cat = b.node("Concat", {a, p0, b.random("k", {1, 2, 8, 8}, 4)}, "cat", {{"axis", attr_i(1)}});
  int rs = b.node("Resize", {cat, kNoValue, b.c("scales", {1.f, 1.f, 2.f, 2.f}, {4})}, "rs",
                  {{"mode", attr_s("linear")}});
  int gap = b.node("GlobalAveragePool", {rs}, "gap");
  int fl = b.node("Flatten", {gap}, "fl");
  int y = b.node("Gemm", {fl, b.random("wg", {18, 5}, 5)}, "y");
  Model after = run_layout(b.done({y}));
  EXPECT_EQ(count_op(after, "Transpose"), 1);  // x -> NHWC
  EXPECT_EQ(count_op(after, "NhwcConv"), 2);
  EXPECT_EQ(count_op(after, "NhwcMaxPool"), 1);
  EXPECT_EQ(count_op(after, "Conv") + count_op(after, "MaxPool") + count_op(after, "GlobalAveragePool"), 0);
  EXPECT_EQ(count_op(after, "ReduceMean"), 1);
  EXPECT_EQ(count_op(after, "Reshape"), 1);  // [1,1,1,18] -> [1,18,1,1]
  const Node* t = only_node(after, "Transpose");
  EXPECT_EQ(t->inputs[0], after.graph.inputs[0]);
  EXPECT_EQ(only_node(after, "Concat")->attr("axis")->i, 3);
}

TEST(NhwcLayout, PadSliceSplitReduceSoftmaxAndAveragePool) {
  Builder b(13);
  int x = b.input("x", Dims{2, 4, 10, 9});
  int c = b.node("Conv", {x, b.random("w", {6, 4, 3, 3}, 1)}, "c");  // [2,6,8,7]
  int pd = b.node("Pad", {c, b.constant("pads", Tensor::from_i64({0, 0, 1, 2, 0, 0, 0, 1}, {8}))}, "pd",
                  {{"mode", attr_s("reflect")}});  // [2,6,9,10]
  int sl = b.node("Slice",
                  {pd, b.constant("st", Tensor::from_i64({1, 0}, {2})), b.constant("en", Tensor::from_i64({5, 8}, {2})),
                   b.constant("ax", Tensor::from_i64({1, -1}, {2}))},
                  "sl");  // [2,4,9,8]
  auto sp = b.node("Split", {sl}, "s0", {{"axis", attr_i(1)}});
  // Split with two outputs: the builder makes one, add the second by hand.
  Value v;
  v.name = "s1";
  int s1 = b.m.add_value(v);
  b.m.graph.nodes.back().outputs.push_back(s1);
  int ap = b.node("AveragePool", {sp}, "ap",
                  {{"kernel_shape", attr_ints({3, 3})}, {"pads", attr_ints({1, 1, 1, 1})}, {"count_include_pad", attr_i(1)}});
  int sm = b.node("Softmax", {s1}, "sm", {{"axis", attr_i(1)}});
  int rm = b.node("ReduceMean", {sm}, "rm", {{"axes", attr_ints({2})}, {"keepdims", attr_i(0)}});  // [2,2,8]
  int mx = b.node("ReduceMax", {ap}, "mx", {{"axes", attr_ints({1})}, {"keepdims", attr_i(1)}});  // [2,1,9,8]
  Model after = run_layout(b.done({rm, mx}));
  EXPECT_EQ(count_op(after, "NhwcConv"), 1);
  EXPECT_EQ(count_op(after, "NhwcAveragePool"), 1);
  // One at the input, one before each output (the reduced one may be a Reshape).
  EXPECT_EQ(count_op(after, "Transpose") + count_op(after, "Reshape"), 3);
  EXPECT_EQ(only_node(after, "Softmax")->attr("axis")->i, 3);
  EXPECT_EQ(only_node(after, "Split")->attr("axis")->i, 3);
}

TEST(NhwcLayout, OpsThatNeedNchwKeepTheirTransposes) {
  Builder b(13);
  int x = b.input("x", Dims{1, 3, 6, 6});
  int z = b.input("z", Dims{1, 4, 6, 6});
  int c = b.node("Conv", {x, b.random("w", {4, 3, 1, 1}, 1)}, "c");
  int add = b.node("Add", {c, z}, "add");  // z is NCHW data: stays NCHW
  int rs = b.node("Reshape", {c, b.constant("shape", Tensor::from_i64({1, 4, 36}, {3}))}, "rs");
  // MaxPool with Indices and a 1-D Conv stay as they are.
  int mp = b.node("MaxPool", {x}, "mp", {{"kernel_shape", attr_ints({2, 2})}});
  Value v;
  v.name = "idx";
  int idx = b.m.add_value(v);
  b.m.graph.nodes.back().outputs.push_back(idx);
  int x1 = b.input("x1", Dims{1, 2, 9});
  int c1 = b.node("Conv", {x1, b.random("w1", {3, 2, 3}, 2)}, "c1");
  Model after = run_layout(b.done({add, rs, mp, idx, c1}));
  EXPECT_EQ(count_op(after, "NhwcConv"), 1);
  EXPECT_EQ(count_op(after, "Conv"), 1);
  EXPECT_EQ(count_op(after, "MaxPool"), 1);
  EXPECT_EQ(count_op(after, "Transpose"), 2);  // x in, one shared by Add and Reshape out
}

TEST(NhwcLayout, ChannelPaddingByAConstantOfShapeFillMovesAlong) {
  // BlazeFace's residual blocks widen x with Concat(x, zeros of a constant shape).
  Builder b(12);
  int x = b.input("x", Dims{1, 3, 8, 6});
  int c = b.node("Conv", {x, b.random("w", {4, 3, 3, 3}, 1)}, "c", {{"pads", attr_ints({1, 1, 1, 1})}});
  int z = b.node("ConstantOfShape", {b.constant("shape", Tensor::from_i64({1, 2, 8, 6}, {4}))}, "z");
  int cat = b.node("Concat", {c, z}, "cat", {{"axis", attr_i(1)}});
  int y = b.node("MaxPool", {cat}, "y", {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}});
  Model after = run_layout(b.done({y}));
  EXPECT_EQ(count_op(after, "Transpose"), 2);  // the input's and the output's
  EXPECT_EQ(count_op(after, "NhwcMaxPool"), 1);
  const Node* fill = only_node(after, "ConstantOfShape");
  const Tensor* shape = constant_of(after, fill->inputs[0]);
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->get_f64(1), 8);
  EXPECT_EQ(shape->get_f64(3), 2);
}

TEST(NhwcLayout, PipelineRunsItAfterFusion) {
  Builder b(13);
  int x = b.input("x", Dims{1, 3, 8, 8});
  int conv = b.node("Conv", {x, b.random("w", {4, 3, 3, 3}, 1)}, "conv", {{"pads", attr_ints({1, 1, 1, 1})}});
  int bn = b.node("BatchNormalization",
                  {conv, b.random("s", {4}, 2, 0.5f, 1.5f), b.random("bb", {4}, 3), b.random("m", {4}, 4),
                   b.random("v", {4}, 5, 0.5f, 1.5f)},
                  "bn");
  int r = b.node("Relu", {bn}, "r");
  int y = b.node("Conv", {r, b.random("w2", {2, 4, 1, 1}, 6)}, "y");
  Model before = b.done({y});
  Model after = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(after, {}, &reports).ok());
  EXPECT_EQ(count_op(after, "Transpose"), 2);
  EXPECT_EQ(count_op(after, "NhwcConv"), 2);
  bool fused = false;
  for (const Node& n : after.graph.nodes)
    if (n.op_type == ext::kNhwcConv && n.attr(ext::kActivation)) fused = n.attr(ext::kActivation)->s == "Relu";
  EXPECT_TRUE(fused);
  const TensorMap in = random_inputs(before, 3);
  expect_same(run_model(after, in), run_model(before, in));
  std::string text;
  for (const PassReport& rep : reports) text += describe(rep) + "\n";
  EXPECT_NE(text.find("nhwc_layout:"), std::string::npos) << text;
  // And it can be skipped.
  Model plain = before;
  ASSERT_TRUE(optimize(plain, {.skip = {"nhwc_layout"}}).ok());
  EXPECT_EQ(count_op(plain, "Transpose"), 0);
}

}  // namespace
}  // namespace kiln
