// Shape-manipulation ops through the Op interface: views (Reshape, Flatten, Squeeze,
// Unsqueeze, Identity), data movement (Transpose, Concat, Split, Slice, Gather, Expand,
// Tile, Pad, DepthToSpace), generators (Shape, Size, ConstantOfShape, Range, Constant),
// opset differences and error cases.
#include <limits>
#include <numeric>

#include "ops_tensor_testing.h"

namespace kiln::testing {
namespace {

std::vector<float> iota_f(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.f);
  return v;
}

TEST(OpsShape, ShapeAndSize) {
  Tensor x = f32(iota_f(24), {2, 3, 4});
  Tensor y = OpTester("Shape").input(x).run1();
  ASSERT_EQ(y.dtype(), DType::kI64);
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{2, 3, 4}));
  y = OpTester("Shape", 15).attr("start", -2).input(x).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{3, 4}));
  y = OpTester("Shape", 15).attr("start", 1).attr("end", -1).input(x).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{3}));
  y = OpTester("Shape", 15).attr("start", 5).input(x).run1();  // clamped: empty
  EXPECT_EQ(y.dims(), (Dims{0}));
  y = OpTester("Size").input(x).run1();
  EXPECT_EQ(y.dims(), Dims{});
  EXPECT_EQ(y.data<int64_t>()[0], 24);
}

TEST(OpsShape, ReshapeIsAViewWithZeroAndMinusOne) {
  Tensor x = f32(iota_f(24), {2, 3, 4});
  OpTester t("Reshape");
  t.input(x).constant(i64({0, -1, 2}, {3}));
  auto r = t.run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(t.op()->is_view());
  EXPECT_EQ(r.value()[0].dims(), (Dims{2, 6, 2}));
  EXPECT_EQ(r.value()[0].raw(), x.raw());  // no copy
  // allowzero=1 (opset 14): 0 is a real zero-size dim.
  Tensor e = f32({}, {0, 3});
  Tensor y = OpTester("Reshape", 14).attr("allowzero", 1).input(e).constant(i64({3, 0}, {2})).run1();
  EXPECT_EQ(y.dims(), (Dims{3, 0}));
  // Errors.
  EXPECT_FALSE(OpTester("Reshape").input(x).constant(i64({-1, -1}, {2})).run().ok());
  EXPECT_FALSE(OpTester("Reshape").input(x).constant(i64({5, -1}, {2})).run().ok());
  EXPECT_FALSE(OpTester("Reshape").input(x).constant(i64({4, 5}, {2})).run().ok());
  EXPECT_FALSE(OpTester("Reshape").input(x).constant(i64({1, 1, 1, 0}, {4})).run().ok());  // 0 past input rank
  EXPECT_FALSE(OpTester("Reshape").input(x).constant(i64({-2, 12}, {2})).run().ok());
}

TEST(OpsShape, StaticInferenceAsksForValues) {
  Tensor x = f32(iota_f(6), {2, 3});
  auto r = OpTester("Reshape").input(x).input(i64({3, 2}, {2})).infer_static();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_needs_value(r.status())) << r.status().to_string();
  r = OpTester("Reshape").input(x).constant(i64({3, 2}, {2})).infer_static();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dims, (Dims{3, 2}));
  EXPECT_TRUE(is_needs_value(OpTester("ConstantOfShape").input(i64({2}, {1})).infer_static().status()));
  EXPECT_TRUE(is_needs_value(OpTester("Range").input(i64s(0)).input(i64s(5)).input(i64s(1)).infer_static().status()));
  EXPECT_TRUE(
      is_needs_value(OpTester("Slice", 13).input(x).input(i64({0}, {1})).input(i64({1}, {1})).infer_static().status()));
  EXPECT_TRUE(is_needs_value(OpTester("Unsqueeze", 13).input(x).input(i64({0}, {1})).infer_static().status()));
  EXPECT_TRUE(is_needs_value(OpTester("ReduceMean", 18).input(x).input(i64({0}, {1})).infer_static().status()));
  EXPECT_TRUE(is_needs_value(OpTester("Expand").input(x).input(i64({2, 3}, {2})).infer_static().status()));
  EXPECT_TRUE(is_needs_value(OpTester("NonZero").input(x).infer_static().status()));
  // Shape-only ops infer without values.
  auto s = OpTester("Transpose").input(x).infer_static();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()[0].dims, (Dims{3, 2}));
}

