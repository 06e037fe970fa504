// Elementwise ops through the Op interface: broadcasting binary/variadic ops, unary math,
// activations, Clip (both forms), Cast, Where, and their error cases.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "ops/fast_math.h"
#include "ops_tensor_testing.h"

namespace kiln::testing {
namespace {

// Reference: z[i] = f(a[ia], b[ib]) with numpy broadcasting done by index arithmetic.
template <class F>
std::vector<float> ref_binary(const std::vector<float>& a, const Dims& da, const std::vector<float>& b, const Dims& db,
                              const Dims& dout, F f) {
  std::vector<float> r(static_cast<size_t>(num_elements(dout)));
  for (size_t i = 0; i < r.size(); ++i) {
    auto idx = unravel(static_cast<int64_t>(i), dout);
    r[i] = f(a[static_cast<size_t>(broadcast_offset(idx, da))], b[static_cast<size_t>(broadcast_offset(idx, db))]);
  }
  return r;
}

struct BroadcastCase {
  Dims a, b, out;
};

TEST(OpsElementwise, AddSubMulDivBroadcastMatchesReference) {
  const BroadcastCase cases[] = {
      {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}, {2, 3, 4}},       {{2, 3, 4}, {3, 1}, {2, 3, 4}},
      {{1, 3, 1, 5}, {2, 1, 4, 1}, {2, 3, 4, 5}}, {{}, {2, 3}, {2, 3}},     {{2, 3}, {}, {2, 3}},
      {{1, 8, 1, 1}, {2, 8, 3, 3}, {2, 8, 3, 3}}, {{5, 1}, {1, 7}, {5, 7}}, {{0, 3}, {1, 3}, {0, 3}},
  };
  struct Op2 {
    const char* name;
    float (*f)(float, float);
  };
  const Op2 ops[] = {{"Add", [](float x, float y) { return x + y; }},
                     {"Sub", [](float x, float y) { return x - y; }},
                     {"Mul", [](float x, float y) { return x * y; }},
                     {"Div", [](float x, float y) { return x / y; }}};
  uint32_t seed = 1;
  for (const auto& c : cases)
    for (const auto& op : ops) {
      auto a = random_floats(static_cast<size_t>(num_elements(c.a)), seed++);
      auto b = random_floats(static_cast<size_t>(num_elements(c.b)), seed++);
      for (auto& x : b) x += (x >= 0 ? 0.5f : -0.5f);  // keep divisors away from 0
      Tensor y = OpTester(op.name, 14).input(f32(a, c.a)).input(f32(b, c.b)).run1();
      SCOPED_TRACE(std::string(op.name) + " " + dims_to_string(c.a) + " " + dims_to_string(c.b));
      ASSERT_EQ(y.dims(), c.out);
      expect_near_all(y, ref_binary(a, c.a, b, c.b, c.out, op.f));
    }
}

TEST(OpsElementwise, Int64ArithmeticForShapeMath) {
  Tensor y = OpTester("Mul").input(i64({2, 3, 4}, {3})).input(i64s(-5)).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{-10, -15, -20}));
  y = OpTester("Add").input(i64({1, 2}, {2, 1})).input(i64({10, 20, 30}, {3})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{11, 21, 31, 12, 22, 32}));
  // Integer Div truncates toward zero; division by zero gives 0 instead of trapping.
  y = OpTester("Div").input(i64({7, -7, 7, 5, std::numeric_limits<int64_t>::min()}, {5}))
          .input(i64({2, 2, -2, 0, -1}, {5}))
          .run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{3, -3, -3, 0, std::numeric_limits<int64_t>::min()}));
  y = OpTester("Sub").input(i32({5, 6}, {2})).input(i32({1}, {1})).run1();
  ASSERT_EQ(y.dtype(), DType::kI32);
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{4, 5}));
}

TEST(OpsElementwise, ModIntegerAndFmod) {
  Tensor y = OpTester("Mod").input(i64({-4, 7, 5, -9}, {4})).input(i64({3, -3, 0, -4}, {4})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{2, -2, 0, -1}));  // sign of the divisor
  y = OpTester("Mod").attr("fmod", 1).input(i64({-4, 7}, {2})).input(i64({3, -3}, {2})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{-1, 1}));  // sign of the dividend
  y = OpTester("Mod").attr("fmod", 1).input(f32({-4.5f, 7.5f}, {2})).input(f32s(2.f)).run1();
  expect_near_all(y, {-0.5f, 1.5f});
  EXPECT_FALSE(OpTester("Mod").input(f32({1.f}, {1})).input(f32({1.f}, {1})).run().ok());  // fmod=0 on floats
}

