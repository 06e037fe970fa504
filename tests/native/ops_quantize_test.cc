// QuantizeLinear / DequantizeLinear: hand-computed cases (per tensor, per axis, blocked,
// half-to-even rounding, saturation, int32) and ONNX's own backend node tests for them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include <onnx/onnx_pb.h>

#include "import/onnx_import.h"
#include "import/onnx_tensor.h"
#include "ops_tensor_testing.h"
#include "runtime/session.h"

namespace kiln {
namespace {

using namespace kiln::testing;

Tensor i8(const std::vector<int8_t>& v, Dims d) { return make_tensor(DType::kI8, v, std::move(d)); }

TEST(QuantizeLinear, PerTensorRoundsHalfToEvenAndSaturates) {
  // x / 2 = 0.5, 1.5, 2.5, -0.5, -1.5, 300, -300, NaN -> 0, 2, 2, -0, -2 then + 10, clamped to uint8.
  OpTester t("QuantizeLinear", 13);
  t.input(f32({1.f, 3.f, 5.f, -1.f, -3.f, 600.f, -600.f, NAN}, {8})).constant(f32s(2.f)).constant(u8({10}, {}));
  Tensor y = t.run1();
  ASSERT_EQ(y.dtype(), DType::kU8);
  EXPECT_EQ(values<uint8_t>(y), (std::vector<uint8_t>{10, 12, 12, 10, 8, 255, 0, 10}));
}

TEST(QuantizeLinear, PerTensorInt8FastPathMatchesTheFormula) {
  // The per-tensor int8 path (vectorized, in chunks of 256): ties, saturation, +-inf and NaN
  // (to the zero point) at every position of a 600-element tensor, against the formula.
  std::vector<float> x(600);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (static_cast<float>(i) - 300.f) * 0.75f;
  for (size_t i : {size_t{0}, size_t{255}, size_t{256}, size_t{599}}) x[i] = NAN;
  x[3] = INFINITY, x[300] = -INFINITY, x[257] = -NAN;
  // NaNs with payload bits (which a plain NaN + 1.5 * 2^23 rounding trick would leak into
  // the low byte).
  for (uint32_t bits : {0x7FC00005u, 0xFFC0007Fu, 0x7FC12345u}) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    x[10 + bits % 200] = v;
  }
  OpTester t("QuantizeLinear", 13);
  t.input(f32(x, {600})).constant(f32s(1.5f)).constant(i8({-7}, {}));
  Tensor y = t.run1();
  ASSERT_EQ(y.dtype(), DType::kI8);
  const std::vector<int8_t> got = values<int8_t>(y);
  for (size_t i = 0; i < x.size(); ++i) {
    double q = std::nearbyint(x[i] / 1.5f);  // half to even (x / 1.5 = k / 2: ties)
    if (std::isnan(q)) q = 0;
    const int expected = static_cast<int>(std::min(std::max(q - 7.0, -128.0), 127.0));
    ASSERT_EQ(int{got[i]}, expected) << "element " << i << " x " << x[i];
  }
}

TEST(QuantizeLinear, PerAxisInt8AndDefaultUint8) {
  OpTester t("QuantizeLinear", 13);
  // x [2,3], axis 1: scales 1, 0.5, 0.25; zero points 0, -1, 5.
  t.input(f32({1.f, 1.f, 1.f, -2.f, 100.f, -40.f}, {2, 3}))
      .constant(f32({1.f, 0.5f, 0.25f}, {3}))
      .constant(i8({0, -1, 5}, {3}))
      .attr("axis", 1);
  Tensor y = t.run1();
  ASSERT_EQ(y.dtype(), DType::kI8);
  EXPECT_EQ(values<int8_t>(y), (std::vector<int8_t>{1, 1, 9, -2, 127, -128}));
  OpTester u("QuantizeLinear", 13);
  u.input(f32({-1.f, 0.4f, 0.6f}, {3})).constant(f32s(1.f));
  Tensor z = u.run1();
  ASSERT_EQ(z.dtype(), DType::kU8);
  EXPECT_EQ(values<uint8_t>(z), (std::vector<uint8_t>{0, 0, 1}));
}

TEST(DequantizeLinear, PerTensorPerAxisBlockedAndInt32) {
  {
    OpTester t("DequantizeLinear", 13);
    t.input(u8({0, 3, 128, 255}, {4})).constant(f32s(0.5f)).constant(u8({128}, {}));
    Tensor y = t.run1();
    EXPECT_EQ(values<float>(y), (std::vector<float>{-64.f, -62.5f, 0.f, 63.5f}));
  }
  {
    OpTester t("DequantizeLinear", 13);  // x [2,2,2], axis 1 (default)
    t.input(i8({1, 2, 3, 4, -1, -2, -3, -4}, {2, 2, 2})).constant(f32({2.f, 10.f}, {2})).constant(i8({1, 0}, {2}));
    Tensor y = t.run1();
    EXPECT_EQ(values<float>(y), (std::vector<float>{0.f, 2.f, 30.f, 40.f, -4.f, -6.f, -30.f, -40.f}));
  }
  {
    OpTester t("DequantizeLinear", 21);  // x [2,5], axis 1, blocks of 2 -> scale [2,3]
    t.input(i8({1, 1, 1, 1, 1, 2, 2, 2, 2, 2}, {2, 5}))
        .constant(f32({1.f, 10.f, 100.f, 2.f, 20.f, 200.f}, {2, 3}))
        .attr("axis", 1)
        .attr("block_size", 2);
    Tensor y = t.run1();
    EXPECT_EQ(values<float>(y), (std::vector<float>{1, 1, 10, 10, 100, 4, 4, 40, 40, 400}));
  }
  {
    OpTester t("DequantizeLinear", 13);
    t.input(i32({-1000000, 7}, {2})).constant(f32s(0.001f));
    Tensor y = t.run1();
    EXPECT_FLOAT_EQ(values<float>(y)[0], -1000.f);
    EXPECT_FLOAT_EQ(values<float>(y)[1], 0.007f);
  }
}

TEST(DequantizeLinear, ShapeErrorsNameTheNode) {
  OpTester t("DequantizeLinear", 13);
  t.input(i8({1, 2, 3, 4, 5, 6}, {2, 3})).constant(f32({1.f, 2.f}, {2})).attr("axis", 1);
  auto r = t.run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().to_string().find("per-axis scale must be 1-D of size 3"), std::string::npos) << r.status().to_string();
  OpTester z("DequantizeLinear", 13);
  z.input(i8({1}, {1})).constant(f32s(1.f)).constant(u8({0}, {}));
  EXPECT_FALSE(z.run().ok());
}