TEST(OpsShape, Flatten) {
  Tensor x = f32(iota_f(24), {2, 3, 4});
  EXPECT_EQ(OpTester("Flatten").input(x).run1().dims(), (Dims{2, 12}));
  EXPECT_EQ(OpTester("Flatten").attr("axis", 0).input(x).run1().dims(), (Dims{1, 24}));
  EXPECT_EQ(OpTester("Flatten").attr("axis", 3).input(x).run1().dims(), (Dims{24, 1}));
  EXPECT_EQ(OpTester("Flatten", 13).attr("axis", -1).input(x).run1().dims(), (Dims{6, 4}));
  EXPECT_FALSE(OpTester("Flatten").attr("axis", 4).input(x).run().ok());
}

TEST(OpsShape, SqueezeOpsetDifferences) {
  Tensor x = f32(iota_f(6), {1, 3, 1, 2});
  EXPECT_EQ(OpTester("Squeeze", 11).attr("axes", std::vector<int64_t>{0}).input(x).run1().dims(), (Dims{3, 1, 2}));
  EXPECT_EQ(OpTester("Squeeze", 11).input(x).run1().dims(), (Dims{3, 2}));
  EXPECT_EQ(OpTester("Squeeze", 13).input(x).constant(i64({-2}, {1})).run1().dims(), (Dims{1, 3, 2}));
  EXPECT_EQ(OpTester("Squeeze", 13).input(x).run1().dims(), (Dims{3, 2}));
  auto r = OpTester("Squeeze", 13).input(x).constant(i64({1}, {1})).run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not 1"), std::string::npos);
  EXPECT_FALSE(OpTester("Squeeze", 13).input(x).constant(i64({4}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Squeeze", 11).input(x).constant(i64({0}, {1})).create().ok());  // no axes input before 13
  Tensor y = OpTester("Squeeze", 13).input(x).constant(i64({0, 2}, {2})).run1();
  expect_near_all(y, iota_f(6));
}

TEST(OpsShape, UnsqueezeOpsetDifferences) {
  Tensor x = f32(iota_f(6), {2, 3});
  EXPECT_EQ(OpTester("Unsqueeze", 11).attr("axes", std::vector<int64_t>{0, 3}).input(x).run1().dims(),
            (Dims{1, 2, 3, 1}));
  EXPECT_EQ(OpTester("Unsqueeze", 18).input(x).constant(i64({-1}, {1})).run1().dims(), (Dims{2, 3, 1}));
  EXPECT_EQ(OpTester("Unsqueeze", 13).input(x).constant(i64({1, -1}, {2})).run1().dims(), (Dims{2, 1, 3, 1}));
  Tensor s = f32s(7);
  EXPECT_EQ(OpTester("Unsqueeze", 13).input(s).constant(i64({0}, {1})).run1().dims(), (Dims{1}));
  EXPECT_FALSE(OpTester("Unsqueeze", 13).input(x).constant(i64({0, 0}, {2})).run().ok());  // repeated
  EXPECT_FALSE(OpTester("Unsqueeze", 13).input(x).constant(i64({4}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Unsqueeze", 11).input(x).create().ok());  // axes required
}

TEST(OpsShape, IdentityIsAView) {
  Tensor x = i64({1, 2, 3}, {3});
  OpTester t("Identity");
  t.input(x);
  auto r = t.run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[0].raw(), x.raw());
}

// Reference transpose by index arithmetic.
std::vector<float> ref_transpose(const std::vector<float>& x, const Dims& d, const std::vector<int64_t>& perm) {
  Dims od;
  for (int64_t p : perm) od.push_back(d[static_cast<size_t>(p)]);
  std::vector<float> r(x.size());
  for (size_t i = 0; i < r.size(); ++i) {
    auto oi = unravel(static_cast<int64_t>(i), od);
    std::vector<int64_t> ii(d.size());
    for (size_t k = 0; k < perm.size(); ++k) ii[static_cast<size_t>(perm[k])] = oi[k];
    int64_t off = 0;
    for (size_t k = 0; k < d.size(); ++k) off = off * d[k] + ii[k];
    r[i] = x[static_cast<size_t>(off)];
  }
  return r;
}

TEST(OpsShape, TransposeMatchesReference) {
  struct C {
    Dims d;
    std::vector<int64_t> perm;
  };
  const C cases[] = {{{2, 3}, {1, 0}},          {{2, 3, 4}, {0, 2, 1}},       {{2, 3, 4, 5}, {0, 2, 3, 1}},
                     {{2, 3, 4, 5}, {0, 3, 1, 2}}, {{1, 3, 1, 5}, {3, 1, 2, 0}}, {{2, 3, 4}, {2, 1, 0}},
                     {{2, 3, 4}, {0, 1, 2}},    {{3, 1, 4}, {2, 0, 1}}};
  for (const C& c : cases) {
    auto x = iota_f(static_cast<size_t>(num_elements(c.d)));
    SCOPED_TRACE(dims_to_string(c.d) + " perm " + dims_to_string(c.perm));
    expect_near_all(OpTester("Transpose").attr("perm", c.perm).input(f32(x, c.d)).run1(),
                    ref_transpose(x, c.d, c.perm));
  }
  // Default perm reverses; int64 data.
  Tensor y = OpTester("Transpose").input(i64({1, 2, 3, 4, 5, 6}, {2, 3})).run1();
  EXPECT_EQ(y.dims(), (Dims{3, 2}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, 4, 2, 5, 3, 6}));
  EXPECT_FALSE(OpTester("Transpose").attr("perm", std::vector<int64_t>{0, 0}).input(i64({1, 2}, {1, 2})).run().ok());
  EXPECT_FALSE(OpTester("Transpose").attr("perm", std::vector<int64_t>{0}).input(i64({1, 2}, {1, 2})).run().ok());
}

TEST(OpsShape, Concat) {
  Tensor a = f32({1, 2, 3, 4}, {2, 2}), b = f32({5, 6}, {2, 1});
  Tensor y = OpTester("Concat").attr("axis", 1).input(a).input(b).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  expect_near_all(y, {1, 2, 5, 3, 4, 6});
  y = OpTester("Concat").attr("axis", -1).input(a).input(b).input(f32({}, {2, 0})).run1();
  expect_near_all(y, {1, 2, 5, 3, 4, 6});
  y = OpTester("Concat").attr("axis", 0).input(i64({1, 2}, {2})).input(i64({-1}, {1})).input(i64({7}, {1})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, 2, -1, 7}));
  EXPECT_FALSE(OpTester("Concat").attr("axis", 0).input(a).input(b).run().ok());  // dims differ off-axis
  EXPECT_FALSE(OpTester("Concat").attr("axis", 2).input(a).input(a).run().ok());
  EXPECT_FALSE(OpTester("Concat").attr("axis", 0).input(a).input(i64({1, 2}, {1, 2})).run().ok());
  EXPECT_FALSE(OpTester("Concat").input(a).create().ok());  // axis required
}

TEST(OpsShape, SplitOpsetDifferences) {
  Tensor x = f32(iota_f(12), {2, 6});
  auto r = OpTester("Split", 11).attr("axis", 1).attr("split", std::vector<int64_t>{1, 5}).outputs(2).input(x).run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {0, 6});
  expect_near_all(r.value()[1], {1, 2, 3, 4, 5, 7, 8, 9, 10, 11});
  r = OpTester("Split", 13).attr("axis", -1).outputs(2).input(x).constant(i64({4, 2}, {2})).run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dims(), (Dims{2, 4}));
  expect_near_all(r.value()[1], {4, 5, 10, 11});
  r = OpTester("Split", 13).attr("axis", 1).outputs(3).input(x).run();  // equal split
  ASSERT_TRUE(r.ok());
  expect_near_all(r.value()[2], {4, 5, 10, 11});
  // Opset 18 num_outputs: ceil-sized chunks, last one smaller.
  r = OpTester("Split", 18).attr("axis", 1).attr("num_outputs", 4).outputs(4).input(x).run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value()[0].dims(), (Dims{2, 2}));
  EXPECT_EQ(r.value()[3].dims(), (Dims{2, 0}));
  r = OpTester("Split", 18).attr("axis", 1).attr("num_outputs", 4).outputs(4).input(f32(iota_f(14), {2, 7})).run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[3].dims(), (Dims{2, 1}));
  expect_near_all(r.value()[3], {6, 13});
  // The silero case: [1, 512] split in 4.
  r = OpTester("Split", 18).attr("axis", 1).attr("num_outputs", 4).outputs(4).input(f32(iota_f(512), {1, 512})).run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()[2].data<float>()[0], 256.f);
  EXPECT_FALSE(OpTester("Split", 13).attr("axis", 1).outputs(5).input(x).run().ok());  // uneven
  EXPECT_FALSE(OpTester("Split", 13).attr("axis", 1).outputs(2).input(x).constant(i64({4, 4}, {2})).run().ok());
  EXPECT_FALSE(OpTester("Split", 13).attr("axis", 1).outputs(2).input(x).constant(i64({7, -1}, {2})).run().ok());
  EXPECT_FALSE(OpTester("Split", 18).attr("num_outputs", 3).outputs(2).input(x).run().ok());
}