TEST(OpsElementwise, PowFastPathsAndMixedTypes) {
  auto x = random_floats(24, 7);
  for (auto& v : x) v = std::fabs(v) + 0.1f;
  for (float e : {2.f, 0.5f, 3.f, -1.5f}) {
    Tensor y = OpTester("Pow", 9).input(f32(x, {2, 3, 4})).constant(f32s(e)).run1();
    std::vector<float> want;
    for (float v : x) want.push_back(std::pow(v, e));
    SCOPED_TRACE(e);
    expect_near_all(y, want);
  }
  // Broadcast exponent along the last axis.
  Tensor y = OpTester("Pow").input(f32({2, 3}, {2, 1})).input(f32({0, 1, 2}, {3})).run1();
  expect_near_all(y, {1, 2, 4, 1, 3, 9});
  // float base, int64 exponent (opset 12+) and integer base.
  y = OpTester("Pow", 13).input(f32({2, -3}, {2})).input(i64({3, 2}, {2})).run1();
  expect_near_all(y, {8, 9});
  y = OpTester("Pow", 13).input(i64({2, -3, 5}, {3})).input(i64({10, 3, 0}, {3})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1024, -27, 1}));
}

TEST(OpsElementwise, VariadicMaxMinSumMean) {
  Tensor a = f32({1, 5, 3}, {3}), b = f32({4, 2}, {2, 1}), c = f32s(2.5f);
  Tensor y = OpTester("Max").input(a).input(b).input(c).run1();
  ASSERT_EQ(y.dims(), (Dims{2, 3}));
  expect_near_all(y, {4, 5, 4, 2.5f, 5, 3});
  y = OpTester("Min").input(a).input(b).input(c).run1();
  expect_near_all(y, {1, 2.5f, 2.5f, 1, 2, 2});
  y = OpTester("Sum").input(a).input(b).input(c).run1();
  expect_near_all(y, {7.5f, 11.5f, 9.5f, 5.5f, 9.5f, 7.5f});
  y = OpTester("Mean").input(a).input(b).input(c).run1();
  expect_near_all(y, {2.5f, 11.5f / 3, 9.5f / 3, 5.5f / 3, 9.5f / 3, 2.5f});
  y = OpTester("Max").input(a).run1();  // one input: a copy
  expect_near_all(y, {1, 5, 3});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  y = OpTester("Max").input(f32({nan, 1}, {2})).input(f32({0, nan}, {2})).run1();
  EXPECT_TRUE(std::isnan(y.data<float>()[0]) && std::isnan(y.data<float>()[1]));
  y = OpTester("Max").input(i64({3, -9}, {2})).input(i64({-1, 4}, {2})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{3, 4}));
}

