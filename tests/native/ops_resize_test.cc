// Resize (opsets 10, 11, 13, 18) and Upsample (7, 9) through the Op interface: the
// detector's nearest/asymmetric/floor configuration, every nearest rounding mode and
// coordinate transform on hand-worked index lists, tf_crop_and_resize with extrapolation, linear and cubic against formulas
// evaluated here, sizes / axes / keep_aspect_ratio_policy, needs-value, errors, and one op
// re-planned across shapes and scales.
#include <cstring>

#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

Tensor empty_f32() { return Tensor::make(DType::kF32, {0}).value(); }

// Resize-11/13 call: X, roi (empty), scales or sizes.
OpCall resize(Attrs a, Tensor x, std::optional<std::vector<float>> scales, std::optional<std::vector<int64_t>> sizes,
              int64_t opset = 13) {
  Inputs in = {x, empty_f32()};
  in.push_back(scales ? f32(*scales, {static_cast<int64_t>(scales->size())}) : empty_f32());
  if (sizes) in.push_back(i64(*sizes, {static_cast<int64_t>(sizes->size())}));
  return OpCall{"Resize", std::move(a), std::move(in), opset};
}

TEST(OpsNnResize, DetectorNearestAsymmetricFloor) {
  const Attrs a = {{"mode", attr_s("nearest")}, {"coordinate_transformation_mode", attr_s("asymmetric")},
                   {"nearest_mode", attr_s("floor")}};
  for (float s : {2.f, 4.f, 8.f}) {
    SCOPED_TRACE(s);
    Tensor x = random_tensor({1, 3, 5, 4}, 1000);
    auto r = run_op(resize(a, x, std::vector<float>{1, 1, s, s}, std::nullopt, 11));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const int64_t f = static_cast<int64_t>(s), h = 5 * f, w = 4 * f;
    std::vector<float> want;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) want.push_back(x.data<float>()[(c * 5 + i / f) * 4 + j / f]);
    expect_near_all(r.value()[0], {1, 3, h, w}, want, 0.f);
  }
}

// Resizes [10, 20, 30, 40, ...] along the last axis to `out` and returns the picked indices.
std::vector<int> nearest_indices(const std::string& coord, const std::string& rounding, int64_t in, int64_t out,
                                 int64_t opset = 13) {
  std::vector<float> v;
  for (int64_t i = 0; i < in; ++i) v.push_back(static_cast<float>(i));
  Attrs a = {{"mode", attr_s("nearest")}};
  if (opset >= 11) {
    a["coordinate_transformation_mode"] = attr_s(coord);
    a["nearest_mode"] = attr_s(rounding);
  }
  auto r = opset >= 11 ? run_op(resize(a, f32(v, {1, in}), std::nullopt, std::vector<int64_t>{1, out}, opset))
                       : run_op(OpCall{"Resize", a, {f32(v, {1, in}), f32({1.f, float(out) / float(in)}, {2})}, opset});
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return {};
  std::vector<int> idx;
  for (float f : values(r.value()[0])) idx.push_back(static_cast<int>(f));
  return idx;
}