TEST(OpsShape, SliceAttributeFormOpset9) {
  Tensor x = i64({10, 20, 30, 40}, {4});
  Tensor y = OpTester("Slice", 9).attr("axes", std::vector<int64_t>{0}).attr("starts", std::vector<int64_t>{1})
                 .attr("ends", std::vector<int64_t>{2}).input(x).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{20}));
  Tensor m = f32(iota_f(12), {3, 4});
  y = OpTester("Slice", 9).attr("starts", std::vector<int64_t>{1, -3}).attr("ends", std::vector<int64_t>{1000, -1})
          .input(m).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  expect_near_all(y, {5, 6, 9, 10});
}

TEST(OpsShape, SliceInputFormWithStepsAndClamping) {
  Tensor m = f32(iota_f(20), {4, 5});
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  // Reverse the last axis entirely.
  Tensor y = OpTester("Slice", 13).input(m).constant(i64({-1}, {1})).constant(i64({small}, {1}))
                 .constant(i64({1}, {1})).constant(i64({-1}, {1})).run1();
  EXPECT_EQ(y.dims(), (Dims{4, 5}));
  EXPECT_EQ(y.data<float>()[0], 4.f);
  EXPECT_EQ(y.data<float>()[4], 0.f);
  // Step 2 on axis 0, step -2 on axis 1, negative axes.
  y = OpTester("Slice", 11).input(m).constant(i64({0, 4}, {2})).constant(i64({big, 0}, {2}))
          .constant(i64({-2, -1}, {2})).constant(i64({2, -2}, {2})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  expect_near_all(y, {4, 2, 14, 12});
  // Axes omitted: leading axes.
  y = OpTester("Slice", 10).input(m).constant(i64({1}, {1})).constant(i64({3}, {1})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 5}));
  EXPECT_EQ(y.data<float>()[0], 5.f);
  // Empty result when start >= end.
  y = OpTester("Slice", 13).input(m).constant(i64({3}, {1})).constant(i64({1}, {1})).run1();
  EXPECT_EQ(y.dims(), (Dims{0, 5}));
  // Huge step.
  y = OpTester("Slice", 13).input(m).constant(i64({0}, {1})).constant(i64({big}, {1})).constant(i64({1}, {1}))
          .constant(i64({big}, {1})).run1();
  EXPECT_EQ(y.dims(), (Dims{4, 1}));
  // int32 parameters are accepted too.
  y = OpTester("Slice", 13).input(m).constant(i32({1}, {1})).constant(i32({2}, {1})).constant(i32({1}, {1})).run1();
  expect_near_all(y, {1, 6, 11, 16});
  // Errors.
  EXPECT_FALSE(OpTester("Slice", 13).input(m).constant(i64({0}, {1})).constant(i64({1}, {1})).constant(i64({0}, {1}))
                   .constant(i64({0}, {1})).run().ok());  // step 0
  EXPECT_FALSE(OpTester("Slice", 13).input(m).constant(i64({0}, {1})).constant(i64({1, 2}, {2})).run().ok());
  EXPECT_FALSE(OpTester("Slice", 13).input(m).constant(i64({0}, {1})).constant(i64({1}, {1})).constant(i64({2}, {1}))
                   .run().ok());  // axis out of range
  EXPECT_FALSE(OpTester("Slice", 13).input(m).constant(i64({0, 0}, {2})).constant(i64({1, 1}, {2}))
                   .constant(i64({0, -2}, {2})).run().ok());  // repeated axis
}