TEST(OpsElementwise, ComparisonsProduceBool) {
  Tensor y = OpTester("Equal").input(i64({1, 2, 3}, {3})).input(i64s(2)).run1();
  ASSERT_EQ(y.dtype(), DType::kBool);
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0, 1, 0}));
  Tensor a = f32({1, 2, 3}, {3}), b = f32({2}, {1});
  EXPECT_EQ(values<uint8_t>(OpTester("Less").input(a).input(b).run1()), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(OpTester("LessOrEqual").input(a).input(b).run1()), (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(values<uint8_t>(OpTester("Greater").input(a).input(b).run1()), (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(values<uint8_t>(OpTester("GreaterOrEqual").input(a).input(b).run1()), (std::vector<uint8_t>{0, 1, 1}));
  y = OpTester("Equal").input(boolean({1, 0}, {2})).input(boolean({1, 1}, {2})).run1();
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{1, 0}));
  // Broadcast to [2,2].
  y = OpTester("Greater").input(i32({1, 5}, {2, 1})).input(i32({2, 4}, {2})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(OpsElementwise, LogicOps) {
  Tensor a = boolean({0, 0, 1, 1}, {4}), b = boolean({0, 1, 0, 1}, {4});
  EXPECT_EQ(values<uint8_t>(OpTester("And").input(a).input(b).run1()), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(values<uint8_t>(OpTester("Or").input(a).input(b).run1()), (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(values<uint8_t>(OpTester("Xor").input(a).input(b).run1()), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(values<uint8_t>(OpTester("Not").input(a).run1()), (std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_FALSE(OpTester("And").input(f32({1}, {1})).input(f32({1}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Not").input(f32({1}, {1})).run().ok());
}

TEST(OpsElementwise, WhereBroadcastsThreeWays) {
  Tensor c = boolean({1, 0, 1}, {3});
  Tensor x = i64({10, 20}, {2, 1});
  Tensor y = i64s(-1);
  Tensor z = OpTester("Where").input(c).input(x).input(y).run1();
  ASSERT_EQ(z.dims(), (Dims{2, 3}));
  EXPECT_EQ(values<int64_t>(z), (std::vector<int64_t>{10, -1, 10, 20, -1, 20}));
  z = OpTester("Where").input(boolean({0, 1}, {2})).input(f32({1, 2}, {2})).input(f32({3, 4}, {2})).run1();
  expect_near_all(z, {3, 2});
  EXPECT_FALSE(OpTester("Where").input(f32({1}, {1})).input(x).input(y).run().ok());  // condition not bool
  EXPECT_FALSE(OpTester("Where").input(c).input(x).input(f32s(1)).run().ok());         // X/Y dtype mismatch
}

TEST(OpsElementwise, PReluSlopeBroadcastsPerChannel) {
  Tensor x = f32({-1, 2, -3, 4, -5, 6, -7, 8}, {1, 2, 2, 2});
  Tensor y = OpTester("PRelu").input(x).input(f32({0.5f, 0.25f}, {2, 1, 1})).run1();
  expect_near_all(y, {-0.5f, 2, -1.5f, 4, -1.25f, 6, -1.75f, 8});
  EXPECT_FALSE(OpTester("PRelu").input(f32({1, 2}, {2})).input(f32({1, 2, 3, 4}, {2, 2})).run().ok());
}

TEST(OpsElementwise, BinaryErrors) {
  auto r = OpTester("Add").input(f32({1, 2, 3}, {3})).input(f32({1, 2}, {2})).run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot be broadcast"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("node 'n0' (Add)"), std::string::npos) << r.status().message();
  r = OpTester("Add").input(f32({1}, {1})).input(i64({1}, {1})).run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dtypes must match"), std::string::npos);
  EXPECT_FALSE(OpTester("Add").input(boolean({1}, {1})).input(boolean({1}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Add").input(f32({1}, {1})).create().ok());  // one input
  // Output counts are checked at creation, so infer never indexes a missing output.
  EXPECT_FALSE(OpTester("Add").outputs(2).input(f32({1}, {1})).input(f32({1}, {1})).create().ok());
  EXPECT_FALSE(OpTester("Relu").outputs(0).input(f32({1}, {1})).create().ok());
  EXPECT_FALSE(OpTester("Transpose").outputs(0).input(f32({1}, {1})).create().ok());
  EXPECT_FALSE(OpTester("Clip", 13).outputs(2).input(f32({1}, {1})).create().ok());
}

// --- unary ---

TEST(OpsElementwise, UnaryMathMatchesStd) {
  const std::vector<float> x = {-2.5f, -0.5f, 0.f, 0.3f, 1.5f, 2.5f};
  const std::vector<float> pos = {0.1f, 0.5f, 1.f, 2.f, 7.f, 100.f};
  struct U {
    const char* name;
    double (*f)(double);
    bool positive;
  };
  const U ops[] = {
      {"Abs", [](double v) { return std::fabs(v); }, false},
      {"Neg", [](double v) { return -v; }, false},
      {"Exp", [](double v) { return std::exp(v); }, false},
      {"Log", [](double v) { return std::log(v); }, true},
      {"Sqrt", [](double v) { return std::sqrt(v); }, true},
      {"Reciprocal", [](double v) { return 1 / v; }, true},
      {"Floor", [](double v) { return std::floor(v); }, false},
      {"Ceil", [](double v) { return std::ceil(v); }, false},
      {"Sin", [](double v) { return std::sin(v); }, false},
      {"Cos", [](double v) { return std::cos(v); }, false},
      {"Tanh", [](double v) { return std::tanh(v); }, false},
      {"Sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }, false},
      {"Erf", [](double v) { return std::erf(v); }, false},
      {"Sign", [](double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }, false},
      {"Softplus", [](double v) { return std::log(1 + std::exp(v)); }, false},
      {"Softsign", [](double v) { return v / (1 + std::fabs(v)); }, false},
      {"HardSwish", [](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); }, false},
      {"Relu", [](double v) { return v > 0 ? v : 0; }, false},
  };
  for (const U& u : ops) {
    const auto& in = u.positive ? pos : x;
    std::vector<float> want;
    for (float v : in) want.push_back(static_cast<float>(u.f(v)));
    SCOPED_TRACE(u.name);
    expect_near_all(OpTester(u.name).input(f32(in, {2, 3})).run1(), want);
  }
}

TEST(OpsElementwise, RoundIsHalfToEven) {
  Tensor y = OpTester("Round").input(f32({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, -2.6f}, {7})).run1();
  expect_near_all(y, {0, 2, 2, -0, -2, 2, -3});
}

TEST(OpsElementwise, SoftplusDoesNotOverflow) {
  Tensor y = OpTester("Softplus").input(f32({100.f, -100.f}, {2})).run1();
  expect_near_all(y, {100.f, std::exp(-100.f)});
}

TEST(OpsElementwise, IntegerUnary) {
  EXPECT_EQ(values<int64_t>(OpTester("Abs").input(i64({-3, 4}, {2})).run1()), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(values<int64_t>(OpTester("Neg").input(i64({-3, 4}, {2})).run1()), (std::vector<int64_t>{3, -4}));
  EXPECT_EQ(values<int32_t>(OpTester("Relu").input(i32({-3, 4}, {2})).run1()), (std::vector<int32_t>{0, 4}));
  EXPECT_EQ(values<int32_t>(OpTester("Sign").input(i32({-3, 0, 4}, {3})).run1()), (std::vector<int32_t>{-1, 0, 1}));
  auto r = OpTester("Exp").input(i64({1}, {1})).run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("int64"), std::string::npos);
}

TEST(OpsElementwise, ParameterizedActivations) {
  const std::vector<float> x = {-2.f, -0.5f, 0.f, 0.5f, 3.f};
  auto map = [&](auto f) {
    std::vector<float> r;
    for (float v : x) r.push_back(static_cast<float>(f(static_cast<double>(v))));
    return r;
  };
  expect_near_all(OpTester("LeakyRelu").attr("alpha", 0.1f).input(f32(x, {5})).run1(),
                  map([](double v) { return v < 0 ? 0.1 * v : v; }));
  expect_near_all(OpTester("LeakyRelu").input(f32(x, {5})).run1(), map([](double v) { return v < 0 ? 0.01 * v : v; }));
  expect_near_all(OpTester("Elu").attr("alpha", 2.f).input(f32(x, {5})).run1(),
                  map([](double v) { return v < 0 ? 2 * (std::exp(v) - 1) : v; }));
  const double sa = 1.67326319217681884765625, sg = 1.05070102214813232421875;
  expect_near_all(OpTester("Selu").input(f32(x, {5})).run1(),
                  map([&](double v) { return sg * (v > 0 ? v : sa * (std::exp(v) - 1)); }));
  expect_near_all(OpTester("HardSigmoid").input(f32(x, {5})).run1(),
                  map([](double v) { return std::clamp(0.2 * v + 0.5, 0.0, 1.0); }));
  expect_near_all(OpTester("HardSigmoid", 9).attr("alpha", 0.1666667f).attr("beta", 0.5f).input(f32(x, {5})).run1(),
                  map([](double v) { return std::clamp(0.1666667 * v + 0.5, 0.0, 1.0); }));
  expect_near_all(OpTester("Gelu", 20).input(f32(x, {5})).run1(),
                  map([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }));
  expect_near_all(OpTester("Gelu", 20).attr("approximate", "tanh").input(f32(x, {5})).run1(),
                  map([](double v) {
                    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v)));
                  }));
  EXPECT_FALSE(OpTester("Gelu", 20).attr("approximate", "fast").input(f32(x, {5})).create().ok());
}

TEST(OpsElementwise, ClipAttributeFormOpset9) {
  Tensor y = OpTester("Clip", 9).attr("min", 0.f).attr("max", 6.f).input(f32({-1, 3, 7, 6}, {2, 2})).run1();
  expect_near_all(y, {0, 3, 6, 6});
  y = OpTester("Clip", 9).attr("max", 1.f).input(f32({-100, 3}, {2})).run1();
  expect_near_all(y, {-100, 1});
  EXPECT_FALSE(OpTester("Clip", 9).input(f32({1}, {1})).input(f32s(0)).create().ok());  // inputs not allowed
}

TEST(OpsElementwise, ClipInputFormOpset11) {
  Tensor x = f32({-1, 3, 7, 6}, {4});
  expect_near_all(OpTester("Clip", 11).input(x).constant(f32s(0)).constant(f32s(6)).run1(), {0, 3, 6, 6});
  expect_near_all(OpTester("Clip", 11).input(x).missing().constant(f32s(5)).run1(), {-1, 3, 5, 5});
  expect_near_all(OpTester("Clip", 11).input(x).constant(f32s(2)).run1(), {2, 3, 7, 6});
  expect_near_all(OpTester("Clip", 11).input(x).run1(), {-1, 3, 7, 6});
  // min > max gives max everywhere.
  expect_near_all(OpTester("Clip", 13).input(x).input(f32s(4)).input(f32s(1)).run1(), {1, 1, 1, 1});
  Tensor y = OpTester("Clip", 13).input(i64({-5, 5, 50}, {3})).input(i64s(0)).input(i64s(10)).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 5, 10}));
  EXPECT_FALSE(OpTester("Clip", 13).input(x).input(i64s(0)).run().ok());           // dtype mismatch
  EXPECT_FALSE(OpTester("Clip", 13).input(x).input(f32({0, 1}, {2})).run().ok());  // not a scalar
}

TEST(OpsElementwise, CastBetweenTypes) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor y = OpTester("Cast").attr("to", 6).input(f32({2.7f, -2.7f, 0.f, 1e20f, nan}, {5})).run1();
  ASSERT_EQ(y.dtype(), DType::kI32);
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{2, -2, 0, std::numeric_limits<int32_t>::max(), 0}));
  y = OpTester("Cast").attr("to", 7).input(f32({3.9f, -3.9f}, {2})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{3, -3}));
  y = OpTester("Cast").attr("to", 1).input(i64({5, -7}, {2})).run1();
  expect_near_all(y, {5, -7});
  y = OpTester("Cast").attr("to", 9).input(f32({0.f, -0.f, 0.1f, nan}, {4})).run1();
  ASSERT_EQ(y.dtype(), DType::kBool);
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{0, 0, 1, 1}));
  y = OpTester("Cast").attr("to", 1).input(boolean({1, 0}, {2})).run1();
  expect_near_all(y, {1, 0});
  // float -> float16 -> float rounds to 11 significant bits.
  Tensor h = OpTester("Cast").attr("to", 10).input(f32({1.f, 0.1f, 65504.f}, {3})).run1();
  ASSERT_EQ(h.dtype(), DType::kF16);
  EXPECT_EQ(h.data<uint16_t>()[0], 0x3c00);
  Tensor back = OpTester("Cast").attr("to", 1).input(h).run1();
  expect_near_all(back, {1.f, 0.0999755859375f, 65504.f});
  y = OpTester("Cast").attr("to", 2).input(i64({300, -1}, {2})).run1();  // wraps like C
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{44, 255}));
  y = OpTester("CastLike", 15).input(i32({4}, {1})).input(f64({0}, {1})).run1();
  ASSERT_EQ(y.dtype(), DType::kF64);
  EXPECT_EQ(y.data<double>()[0], 4.0);
  EXPECT_FALSE(OpTester("Cast").attr("to", 8).input(f32({1}, {1})).create().ok());   // string
  EXPECT_FALSE(OpTester("Cast").attr("to", 99).input(f32({1}, {1})).create().ok());
  EXPECT_FALSE(OpTester("Cast").input(f32({1}, {1})).create().ok());                 // no 'to'
}

TEST(OpsElementwise, IsNaNAndIsInf) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = f32({1, inf, -inf, nan}, {4});
  EXPECT_EQ(values<uint8_t>(OpTester("IsNaN").input(x).run1()), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(values<uint8_t>(OpTester("IsInf").input(x).run1()), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(values<uint8_t>(OpTester("IsInf").attr("detect_negative", 0).input(x).run1()),
            (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(values<uint8_t>(OpTester("IsInf").attr("detect_positive", 0).input(x).run1()),
            (std::vector<uint8_t>{0, 0, 1, 0}));
}

TEST(OpsElementwise, RunRejectsWronglyAllocatedOutput) {
  OpTester t("Add");
  t.input(f32({1, 2}, {2})).input(f32({1, 2}, {2}));
  ASSERT_TRUE(t.create().ok());
  std::vector<Tensor> in = t.inputs();
  std::vector<Tensor> out = {Tensor::make(DType::kF32, {1}).value()};
  EXPECT_FALSE(t.op()->run(in, out).ok());
}


TEST(OpsElementwise, BitShiftShrinkDropout) {
  Tensor y =
      OpTester("BitShift").attr("direction", "LEFT").input(u8({1, 3, 255}, {3})).input(u8({2, 7, 9}, {3})).run1();
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{4, 128, 0}));
  y = OpTester("BitShift").attr("direction", "RIGHT").input(u8({16, 255}, {2})).input(u8({4, 1}, {2})).run1();
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{1, 127}));
  EXPECT_FALSE(OpTester("BitShift").attr("direction", "UP").input(u8({1}, {1})).input(u8({1}, {1})).create().ok());
  expect_near_all(OpTester("Shrink").attr("lambd", 1.f).attr("bias", 0.5f).input(f32({-2, -1, 0, 1, 2}, {5})).run1(),
                  {-1.5f, 0, 0, 0, 1.5f});
  OpTester d("Dropout", 13);
  d.outputs(2).input(f32({1, 2}, {2}));
  auto r = d.run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].raw(), d.inputs()[0].raw());
  EXPECT_EQ(values<uint8_t>(r.value()[1]), (std::vector<uint8_t>{1, 1}));
  EXPECT_FALSE(OpTester("Dropout", 13).input(f32({1}, {1})).constant(f32s(0.5f)).constant(boolean({1}, {})).run().ok());
}