TEST(OpsNnResize, NearestModesAndCoordinateTransforms) {
  using V = std::vector<int>;
  // half_pixel 4 -> 8: sources -0.25, 0.25, 0.75, ..., 3.25.
  EXPECT_EQ(nearest_indices("half_pixel", "round_prefer_floor", 4, 8), (V{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(nearest_indices("half_pixel", "floor", 4, 8), (V{0, 0, 0, 1, 1, 2, 2, 3}));
  EXPECT_EQ(nearest_indices("half_pixel", "ceil", 4, 8), (V{0, 1, 1, 2, 2, 3, 3, 3}));
  // half_pixel 4 -> 2: sources 0.5 and 2.5, exact ties.
  EXPECT_EQ(nearest_indices("half_pixel", "round_prefer_floor", 4, 2), (V{0, 2}));
  EXPECT_EQ(nearest_indices("half_pixel", "round_prefer_ceil", 4, 2), (V{1, 3}));
  // align_corners 4 -> 3: sources 0, 1.5, 3.
  EXPECT_EQ(nearest_indices("align_corners", "round_prefer_floor", 4, 3), (V{0, 1, 3}));
  EXPECT_EQ(nearest_indices("align_corners", "round_prefer_ceil", 4, 3), (V{0, 2, 3}));
  // asymmetric 3 -> 7 (scale 7/3): sources 0, 3/7, 6/7, 9/7, 12/7, 15/7, 18/7.
  EXPECT_EQ(nearest_indices("asymmetric", "round_prefer_ceil", 3, 7), (V{0, 0, 1, 1, 2, 2, 2}));
  EXPECT_EQ(nearest_indices("asymmetric", "floor", 3, 7), (V{0, 0, 0, 1, 1, 2, 2}));
  // tf_half_pixel_for_nn 4 -> 8: sources 0.25, 0.75, ..., 3.75.
  EXPECT_EQ(nearest_indices("tf_half_pixel_for_nn", "round_prefer_floor", 4, 8), (V{0, 1, 1, 2, 2, 3, 3, 3}));
  // An unscaled axis is copied, not shifted by the +0.5 (as ONNX Runtime does).
  EXPECT_EQ(nearest_indices("tf_half_pixel_for_nn", "round_prefer_ceil", 4, 4), (V{0, 1, 2, 3}));
  // pytorch_half_pixel to a single output: source 0.
  EXPECT_EQ(nearest_indices("pytorch_half_pixel", "round_prefer_ceil", 4, 1), (V{0}));
  // Resize-10: asymmetric; truncate when upsampling, ceil when downsampling.
  EXPECT_EQ(nearest_indices("", "", 3, 6, 10), (V{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(nearest_indices("", "", 4, 2, 10), (V{0, 2}));
  EXPECT_EQ(nearest_indices("", "", 5, 3, 10), (V{0, 2, 4}));  // scale 0.6: 0, 1.67, 3.33 -> ceil
}

TEST(OpsNnResize, LinearOnnxDocExamples) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  auto r = run_op(resize({{"mode", attr_s("linear")}}, x, std::vector<float>{1, 1, 2, 2}, std::nullopt));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {1, 1, 4, 4},
                  {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4});
  r = run_op(resize({{"mode", attr_s("linear")}, {"coordinate_transformation_mode", attr_s("align_corners")}}, x,
                    std::vector<float>{1, 1, 2, 2}, std::nullopt));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const float t = 1.f / 3, u = 2.f / 3;
  expect_near_all(r.value()[0], {1, 1, 4, 4},
                  {1, 1 + t, 1 + u, 2, 1 + u, 2, 2 + t, 2 + u, 2 + t, 2 + u, 3, 3 + t, 3, 3 + t, 3 + u, 4});
}

// Source coordinate per the spec, clamped for linear; then the 1-D interpolation weights.
double source(const std::string& mode, int64_t o, int64_t in, int64_t out, double scale) {
  if (mode == "half_pixel") return (o + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
  if (mode == "align_corners") return out == 1 ? 0 : o * double(in - 1) / double(out - 1);
  return o / scale;  // asymmetric
}

TEST(OpsNnResize, LinearMatchesFormulaOnEveryAxis) {
  // Linear on all three axes of a 3-D tensor (trilinear), by sizes and by scales.
  Tensor x = random_tensor({3, 4, 5}, 1001);
  for (const char* mode : {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"}) {
    for (bool by_sizes : {false, true}) {
      SCOPED_TRACE(std::string(mode) + (by_sizes ? " sizes" : " scales"));
      const Dims out = {2, 7, 5};
      std::vector<float> sc = {2.f / 3, 1.75f, 1.f};
      Attrs a = {{"mode", attr_s("linear")}, {"coordinate_transformation_mode", attr_s(mode)}};
      auto r = run_op(by_sizes ? resize(a, x, std::nullopt, std::vector<int64_t>{2, 7, 5}) : resize(a, x, sc, std::nullopt));
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      std::vector<float> want;
      for (int64_t i = 0; i < out[0]; ++i)
        for (int64_t j = 0; j < out[1]; ++j)
          for (int64_t k = 0; k < out[2]; ++k) {
            const int64_t o[3] = {i, j, k};
            int64_t lo[3];
            double w[3];
            for (int d = 0; d < 3; ++d) {
              const double scale = by_sizes ? double(out[d]) / x.dim(d) : sc[d];
              double s = source(mode, o[d], x.dim(d), out[d], scale);
              s = std::min(std::max(s, 0.0), double(x.dim(d) - 1));
              lo[d] = static_cast<int64_t>(std::floor(s));
              w[d] = s - lo[d];
            }
            double acc = 0;
            for (int c = 0; c < 8; ++c) {
              double wt = 1;
              int64_t off = 0;
              for (int d = 0; d < 3; ++d) {
                const int bit = (c >> (2 - d)) & 1;
                const int64_t idx = std::min(lo[d] + bit, x.dim(d) - 1);
                wt *= bit ? w[d] : 1 - w[d];
                off = off * x.dim(d) + idx;
              }
              acc += wt * x.data<float>()[off];
            }
            want.push_back(static_cast<float>(acc));
          }
      expect_near_all(r.value()[0], out, want, 1e-5f);
    }
  }
}

// Keys cubic kernel by distance, written from its textbook form.
double keys(double d, double a) {
  d = std::fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((d - 5) * d + 8) * d * a - 4 * a;
  return 0;
}

TEST(OpsNnResize, CubicMatchesKeysKernel) {
  Tensor x = random_tensor({1, 6}, 1002);
  for (bool exclude : {false, true}) {
    for (float a : {-0.75f, -0.5f}) {
      SCOPED_TRACE(std::to_string(a) + (exclude ? " exclude_outside" : ""));
      auto r = run_op(resize({{"mode", attr_s("cubic")}, {"cubic_coeff_a", attr_f(a)}, {"exclude_outside", attr_i(exclude)}},
                             x, std::vector<float>{1.f, 1.5f}, std::nullopt));
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      std::vector<float> want;
      for (int64_t o = 0; o < 9; ++o) {
        const double s = (o + 0.5) / 1.5 - 0.5;
        const int64_t base = static_cast<int64_t>(std::floor(s));
        double acc = 0, wsum = 0;
        for (int64_t i = base - 1; i <= base + 2; ++i) {
          double w = keys(s - i, a);
          if (exclude && (i < 0 || i >= 6)) w = 0;
          acc += w * x.data<float>()[std::min<int64_t>(std::max<int64_t>(i, 0), 5)];
          wsum += w;
        }
        want.push_back(static_cast<float>(exclude ? acc / wsum : acc));
      }
      expect_near_all(r.value()[0], {1, 9}, want, 1e-5f);
    }
  }
}

TEST(OpsNnResize, AxesAndKeepAspectRatio) {
  Tensor x = random_tensor({1, 1, 4, 6}, 1003);
  struct {
    const char* policy;
    Dims out;
  } cases[] = {{"stretch", {1, 1, 6, 6}}, {"not_larger", {1, 1, 4, 6}}, {"not_smaller", {1, 1, 6, 9}}};
  for (const auto& k : cases) {
    SCOPED_TRACE(k.policy);
    OpCall c = resize({{"axes", attr_ints({2, 3})}, {"keep_aspect_ratio_policy", attr_s(k.policy)}}, x, std::nullopt,
                      std::vector<int64_t>{6, 6}, 18);
    auto r = infer_op(c);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(dims_to_string(r.value()[0].dims), dims_to_string(k.out));
  }
  // Scales with negative axes: only the listed axis changes.
  auto r = run_op(resize({{"axes", attr_ints({-1})}}, x, std::vector<float>{0.5f}, std::nullopt, 18));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(dims_to_string(r.value()[0].dims()), "[1,1,4,3]");
}

TEST(OpsNnResize, ScalesOutputSizeFloorsAndOpset13OptionalInputs) {
  Tensor x = random_tensor({1, 1, 5, 5}, 1004);
  // floor(5 * 1.5) = 7; roi and scales omitted entirely in opset 13.
  auto r = infer_op(resize({}, x, std::vector<float>{1, 1, 1.5f, 0.5f}, std::nullopt));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(dims_to_string(r.value()[0].dims), "[1,1,7,2]");
  OpCall c{"Resize", {}, {x, std::nullopt, std::nullopt, i64({1, 1, 3, 3}, {4})}, 13};
  auto r2 = run_op(c);
  ASSERT_TRUE(r2.ok()) << r2.status().to_string();
  EXPECT_EQ(dims_to_string(r2.value()[0].dims()), "[1,1,3,3]");
}

TEST(OpsNnResize, NeedsConstantScales) {
  OpCall c = resize({}, random_tensor({1, 1, 2, 2}, 1), std::vector<float>{1, 1, 2, 2}, std::nullopt, 11);
  c.infer_without_values = true;
  auto r = infer_op(c);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_needs_value(r.status())) << r.status().to_string();
}

TEST(OpsNnResize, Errors) {
  Tensor x = random_tensor({1, 1, 2, 2}, 1);
  expect_error(resize({}, x, std::vector<float>{1, 1, 2, 2}, std::vector<int64_t>{1, 1, 4, 4}), "exactly one");
  expect_error(resize({}, x, std::nullopt, std::nullopt), "neither scales nor sizes");
  expect_error(resize({}, x, std::vector<float>{2, 2}, std::nullopt), "scales has 2 values, expected 4");
  expect_error(resize({}, x, std::vector<float>{1, 1, -2, 2}, std::nullopt), "positive");
  expect_error(resize({}, x, std::nullopt, std::vector<int64_t>{1, 1, -4, 4}), "size -4");
  expect_error(resize({{"antialias", attr_i(1)}}, x, std::vector<float>{1, 1, 2, 2}, std::nullopt, 18), "antialias");
  expect_error(resize({{"mode", attr_s("area")}}, x, std::vector<float>{1, 1, 2, 2}, std::nullopt), "mode 'area'");
  expect_error(resize({{"nearest_mode", attr_s("nearest")}}, x, std::vector<float>{1, 1, 2, 2}, std::nullopt), "nearest_mode");
  expect_error(OpCall{"Resize", {{"mode", attr_s("cubic")}}, {x, f32({1, 1, 2, 2}, {4})}, 10}, "mode 'cubic'");
  expect_error(resize({}, x, std::vector<float>{1, 1, 1e30f, 1}, std::nullopt), "sane");
  expect_error(resize({}, x, std::nullopt, std::vector<int64_t>{1, 1, 1 << 20, 1 << 20}), "too large");
}

// tf_crop_and_resize: X, roi (starts then ends, normalized), no scales, sizes.
OpCall crop(const std::string& mode, std::vector<float> roi, std::vector<int64_t> sizes, std::optional<float> extrapolation) {
  Attrs a = {{"mode", attr_s(mode)}, {"coordinate_transformation_mode", attr_s("tf_crop_and_resize")}};
  if (extrapolation) a["extrapolation_value"] = attr_f(*extrapolation);
  const auto nr = static_cast<int64_t>(roi.size()), ns = static_cast<int64_t>(sizes.size());
  return OpCall{"Resize", std::move(a), {f32({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}), f32(roi, {nr}), empty_f32(), i64(sizes, {ns})}, 13};
}

TEST(OpsNnResize, TfCropAndResizeExtrapolatesOutsideTheImage) {
  // roi H [-0.5, 0.5], W [0.25, 1.25] over a 3x3 image, 3x3 output: source rows
  // -1 + o = -1 (outside), 0, 1; source columns 0.5 + o = 0.5, 1.5, 2.5 (outside, > 2).
  const std::vector<float> roi = {0, 0, -0.5f, 0.25f, 1, 1, 0.5f, 1.25f};
  auto lin = run_op(crop("linear", roi, {1, 1, 3, 3}, -1.f));
  ASSERT_TRUE(lin.ok()) << lin.status().to_string();
  expect_near_all(lin.value()[0], {1, 1, 3, 3}, {-1, -1, -1, 1.5f, 2.5f, -1, 4.5f, 5.5f, -1});
  // Nearest (round_prefer_floor: 0.5 -> 0, 1.5 -> 1); the default extrapolation value is 0.
  auto nn = run_op(crop("nearest", roi, {1, 1, 3, 3}, std::nullopt));
  ASSERT_TRUE(nn.ok()) << nn.status().to_string();
  expect_near_all(nn.value()[0], {1, 1, 3, 3}, {0, 0, 0, 1, 2, 0, 4, 5, 0}, 0.f);
  // A single output samples the roi centre: row 0.5 * (0 + 1) * 2 = 1, column 0.5 * 1.5 * 2 = 1.5.
  auto one = run_op(crop("linear", {0, 0, 0, 0.5f, 1, 1, 1, 1}, {1, 1, 1, 1}, -1.f));
  ASSERT_TRUE(one.ok()) << one.status().to_string();
  expect_near_all(one.value()[0], {1, 1, 1, 1}, {5.5f});
  // Upscaling a crop inside the image: rows 0.5, 1.25, 2; columns 0, 0.5, 1.
  auto up = run_op(crop("linear", {0, 0, 0.25f, 0, 1, 1, 1, 0.5f}, {1, 1, 3, 3}, -1.f));
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  expect_near_all(up.value()[0], {1, 1, 3, 3}, {2.5f, 3, 3.5f, 4.75f, 5.25f, 5.75f, 7, 7.5f, 8});
  expect_error(crop("linear", {0, 0, 1, 1}, {1, 1, 3, 3}, std::nullopt), "roi has 4 values, expected 8");
}

// ---------------------------------------------------------------- Upsample

TEST(OpsNnUpsample, NearestAndLinear) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  // Opset 7: scales attribute; opset 9: scales input. Nearest 2x3.
  const std::vector<float> want_nearest = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  auto r7 = run_op(OpCall{"Upsample", {{"scales", attr_floats({1, 1, 2, 3})}}, {x}, 7});
  ASSERT_TRUE(r7.ok()) << r7.status().to_string();
  expect_near_all(r7.value()[0], {1, 1, 4, 6}, want_nearest, 0.f);
  auto r9 = run_op(OpCall{"Upsample", {}, {x, f32({1, 1, 2, 3}, {4})}, 9});
  ASSERT_TRUE(r9.ok()) << r9.status().to_string();
  expect_near_all(r9.value()[0], {1, 1, 4, 6}, want_nearest, 0.f);
  // Linear, asymmetric: sources 0, 0.5, 1 (clamped), 1.5 (clamped).
  auto rl = run_op(OpCall{"Upsample", {{"mode", attr_s("linear")}}, {x, f32({1, 1, 2, 2}, {4})}, 9});
  ASSERT_TRUE(rl.ok()) << rl.status().to_string();
  expect_near_all(rl.value()[0], {1, 1, 4, 4}, {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4});
  expect_error(OpCall{"Upsample", {}, {x}, 7}, "scales");
  expect_error(OpCall{"Upsample", {{"mode", attr_s("cubic")}}, {x, f32({1, 1, 2, 2}, {4})}, 9}, "mode 'cubic'");
}

// One op object run on changing shapes, scales and layouts re-plans each time (the op
// caches its tables and the fast kernels' indirection per shape): every run must equal a
// fresh op's run.
TEST(OpsNnResize, ReplansWhenShapeOrScalesChange) {
  for (const char* mode : {"nearest", "linear"}) {
    SCOPED_TRACE(mode);
    const Attrs a = {{"mode", attr_s(mode)}};
    const OpCall first = resize(a, random_tensor({1, 2, 3, 4}, 1), std::vector<float>{1, 1, 2, 2}, std::nullopt);
    Model m = make_model(first);
    auto op = create_op(OpContext{m.graph.nodes[0], m, first.opset});
    ASSERT_TRUE(op.ok()) << op.status().to_string();
    const OpCall calls[] = {first,
                            resize(a, random_tensor({1, 2, 5, 3}, 2), std::vector<float>{1, 1, 2, 2}, std::nullopt),
                            resize(a, random_tensor({1, 2, 5, 3}, 3), std::vector<float>{1, 1, 3, 1.5f}, std::nullopt),
                            resize(a, random_tensor({2, 4, 4, 3}, 4), std::vector<float>{1, 2, 0.5f, 1}, std::nullopt),
                            first};
    for (const OpCall& c : calls) {
      auto want = run_op(c);
      ASSERT_TRUE(want.ok()) << want.status().to_string();
      std::vector<Tensor> in;
      for (const auto& t : c.inputs) in.push_back(*t);
      std::vector<Tensor> out = {Tensor::make(DType::kF32, want.value()[0].dims()).value()};
      ASSERT_TRUE(op.value()->run(in, out).ok());
      const Tensor& w = want.value()[0];
      ASSERT_EQ(0, std::memcmp(out[0].raw(), w.raw(), static_cast<size_t>(w.size()) * sizeof(float)));
    }
  }
}

}  // namespace
}  // namespace kiln::nntest