TEST(OpsShape, Gather) {
  Tensor data = f32(iota_f(12), {3, 4});
  Tensor y = OpTester("Gather").input(data).input(i64({2, -3}, {2})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 4}));
  expect_near_all(y, {8, 9, 10, 11, 0, 1, 2, 3});
  y = OpTester("Gather").attr("axis", 1).input(data).input(i32({3, 0, 1, 1}, {2, 2})).run1();
  EXPECT_EQ(y.dims(), (Dims{3, 2, 2}));
  expect_near_all(y, {3, 0, 1, 1, 7, 4, 5, 5, 11, 8, 9, 9});
  // Scalar index removes the axis (Shape -> Gather pattern).
  y = OpTester("Gather").input(i64({1, 3, 48, 320}, {4})).constant(i64s(2)).run1();
  EXPECT_EQ(y.dims(), Dims{});
  EXPECT_EQ(y.data<int64_t>()[0], 48);
  auto r = OpTester("Gather").input(data).input(i64({3}, {1})).run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kOutOfRange);
  EXPECT_FALSE(OpTester("Gather").input(data).input(i64({-4}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Gather").attr("axis", 2).input(data).input(i64({0}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Gather").input(data).input(f32({0}, {1})).run().ok());
  EXPECT_FALSE(OpTester("Gather").input(data).constant(i64({9}, {1})).infer_static().ok());
}