// The vectorizable float exp/tanh/erf stay within a few ulp of <cmath> everywhere.
TEST(OpsElementwise, FastMathAccuracy) {
  double worst_exp = 0, worst_tanh = 0, worst_erf = 0;
  for (double v = -90; v <= 90; v += 0.00091) {
    const float f = static_cast<float>(v);
    const double e = std::exp(static_cast<double>(f));
    if (e > 1.2e-38 && e < 3.4e38) worst_exp = std::max(worst_exp, std::fabs(fast::exp(f) - e) / e);
    const double t = std::tanh(static_cast<double>(f));
    worst_tanh = std::max(worst_tanh, std::fabs(fast::tanh(f) - t) / std::max(std::fabs(t), 1e-30));
    const double r = std::erf(static_cast<double>(f));
    worst_erf = std::max(worst_erf, std::fabs(fast::erf(f) - r) / std::max(std::fabs(r), 1e-30));
  }
  EXPECT_LT(worst_exp, 5e-7);
  EXPECT_LT(worst_tanh, 5e-7);
  EXPECT_LT(worst_erf, 5e-7);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(fast::exp(-inf), 0.f);
  EXPECT_EQ(fast::exp(inf), inf);
  EXPECT_EQ(fast::exp(89.f), inf);
  EXPECT_EQ(fast::exp(0.f), 1.f);
  EXPECT_TRUE(std::isnan(fast::exp(nan)));
  EXPECT_EQ(fast::tanh(inf), 1.f);
  EXPECT_EQ(fast::tanh(-inf), -1.f);
  EXPECT_EQ(fast::tanh(1e-6f), 1e-6f);
  EXPECT_TRUE(std::isnan(fast::tanh(nan)));
  EXPECT_EQ(fast::erf(inf), 1.f);
  EXPECT_TRUE(std::isnan(fast::erf(nan)));
  EXPECT_EQ(fast::sigmoid(-inf), 0.f);
  EXPECT_EQ(fast::sigmoid(inf), 1.f);
}

}  // namespace
}  // namespace kiln::testing
