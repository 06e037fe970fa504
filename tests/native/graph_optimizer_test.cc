// Graph optimizer passes (src/graph/passes), part 1: identity elimination, BatchNorm
// folding, activation fusion (with the .kiln round trip of the kiln.* attributes),
// Mul+Add fusion, Affine folding into a Conv and hard-swish recognition. Each test builds a small graph, runs one
// pass, checks the structure and checks numerically against the original graph.
#include "graph/kiln_extensions.h"
#include "graph_optimizer_util.h"

namespace kiln {
namespace {

using namespace opt_test;  // NOLINT

TEST(EliminateIdentity, RemovesPassThroughNodesKeepsOutputName) {
  Builder b;
  int x = b.input("x", Dims{2, 3});
  int i1 = b.node("Identity", {x}, "i1");
  int r = b.node("Relu", {i1}, "r");
  int d = b.node("Dropout", {r}, "d");
  int m1 = b.node("Mul", {d, b.scalar("one", 1.f)}, "m1");
  int t = b.node("Transpose", {m1}, "t", {{"perm", attr_ints({0, 1})}});
  int cast = b.node("Cast", {t}, "cast", {{"to", attr_i(1)}});
  int rs = b.node("Reshape", {cast, b.constant("shape", Tensor::from_i64({2, 3}, {2}))}, "rs");
  int y = b.node("Add", {b.c("zeros", {0, 0, 0}, {3}), rs}, "y");
  Model before = b.done({y});
  Model after = check_pass(before, "eliminate_identity", 7);
  ASSERT_EQ(after.graph.nodes.size(), 1u);
  EXPECT_EQ(after.graph.nodes[0].op_type, "Relu");
  EXPECT_EQ(after.values[after.graph.nodes[0].outputs[0]].name, "y");  // renamed producer
}

TEST(EliminateIdentity, KeepsWhatChangesValuesOrShapes) {
  Builder b;
  int x = b.input("x", Dims{2, 3});
  int m2 = b.node("Mul", {x, b.scalar("two", 2.f)}, "m2");           // not 1
  int grow = b.node("Add", {m2, b.c("z", std::vector<float>(6, 0.f), {2, 2, 3})}, "grow");  // broadcasts to [2,2,3]
  int t = b.node("Transpose", {grow}, "t", {{"perm", attr_ints({0, 2, 1})}});
  int y = b.node("Identity", {x}, "y");  // graph input -> graph output: must stay
  Model before = b.done({t, y});
  Model after = check_pass(before, "eliminate_identity", 0);
  EXPECT_EQ(after.graph.nodes.size(), 4u);
}

TEST(FoldBatchnorm, IntoConvConvTransposeAndGemm) {
  Builder b;
  int x = b.input("x", Dims{2, 4, 6, 5});
  auto bn = [&](int in, int64_t c, const std::string& name, uint32_t seed) {
    return b.node("BatchNormalization",
                  {in, b.random(name + "_s", {c}, seed, 0.5f, 1.5f), b.random(name + "_b", {c}, seed + 1),
                   b.random(name + "_m", {c}, seed + 2), b.random(name + "_v", {c}, seed + 3, 0.1f, 2.f)},
                  name, {{"epsilon", attr_f(1e-3f)}});
  };
  int conv = b.node("Conv", {x, b.random("w1", {6, 2, 3, 3}, 1), b.random("b1", {6}, 2)}, "conv",
                    {{"group", attr_i(2)}, {"pads", attr_ints({1, 1, 1, 1})}});
  int y1 = bn(conv, 6, "bn1", 10);
  int ct = b.node("ConvTranspose", {y1, b.random("w2", {6, 2, 2, 2}, 3)}, "ct",
                  {{"group", attr_i(3)}, {"strides", attr_ints({2, 2})}});
  int y2 = bn(ct, 6, "bn2", 20);
  int g_in = b.input("g", Dims{3, 5});
  int gemm = b.node("Gemm", {g_in, b.random("w3", {4, 5}, 4), b.random("c3", {4}, 5)}, "gemm",
                    {{"transB", attr_i(1)}, {"alpha", attr_f(0.5f)}, {"beta", attr_f(2.f)}});
  int y3 = bn(gemm, 4, "bn3", 30);
  Model before = b.done({y2, y3});
  Model after = check_pass(before, "fold_batchnorm", 3);
  EXPECT_EQ(count_op(after, "BatchNormalization"), 0);
  EXPECT_EQ(after.graph.nodes.size(), 3u);
  EXPECT_FALSE(only_node(after, "Gemm")->has_attr("alpha"));
}

TEST(FoldBatchnorm, NotWhenTheProducerHasOtherReaders) {
  Builder b;
  int x = b.input("x", Dims{1, 2, 4, 4});
  int conv = b.node("Conv", {x, b.random("w", {2, 2, 1, 1}, 1)}, "conv");
  int bn = b.node("BatchNormalization",
                  {conv, b.c("s", {1, 2}, {2}), b.c("bb", {0, 1}, {2}), b.c("m", {0, 0}, {2}), b.c("v", {1, 1}, {2})},
                  "bn");
  int y = b.node("Add", {bn, conv}, "y");
  Model after = check_pass(b.done({y}), "fold_batchnorm", 0);
  EXPECT_EQ(count_op(after, "BatchNormalization"), 1);
}

TEST(FuseActivation, EveryKindIntoEveryProducer) {
  Builder b(13);
  int x = b.input("x", Dims{1, 3, 5, 5});
  int c1 = b.node("Conv", {x, b.random("w1", {4, 3, 3, 3}, 1), b.random("b1", {4}, 2)}, "c1");
  int a1 = b.node("Relu", {c1}, "a1");
  int c2 = b.node("Conv", {a1, b.random("w2", {4, 4, 1, 1}, 3)}, "c2");
  int a2 = b.node("HardSigmoid", {c2}, "a2", {{"alpha", attr_f(0.3f)}, {"beta", attr_f(0.4f)}});
  int c3 = b.node("ConvTranspose", {a2, b.random("w3", {4, 2, 2, 2}, 4)}, "c3");
  int a3 = b.node("LeakyRelu", {c3}, "a3", {{"alpha", attr_f(0.2f)}});
  int c4 = b.node("Conv", {a3, b.random("w4", {2, 1, 1, 1}, 5)}, "c4", {{"group", attr_i(2)}});
  int a4 = b.node("HardSwish", {c4}, "a4");
  int c5 = b.node("Conv", {a4, b.random("w5", {2, 2, 1, 1}, 6)}, "c5");
  int a5 = b.node("Sigmoid", {c5}, "a5");
  int g = b.input("g", Dims{4, 6});
  int gm = b.node("Gemm", {g, b.random("w6", {6, 3}, 7)}, "gm");
  int a6 = b.node("Clip", {gm, b.scalar("lo", -0.5f), b.scalar("hi", 0.25f)}, "a6");
  int mm = b.node("MatMul", {a6, b.random("w7", {3, 5}, 8)}, "mm");
  int a7 = b.node("Tanh", {mm}, "a7");
  Model before = b.done({a5, a7});
  Model after = check_pass(before, "fuse_activation", 7, 3, -3.f, 3.f);
  EXPECT_EQ(after.graph.nodes.size(), 7u);
  for (const Node& n : after.graph.nodes) EXPECT_TRUE(n.has_attr(ext::kActivation)) << n.describe();
  const Node* gemm = only_node(after, "Gemm");
  EXPECT_EQ(gemm->attr(ext::kActivation)->s, "Clip");
  EXPECT_EQ(gemm->attr(ext::kActivationAlpha)->f, -0.5f);
  EXPECT_EQ(gemm->attr(ext::kActivationBeta)->f, 0.25f);

  // The attributes survive the .kiln format and load as the same computation.
  auto bytes = write_model(after);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto shared = std::make_shared<const std::vector<uint8_t>>(std::move(bytes).value());
  auto loaded = read_model(shared);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  const Node* lg = only_node(*loaded, "Gemm");
  EXPECT_EQ(lg->attr(ext::kActivation)->s, "Clip");
  EXPECT_EQ(lg->attr(ext::kActivationBeta)->f, 0.25f);
  const TensorMap in = random_inputs(before, 11, -3.f, 3.f);
  expect_same(run_model(*loaded, in), run_model(before, in));
}

TEST(FuseActivation, NotIntoProducersWithOtherReadersOrOtherOps) {
  Builder b;
  int x = b.input("x", Dims{1, 2, 3, 3});
  int conv = b.node("Conv", {x, b.random("w", {2, 2, 1, 1}, 1)}, "conv");
  int r = b.node("Relu", {conv}, "r");
  int y = b.node("Add", {r, conv}, "y");  // conv read twice
  int p = b.node("MaxPool", {y}, "p", {{"kernel_shape", attr_ints({2, 2})}});
  int s = b.node("Sigmoid", {p}, "s");  // MaxPool cannot take an activation
  Model after = check_pass(b.done({s}), "fuse_activation", 0);
  EXPECT_EQ(after.graph.nodes.size(), 5u);
}

TEST(FuseActivation, IntoFloatAddButNotIntegerAdd) {
  Builder b;
  int x = b.input("x", Shape{Dim{1, ""}, Dim{2, ""}, Dim{-1, "h"}, Dim{3, ""}});  // rank known, type proven by Conv
  int conv = b.node("Conv", {x, b.random("w", {2, 2, 1, 1}, 1)}, "conv");
  int sum = b.node("Add", {x, conv}, "sum");
  int y = b.node("Relu", {sum}, "y");
  int i = b.input("i", shape_from_dims({4}), DType::kI64);
  int j = b.node("Add", {i, b.constant("k", Tensor::from_i64({-3, 0, 3, 5}, {4}))}, "j");
  int z = b.node("Relu", {j}, "z");
  Model before = b.done({y, z});
  Model after = before;
  auto rep = run_pass(after, "fuse_activation");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1) << describe(*rep);
  EXPECT_EQ(count_op(after, "Relu"), 1);  // the int64 one
  TensorMap in = {{"x", random_tensor({1, 2, 4, 3}, 3)}, {"i", Tensor::from_i64({1, -2, -5, 0}, {4})}};
  expect_same(run_model(after, in), run_model(before, in));
}

TEST(FuseActivation, SwishFromSigmoidAndMul) {
  Builder b;
  int x = b.input("x", Dims{1, 3, 4, 4});
  int conv = b.node("Conv", {x, b.random("w", {4, 3, 1, 1}, 1)}, "conv");
  int s1 = b.node("Sigmoid", {conv}, "s1");
  int y1 = b.node("Mul", {conv, s1}, "y1");
  int g = b.input("g", Dims{2, 5, 4});
  int mm = b.node("MatMul", {g, b.random("w2", {4, 3}, 2)}, "mm");
  int s2 = b.node("Sigmoid", {mm}, "s2");
  int y2 = b.node("Mul", {s2, mm}, "y2");
  int z = b.node("Add", {y2, mm}, "z");  // mm read a third time: no Swish, and not a plain Sigmoid either
  Model after = check_pass(b.done({y1, z}), "fuse_activation", 1, 4, -6.f, 6.f);
  EXPECT_EQ(only_node(after, "Conv")->attr(ext::kActivation)->s, "Swish");
  EXPECT_EQ(count_op(after, "Sigmoid"), 1);
}

TEST(FuseActivation, UnknownFusedActivationIsAModelError) {
  Builder b;
  int x = b.input("x", Dims{1, 2, 3, 3});
  Attribute bad;
  bad.kind = Attribute::Kind::kString;
  bad.s = "Swoosh";
  int y = b.node("Conv", {x, b.random("w", {2, 2, 1, 1}, 1)}, "y", {{ext::kActivation, bad}});
  b.m.graph.outputs = {y};
  auto s = Session::create(b.m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("Swoosh"), std::string::npos) << s.status().message();
}

TEST(FuseMulAdd, PerChannelFoldsIntoConvAndGemmOtherwiseAffine) {
  Builder b;
  int x = b.input("x", Dims{2, 3, 4, 4});
  int conv = b.node("Conv", {x, b.random("w", {5, 3, 3, 3}, 1), b.random("cb", {5}, 2)}, "conv");
  int m1 = b.node("Mul", {b.random("s1", {5, 1, 1}, 3), conv}, "m1");
  int y1 = b.node("Add", {m1, b.random("t1", {1, 5, 1, 1}, 4)}, "y1");
  int g = b.input("g", Dims{3, 4});
  int gemm = b.node("Gemm", {g, b.random("gw", {4, 6}, 5)}, "gemm");
  int m2 = b.node("Div", {gemm, b.scalar("d2", 4.f)}, "m2");
  int y2 = b.node("Sub", {m2, b.random("t2", {6}, 6)}, "y2");
  int z = b.input("z", Dims{2, 3, 4});
  int m3 = b.node("Mul", {z, b.random("s3", {3, 1}, 7)}, "m3");  // no weighted producer: Affine
  int y3 = b.node("Add", {b.random("t3", {4}, 8), m3}, "y3");
  Model before = b.done({y1, y2, y3});
  Model after = check_pass(before, "fuse_mul_add", 3);
  EXPECT_EQ(count_op(after, "Mul") + count_op(after, "Add") + count_op(after, "Div") + count_op(after, "Sub"), 0);
  const Node* affine = only_node(after, ext::kAffine);
  EXPECT_EQ(affine->domain, ext::kDomain);
  EXPECT_EQ(after.graph.nodes.size(), 3u);
}

TEST(FuseMulAdd, ScaleThatIsNotPerChannelBecomesAffine) {
  Builder b;
  int x = b.input("x", Dims{1, 2, 3, 3});
  int conv = b.node("Conv", {x, b.random("w", {2, 2, 1, 1}, 1)}, "conv");
  int m = b.node("Mul", {conv, b.random("s", {3, 1}, 2)}, "m");  // varies along H
  int y = b.node("Add", {m, b.scalar("t", 0.5f)}, "y");
  Model after = check_pass(b.done({y}), "fuse_mul_add", 1);
  EXPECT_EQ(count_op(after, ext::kAffine), 1);
  EXPECT_EQ(count_op(after, "Conv"), 1);
}

// An Affine node as fuse_mul_add writes it.
int affine(Builder& b, int x, int s, int t, const std::string& name) {
  int y = b.node(ext::kAffine, {x, s, t}, name);
  b.m.graph.nodes.back().domain = ext::kDomain;
  return y;
}

TEST(FoldAffineIntoConv, ScaleAndBiasWithoutPaddingScaleOnlyWithPadding) {
  Builder b;
  int x = b.input("x", Dims{1, 4, 5, 5});
  int a1 = affine(b, x, b.random("s1", {1, 4, 1, 1}, 1), b.random("t1", {4, 1, 1}, 2), "a1");
  int c1 = b.node("Conv", {a1, b.random("w1", {6, 2, 1, 1}, 3), b.random("b1", {6}, 4)}, "c1", {{"group", attr_i(2)}});
  int a2 = affine(b, c1, b.scalar("s2", 0.75f), b.c("t2", {0.f}, {1}), "a2");  // scale only
  int c2 = b.node("Conv", {a2, b.random("w2", {3, 6, 3, 3}, 5)}, "c2", {{"pads", attr_ints({1, 1, 1, 1})}});
  int a3 = affine(b, c2, b.scalar("s3", 0.5f), b.scalar("t3", 0.25f), "a3");  // bias + padding: stays
  int y = b.node("Conv", {a3, b.random("w3", {2, 3, 3, 3}, 6)}, "y", {{"pads", attr_ints({1, 1, 1, 1})}});
  Model after = check_pass(b.done({y}), "fold_affine_into_conv", 2);
  EXPECT_EQ(count_op(after, ext::kAffine), 1);
  EXPECT_EQ(count_op(after, "Conv"), 3);
}

TEST(FuseHardSwish, PaddleDecompositionBecomesHardSwish) {
  Builder b(9);
  int x = b.input("x", Dims{2, 3, 4, 5});
  int a = b.node("Add", {x, b.scalar("three", 3.f)}, "a");
  int c = b.node("Clip", {a}, "c", {{"min", attr_f(0.f)}, {"max", attr_f(6.f)}});
  int m = b.node("Mul", {x, c}, "m");
  int y = b.node("Div", {m, b.scalar("six", 6.f)}, "y");
  Model after = check_pass(b.done({y}), "fuse_hard_swish", 1, 5, -6.f, 6.f);
  ASSERT_EQ(after.graph.nodes.size(), 1u);
  EXPECT_EQ(after.graph.nodes[0].op_type, "HardSwish");
}

TEST(FuseHardSwish, OtherBoundsAreNotHardSwish) {
  Builder b(13);
  int x = b.input("x", Dims{4, 5});
  int a = b.node("Add", {x, b.scalar("three", 3.f)}, "a");
  int c = b.node("Clip", {a, b.scalar("lo", 0.f), b.scalar("hi", 5.f)}, "c");
  int m = b.node("Mul", {x, c}, "m");
  int y = b.node("Div", {m, b.scalar("six", 6.f)}, "y");
  check_pass(b.done({y}), "fuse_hard_swish", 0, 5, -6.f, 6.f);
}

}  // namespace
}  // namespace kiln