TEST(OpsShape, GatherElements) {
  Tensor data = f32({1, 2, 3, 4}, {2, 2});
  Tensor y = OpTester("GatherElements").attr("axis", 1).input(data).input(i64({0, 0, 1, 0}, {2, 2})).run1();
  expect_near_all(y, {1, 1, 4, 3});
  y = OpTester("GatherElements").input(f32(iota_f(9), {3, 3})).input(i64({1, 2, 0, 2, 0, -3}, {2, 3})).run1();
  expect_near_all(y, {3, 7, 2, 6, 1, 2});
  EXPECT_FALSE(OpTester("GatherElements").input(data).input(i64({2, 0}, {1, 2})).run().ok());
}

TEST(OpsShape, ExpandAndTile) {
  Tensor x = f32({1, 2, 3}, {3, 1});
  Tensor y = OpTester("Expand").input(x).constant(i64({2, 1, 4}, {3})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 3, 4}));
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(y.data<float>()[i], static_cast<float>((i / 4) % 3 + 1));
  y = OpTester("Expand").input(x).constant(i64({1}, {1})).run1();  // shape smaller: keeps input dims
  EXPECT_EQ(y.dims(), (Dims{3, 1}));
  EXPECT_FALSE(OpTester("Expand").input(x).constant(i64({2, 2}, {2})).run().ok());
  y = OpTester("Tile").input(i64({1, 2, 3, 4}, {2, 2})).constant(i64({2, 3}, {2})).run1();
  EXPECT_EQ(y.dims(), (Dims{4, 6}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                                      1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
  EXPECT_FALSE(OpTester("Tile").input(x).constant(i64({2}, {1})).run().ok());
}

TEST(OpsShape, PadModesOpset18) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = OpTester("Pad", 18).attr("mode", "reflect").input(x).constant(i64({0, 2, 0, 1}, {4})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 6}));
  expect_near_all(y, {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5});
  y = OpTester("Pad", 18).attr("mode", "edge").input(x).constant(i64({1, 1, 0, 0}, {4})).run1();
  EXPECT_EQ(y.dims(), (Dims{3, 4}));
  expect_near_all(y, {1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6});
  y = OpTester("Pad", 18).input(x).constant(i64({0, 1, 1, 0}, {4})).constant(f32s(9)).run1();
  EXPECT_EQ(y.dims(), (Dims{3, 4}));
  expect_near_all(y, {9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9});
  // Negative pads crop.
  y = OpTester("Pad", 18).input(x).constant(i64({0, -1, 0, 1}, {4})).run1();
  expect_near_all(y, {2, 3, 0, 5, 6, 0});
  // axes input (opset 18).
  y = OpTester("Pad", 18).attr("mode", "reflect").input(x).constant(i64({1, 1}, {2})).missing()
          .constant(i64({-1}, {1})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 5}));
  expect_near_all(y, {2, 1, 2, 3, 2, 5, 4, 5, 6, 5});
  // silero-style reflect pad of [1, 1, 8] by 2 on the last axis with a 3-D input.
  Tensor s = f32(iota_f(8), {1, 1, 8});
  y = OpTester("Pad", 18).attr("mode", "reflect").input(s).constant(i64({0, 0, 2, 0, 0, 2}, {6})).run1();
  expect_near_all(y, {2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 6, 5});
  EXPECT_FALSE(OpTester("Pad", 18).input(x).constant(i64({0, 1}, {2})).run().ok());          // wrong length
  EXPECT_FALSE(OpTester("Pad", 18).input(x).constant(i64({0, -4, 0, 0}, {4})).run().ok());  // crops below 0
  EXPECT_FALSE(OpTester("Pad", 18).attr("mode", "mirror").input(x).constant(i64({0, 0, 0, 0}, {4})).create().ok());
  EXPECT_FALSE(OpTester("Pad", 18).input(x).constant(i64({0, 0, 0, 0}, {4})).constant(i64s(1)).run().ok());
}