// ONNX's backend node tests (libonnx-testdata) as an independent reference.
Result<Tensor> read_pb(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  onnx::TensorProto t;
  if (s.empty() || !t.ParseFromString(s)) return io_error("cannot read " + path);
  return tensor_from_onnx(t, path);
}

TEST(QuantizeOps, OnnxBackendNodeTests) {
  const std::string root = "/usr/share/libonnx-testdata/data/node/";
  if (!std::ifstream(root + "test_quantizelinear/model.onnx").good()) GTEST_SKIP() << "libonnx-testdata is not installed";
  for (const char* name : {"test_quantizelinear", "test_quantizelinear_axis", "test_dequantizelinear",
                           "test_dequantizelinear_axis"}) {
    SCOPED_TRACE(name);
    const std::string dir = root + name + "/";
    auto m = import_onnx(dir + "model.onnx");
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto s = Session::create(std::move(m).value());
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    TensorMap in;
    for (size_t i = 0; i < (*s)->inputs().size(); ++i) {
      auto t = read_pb(dir + "test_data_set_0/input_" + std::to_string(i) + ".pb");
      ASSERT_TRUE(t.ok()) << t.status().to_string();
      in[(*s)->inputs()[i].name] = t.value();
    }
    auto r = (*s)->run(in);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    auto want = read_pb(dir + "test_data_set_0/output_0.pb");
    ASSERT_TRUE(want.ok());
    const Tensor& got = r->at((*s)->outputs()[0].name);
    ASSERT_EQ(got.dtype(), want->dtype());
    ASSERT_EQ(got.dims(), want->dims());
    for (int64_t i = 0; i < want->size(); ++i) EXPECT_NEAR(got.get_f64(i), want->get_f64(i), 1e-6) << "element " << i;
  }
}

}  // namespace
}  // namespace kiln