TEST(OpsShape, PadAttributeFormOpset2) {
  Tensor x = f32({1, 2}, {1, 2});
  Tensor y = OpTester("Pad", 9).attr("pads", std::vector<int64_t>{0, 1, 0, 2}).attr("value", 1.5f).input(x).run1();
  expect_near_all(y, {1.5f, 1, 2, 1.5f, 1.5f});
  y = OpTester("Pad", 9).attr("pads", std::vector<int64_t>{1, 0, 0, 0}).input(i64({7, 8}, {1, 2})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 0, 7, 8}));
}

TEST(OpsShape, ConstantOfShape) {
  Tensor y = OpTester("ConstantOfShape").constant(i64({2, 3}, {2})).run1();
  ASSERT_EQ(y.dtype(), DType::kF32);
  expect_near_all(y, std::vector<float>(6, 0.f));
  y = OpTester("ConstantOfShape").attr("value", i64({-7}, {1})).input(i64({3}, {1})).run1();
  ASSERT_EQ(y.dtype(), DType::kI64);
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{-7, -7, -7}));
  y = OpTester("ConstantOfShape").attr("value", f32({2.5f}, {1})).input(i64({}, {0})).run1();
  EXPECT_EQ(y.dims(), Dims{});
  EXPECT_EQ(y.data<float>()[0], 2.5f);
  EXPECT_FALSE(OpTester("ConstantOfShape").input(i64({2, -1}, {2})).run().ok());
  EXPECT_FALSE(OpTester("ConstantOfShape").attr("value", f32({1, 2}, {2})).input(i64({2}, {1})).create().ok());
}

TEST(OpsShape, RangeAndConstant) {
  Tensor y = OpTester("Range").input(i64s(10)).input(i64s(1)).input(i64s(-3)).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{10, 7, 4}));
  y = OpTester("Range").input(f32s(0)).input(f32s(1)).input(f32s(0.25f)).run1();
  expect_near_all(y, {0, 0.25f, 0.5f, 0.75f});
  y = OpTester("Range").input(i32({5}, {})).input(i32({1}, {})).input(i32({1}, {})).run1();
  EXPECT_EQ(y.dims(), (Dims{0}));
  EXPECT_FALSE(OpTester("Range").input(i64s(0)).input(i64s(5)).input(i64s(0)).run().ok());
  EXPECT_FALSE(OpTester("Range").input(i64s(0)).input(f32s(5)).input(i64s(1)).run().ok());

  Tensor c = OpTester("Constant").attr("value", i64({4, 5}, {2})).run1();
  EXPECT_EQ(values<int64_t>(c), (std::vector<int64_t>{4, 5}));
  c = OpTester("Constant").attr("value_float", 1.5f).run1();
  EXPECT_EQ(c.dims(), Dims{});
  EXPECT_EQ(c.data<float>()[0], 1.5f);
  c = OpTester("Constant").attr("value_ints", std::vector<int64_t>{1, 2, 3}).run1();
  EXPECT_EQ(values<int64_t>(c), (std::vector<int64_t>{1, 2, 3}));
  c = OpTester("Constant").attr("value_int", 9).run1();
  EXPECT_EQ(c.data<int64_t>()[0], 9);
  c = OpTester("Constant").attr("value_floats", std::vector<float>{0.5f, 2}).run1();
  expect_near_all(c, {0.5f, 2});
  EXPECT_FALSE(OpTester("Constant").attr("value_string", "x").create().ok());
  EXPECT_FALSE(OpTester("Constant").create().ok());
}

TEST(OpsShape, NonZero) {
  Tensor y = OpTester("NonZero").input(f32({1, 0, 0, 3}, {2, 2})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 1, 0, 1}));
}

TEST(OpsShape, DepthToSpaceAndBack) {
  // ONNX reference example: x of shape [1, 8, 2, 3], blocksize 2.
  Tensor x = f32(iota_f(48), {1, 8, 2, 3});
  Tensor dcr = OpTester("DepthToSpace").attr("blocksize", 2).input(x).run1();
  EXPECT_EQ(dcr.dims(), (Dims{1, 2, 4, 6}));
  const std::vector<float> first_row = {0, 12, 1, 13, 2, 14};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(dcr.data<float>()[i], first_row[static_cast<size_t>(i)]);
  Tensor crd = OpTester("DepthToSpace", 13).attr("blocksize", 2).attr("mode", "CRD").input(x).run1();
  const std::vector<float> crd_row = {0, 6, 1, 7, 2, 8};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(crd.data<float>()[i], crd_row[static_cast<size_t>(i)]);
  Tensor back = OpTester("SpaceToDepth").attr("blocksize", 2).input(dcr).run1();
  expect_near_all(back, iota_f(48));
  EXPECT_FALSE(OpTester("DepthToSpace").attr("blocksize", 3).input(x).run().ok());
}


TEST(OpsShape, TopK) {
  Tensor x = f32({1, 5, 3, 5, 2, 0}, {2, 3});
  auto r = OpTester("TopK", 11).outputs(2).input(x).constant(i64({2}, {1})).run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {5, 3, 5, 2});
  EXPECT_EQ(values<int64_t>(r.value()[1]), (std::vector<int64_t>{1, 2, 0, 1}));
  r = OpTester("TopK", 11).attr("largest", 0).attr("axis", 0).outputs(2).input(x).constant(i64({1}, {1})).run();
  ASSERT_TRUE(r.ok());
  expect_near_all(r.value()[0], {1, 2, 0});
  EXPECT_EQ(values<int64_t>(r.value()[1]), (std::vector<int64_t>{0, 1, 1}));
  r = OpTester("TopK", 9).attr("k", 1).outputs(2).input(i64({4, 9, 9}, {3})).run();  // ties: lower index first
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(values<int64_t>(r.value()[1]), (std::vector<int64_t>{1}));
  EXPECT_FALSE(OpTester("TopK", 11).outputs(2).input(x).constant(i64({4}, {1})).run().ok());
  EXPECT_TRUE(is_needs_value(OpTester("TopK", 11).outputs(2).input(x).input(i64({1}, {1})).infer_static().status()));
}

TEST(OpsShape, ScatterElementsAndND) {
  Tensor data = f32(std::vector<float>(6, 0.f), {2, 3});
  Tensor y = OpTester("ScatterElements", 16).attr("axis", 1).input(data).input(i64({2, -3}, {2, 1}))
                 .input(f32({7, 8}, {2, 1})).run1();
  expect_near_all(y, {0, 0, 7, 8, 0, 0});
  y = OpTester("ScatterElements", 16).attr("reduction", "add").input(f32({1, 1, 1}, {3})).input(i64({0, 0, 2}, {3}))
          .input(f32({2, 3, 4}, {3})).run1();
  expect_near_all(y, {6, 1, 5});
  EXPECT_FALSE(OpTester("ScatterElements").input(data).input(i64({3}, {1, 1})).input(f32({1}, {1, 1})).run().ok());
  y = OpTester("ScatterND").input(f32(iota_f(6), {2, 3})).input(i64({1}, {1, 1})).input(f32({9, 9, 9}, {1, 3})).run1();
  expect_near_all(y, {0, 1, 2, 9, 9, 9});
  y = OpTester("ScatterND", 16).attr("reduction", "mul").input(f32(iota_f(6), {2, 3})).input(i64({0, 2, 1, 1}, {2, 2}))
          .input(f32({10, 10}, {2})).run1();
  expect_near_all(y, {0, 1, 20, 3, 40, 5});
  EXPECT_FALSE(OpTester("ScatterND").input(data).input(i64({2}, {1, 1})).input(f32({9, 9, 9}, {1, 3})).run().ok());
}

TEST(OpsShape, GatherND) {
  Tensor data = f32(iota_f(8), {2, 2, 2});
  Tensor y = OpTester("GatherND").input(data).input(i64({0, 1, 1, 0}, {2, 2})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  expect_near_all(y, {2, 3, 4, 5});
  y = OpTester("GatherND", 12).attr("batch_dims", 1).input(data).input(i64({1, 0}, {2, 1})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  expect_near_all(y, {2, 3, 4, 5});
  EXPECT_FALSE(OpTester("GatherND").input(data).input(i64({2, 0}, {1, 2})).run().ok());
}

TEST(OpsShape, OneHotCumSumTriluEyeLike) {
  Tensor y = OpTester("OneHot", 11).input(i64({0, 2, -1, 5}, {4})).constant(i64s(3)).input(f32({0, 1}, {2})).run1();
  EXPECT_EQ(y.dims(), (Dims{4, 3}));
  expect_near_all(y, {1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0});
  y = OpTester("OneHot", 11).attr("axis", 0).input(i64({1, 0}, {2})).constant(i64s(2)).input(i64({-1, 7}, {2})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{-1, 7, 7, -1}));
  y = OpTester("CumSum", 14).input(f32({1, 2, 3, 4, 5, 6}, {2, 3})).constant(i64s(1)).run1();
  expect_near_all(y, {1, 3, 6, 4, 9, 15});
  y = OpTester("CumSum", 14)
          .attr("exclusive", 1)
          .attr("reverse", 1)
          .input(i64({1, 2, 3}, {3}))
          .constant(i32({0}, {}))
          .run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{5, 3, 0}));
  EXPECT_FALSE(OpTester("CumSum", 14).input(f32({1}, {1})).constant(i64s(1)).run().ok());
  Tensor m = f32(iota_f(9), {3, 3});
  expect_near_all(OpTester("Trilu", 14).input(m).run1(), {0, 1, 2, 0, 4, 5, 0, 0, 8});
  expect_near_all(OpTester("Trilu", 14).attr("upper", 0).input(m).constant(i64s(-1)).run1(),
                  {0, 0, 0, 3, 0, 0, 6, 7, 0});
  EXPECT_FALSE(OpTester("Trilu", 14).input(f32({1}, {1})).run().ok());
  y = OpTester("EyeLike").attr("k", 1).input(f32(iota_f(6), {2, 3})).run1();
  expect_near_all(y, {0, 1, 0, 0, 0, 1});
}

}  // namespace
}  // namespace kiln::testing
