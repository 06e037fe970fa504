// The resize microkernels (src/kernels/f32-resize) and the op-facing ResizeKernels plan.
// Every kernel of the build against plain loops: channels / pixels 1, tile-1, tile, tile+1,
// large, strided outputs, moved inputs (input_offset), NaN payloads for the exact gather.
// ResizeKernels against the reference kernel f32_resize_reference on tap tables for every
// coordinate transformation and nearest mode, NHWC and NCHW, up- and down-sampling, odd
// scales, one or two resized axes, tf_crop_and_resize extrapolation, and 1 vs 3 threads
// (bit-identical). Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-resize/f32-resize.h"
#include "kernels/reference/reference.h"
#include "ops/resize_kernels.h"
#include "platform/thread_pool.h"

namespace kiln {

void PrintTo(const F32IbilinearKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const F32IbilinearChwKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const X32IgatherKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<size_t> sizes_around(size_t tile) {
  std::vector<size_t> v = {1, 2, tile + 1, 2 * tile + 3, 67};
  if (tile > 1) v.push_back(tile - 1), v.push_back(tile);
  return v;
}

float lerp(float a, float b, float t) { return a + (b - a) * t; }

// --- microkernels ----------------------------------------------------------------------

class F32Ibilinear : public ::testing::TestWithParam<F32IbilinearKernel> {};

TEST_P(F32Ibilinear, MatchesPlainLoops) {
  const F32IbilinearKernel& k = GetParam();
  for (size_t channels : sizes_around(k.tile))
    for (size_t pixels : {size_t{1}, size_t{3}, size_t{11}})
      for (size_t extra_stride : {size_t{0}, size_t{5}}) {
        SCOPED_TRACE("channels=" + std::to_string(channels) + " pixels=" + std::to_string(pixels) +
                     " stride+" + std::to_string(extra_stride));
        const size_t in_pixels = 13;
        const std::vector<float> x = random_floats(in_pixels * channels, static_cast<uint32_t>(channels + pixels));
        std::mt19937 rng(static_cast<uint32_t>(channels * 31 + pixels));
        std::vector<const float*> ind(4 * pixels);
        std::vector<float> w(2 * pixels);
        // Offsets from base 0; the kernel adds the input's address (a moved input).
        for (auto& p : ind)
          p = reinterpret_cast<const float*>(static_cast<uintptr_t>(rng() % in_pixels * channels * sizeof(float)));
        std::uniform_real_distribution<float> unit(0.f, 1.f);
        for (float& a : w) a = unit(rng);
        const size_t stride = channels + extra_stride;
        const float sentinel = 777.f;
        std::vector<float> y(pixels * stride + 3, sentinel);
        k.fn(pixels, channels, ind.data(), reinterpret_cast<uintptr_t>(x.data()), w.data(), y.data(), stride);
        for (size_t p = 0; p < pixels; ++p) {
          auto at = [&](size_t corner, size_t c) {
            return x[reinterpret_cast<uintptr_t>(ind[4 * p + corner]) / sizeof(float) + c];
          };
          for (size_t c = 0; c < channels; ++c) {
            const float top = lerp(at(0, c), at(1, c), w[2 * p]), bottom = lerp(at(2, c), at(3, c), w[2 * p]);
            ASSERT_NEAR(y[p * stride + c], lerp(top, bottom, w[2 * p + 1]), 1e-6f) << "pixel " << p << " c " << c;
          }
          for (size_t c = channels; c < stride && p + 1 < pixels; ++c) ASSERT_EQ(y[p * stride + c], sentinel);
        }
        for (size_t i = (pixels - 1) * stride + channels; i < y.size(); ++i) ASSERT_EQ(y[i], sentinel);
      }
}

INSTANTIATE_TEST_SUITE_P(All, F32Ibilinear, ::testing::ValuesIn(f32_ibilinear_kernels().begin(), f32_ibilinear_kernels().end()),
                         [](const auto& info) { return std::string(info.param.name); });

class F32IbilinearChw : public ::testing::TestWithParam<F32IbilinearChwKernel> {};

TEST_P(F32IbilinearChw, MatchesPlainLoops) {
  const F32IbilinearChwKernel& k = GetParam();
  for (size_t pixels : sizes_around(k.tile))
    for (size_t planes : {size_t{1}, size_t{3}}) {
      SCOPED_TRACE("pixels=" + std::to_string(pixels) + " planes=" + std::to_string(planes));
      const size_t plane = 40, out_plane = pixels + 7;  // strided output planes
      const std::vector<float> x = random_floats(planes * plane, static_cast<uint32_t>(pixels * 7 + planes));
      std::mt19937 rng(static_cast<uint32_t>(pixels + 100 * planes));
      std::vector<const float*> ind(2 * pixels);
      std::vector<float> w(2 * pixels);
      for (auto& p : ind)  // p[0] and p[1] stay inside the plane
        p = reinterpret_cast<const float*>(static_cast<uintptr_t>(rng() % (plane - 1) * sizeof(float)));
      std::uniform_real_distribution<float> unit(0.f, 1.f);
      for (float& a : w) a = unit(rng);
      const float sentinel = -555.f;
      std::vector<float> y(planes * out_plane, sentinel);
      k.fn(pixels, planes, ind.data(), reinterpret_cast<uintptr_t>(x.data()), w.data(), y.data(), out_plane,
           plane * sizeof(float));
      for (size_t c = 0; c < planes; ++c) {
        for (size_t p = 0; p < pixels; ++p) {
          const float* t = x.data() + c * plane + reinterpret_cast<uintptr_t>(ind[2 * p]) / sizeof(float);
          const float* b = x.data() + c * plane + reinterpret_cast<uintptr_t>(ind[2 * p + 1]) / sizeof(float);
          const float want = lerp(lerp(t[0], t[1], w[2 * p]), lerp(b[0], b[1], w[2 * p]), w[2 * p + 1]);
          ASSERT_NEAR(y[c * out_plane + p], want, 1e-6f) << "plane " << c << " pixel " << p;
        }
        for (size_t p = pixels; p < out_plane; ++p) ASSERT_EQ(y[c * out_plane + p], sentinel) << "wrote past the plane";
      }
    }
}

INSTANTIATE_TEST_SUITE_P(All, F32IbilinearChw,
                         ::testing::ValuesIn(f32_ibilinear_chw_kernels().begin(), f32_ibilinear_chw_kernels().end()),
                         [](const auto& info) { return std::string(info.param.name); });

class X32Igather : public ::testing::TestWithParam<X32IgatherKernel> {};

TEST_P(X32Igather, CopiesBitsExactly) {
  const X32IgatherKernel& k = GetParam();
  for (size_t channels : sizes_around(k.tile))
    for (size_t pixels : {size_t{1}, size_t{4}, size_t{9}}) {
      SCOPED_TRACE("channels=" + std::to_string(channels) + " pixels=" + std::to_string(pixels));
      std::mt19937 rng(static_cast<uint32_t>(channels * 5 + pixels));
      const size_t in_pixels = 7;
      std::vector<uint32_t> x(in_pixels * channels);
      for (uint32_t& v : x) v = rng();
      x[0] = 0x7fc01234u;  // a NaN payload must survive
      std::vector<const uint32_t*> ind(pixels);
      for (auto& p : ind)
        p = reinterpret_cast<const uint32_t*>(static_cast<uintptr_t>(rng() % in_pixels * channels * sizeof(uint32_t)));
      const size_t stride = channels + 2;
      std::vector<uint32_t> y(pixels * stride, 0xdeadbeefu);
      k.fn(pixels, channels, ind.data(), reinterpret_cast<uintptr_t>(x.data()), y.data(), stride);
      for (size_t p = 0; p < pixels; ++p) {
        const uint32_t* src = x.data() + reinterpret_cast<uintptr_t>(ind[p]) / sizeof(uint32_t);
        for (size_t c = 0; c < channels; ++c) ASSERT_EQ(y[p * stride + c], src[c]) << "pixel " << p;
        for (size_t c = channels; c < stride; ++c) ASSERT_EQ(y[p * stride + c], 0xdeadbeefu);
      }
    }
}

INSTANTIATE_TEST_SUITE_P(All, X32Igather, ::testing::ValuesIn(x32_igather_kernels().begin(), x32_igather_kernels().end()),
                         [](const auto& info) { return std::string(info.param.name); });

// --- ResizeKernels vs the reference kernel ----------------------------------------------

enum class Coord { kHalfPixel, kAsymmetric, kAlignCorners, kPytorchHalfPixel, kTfHalfPixelForNn, kCrop };
enum class Round { kPreferFloor, kPreferCeil, kFloor, kCeil };

// One axis' tap table, built the way ops/resize_plan.cc does (the kernels only see tables).
struct AxisTable {
  std::vector<int64_t> index;
  std::vector<float> weight;
  std::vector<uint8_t> outside;
  ResizeAxis axis;
};

AxisTable make_axis(int64_t in, int64_t out, bool linear, Coord coord, Round round, float roi0 = 0.f, float roi1 = 1.f) {
  AxisTable t;
  const float scale = static_cast<float>(out) / static_cast<float>(in);
  const size_t taps = linear ? 2 : 1;
  const bool unchanged = in == out && coord != Coord::kCrop;
  for (int64_t o = 0; o < out; ++o) {
    const float x = static_cast<float>(o);
    float xs = x;
    switch (coord) {
      case Coord::kHalfPixel: xs = (x + 0.5f) / scale - 0.5f; break;
      case Coord::kAsymmetric: xs = x / scale; break;
      case Coord::kAlignCorners: xs = out == 1 ? 0.f : x * static_cast<float>(in - 1) / static_cast<float>(out - 1); break;
      case Coord::kPytorchHalfPixel: xs = out > 1 ? (x + 0.5f) / scale - 0.5f : 0.f; break;
      case Coord::kTfHalfPixelForNn: xs = (x + 0.5f) / scale; break;
      case Coord::kCrop: {
        const float span = static_cast<float>(in - 1);
        xs = out > 1 ? roi0 * span + x * (roi1 - roi0) * span / static_cast<float>(out - 1) : 0.5f * (roi0 + roi1) * span;
        t.outside.push_back(xs < 0.f || xs > span);
        break;
      }
    }
    auto clamp = [&](int64_t i) { return std::min(std::max<int64_t>(i, 0), in - 1); };
    if (unchanged) {
      t.index.push_back(o), t.weight.push_back(1.f);
      if (linear) t.index.push_back(o), t.weight.push_back(0.f);
    } else if (!linear) {
      const float f = std::floor(xs);
      int64_t i = 0;
      switch (round) {
        case Round::kPreferFloor: i = static_cast<int64_t>(xs == f + 0.5f ? f : std::round(xs)); break;
        case Round::kPreferCeil: i = static_cast<int64_t>(xs == f + 0.5f ? f + 1.f : std::round(xs)); break;
        case Round::kFloor: i = static_cast<int64_t>(f); break;
        case Round::kCeil: i = static_cast<int64_t>(std::ceil(xs)); break;
      }
      t.index.push_back(clamp(i)), t.weight.push_back(1.f);
    } else {
      const float xc = std::min(std::max(xs, 0.f), static_cast<float>(in - 1));
      const int64_t x0 = static_cast<int64_t>(std::floor(xc));
      t.index.push_back(clamp(x0)), t.index.push_back(clamp(x0 + 1));
      t.weight.push_back(1.f - (xc - static_cast<float>(x0))), t.weight.push_back(xc - static_cast<float>(x0));
    }
  }
  t.axis.in_size = in, t.axis.out_size = out, t.axis.taps = taps;
  return t;
}

AxisTable unchanged_axis(int64_t n) {
  AxisTable t;
  for (int64_t o = 0; o < n; ++o) t.index.push_back(o), t.weight.push_back(1.f);
  t.axis.in_size = t.axis.out_size = n;
  return t;
}

struct Case {
  bool nhwc;
  int64_t n, c, ih, iw, oh, ow;
  bool linear;
  Coord coord;
  Round round;
  bool resize_h = true;
  float roi0 = 0.f, roi1 = 1.f;
};

std::string describe(const Case& k) {
  return std::string(k.nhwc ? "NHWC" : "NCHW") + " n=" + std::to_string(k.n) + " c=" + std::to_string(k.c) + " " +
         std::to_string(k.ih) + "x" + std::to_string(k.iw) + "->" + std::to_string(k.oh) + "x" + std::to_string(k.ow) +
         (k.linear ? " linear" : " nearest") + " coord=" + std::to_string(static_cast<int>(k.coord)) +
         " round=" + std::to_string(static_cast<int>(k.round)) + (k.resize_h ? "" : " W only");
}

// Runs the plan (every kernel combination given) and compares with the reference.
void check_case(const Case& k, const F32IbilinearKernel* lin = nullptr, const F32IbilinearChwKernel* chw = nullptr,
                const X32IgatherKernel* near = nullptr) {
  SCOPED_TRACE(describe(k));
  const int64_t oh = k.resize_h ? k.oh : k.ih;
  std::vector<AxisTable> t;
  t.push_back(unchanged_axis(k.n));
  if (!k.nhwc) t.push_back(unchanged_axis(k.c));
  t.push_back(k.resize_h ? make_axis(k.ih, k.oh, k.linear, k.coord, k.round, k.roi0, k.roi1) : unchanged_axis(k.ih));
  t.push_back(make_axis(k.iw, k.ow, k.linear, k.coord, k.round, k.roi0, k.roi1));
  if (k.nhwc) t.push_back(unchanged_axis(k.c));
  std::vector<ResizeAxis> axes;
  for (AxisTable& a : t) {
    a.axis.index = a.index.data(), a.axis.weight = a.weight.data();
    a.axis.outside = a.outside.empty() ? nullptr : a.outside.data();
    axes.push_back(a.axis);
  }
  const std::vector<float> x = random_floats(static_cast<size_t>(k.n * k.c * k.ih * k.iw), static_cast<uint32_t>(k.iw * 13 + k.c));
  const size_t out_size = static_cast<size_t>(k.n * k.c * oh * k.ow);
  std::vector<float> want(out_size);
  const float extrapolation = -3.5f;
  f32_resize_reference(axes.size(), axes.data(), x.data(), want.data(), extrapolation);

  ResizeKernels plan;
  plan.set_kernels(lin, chw, near);
  ASSERT_TRUE(plan.plan(axes.size(), axes.data()));
  if (k.ih != oh || k.iw != k.ow || k.coord == Coord::kCrop) {
    ASSERT_EQ(plan.path(), !k.linear ? ResizeKernels::Path::kNearest
                                     : (k.nhwc && k.c > 1) || k.iw < 2 ? ResizeKernels::Path::kLinear
                                                                       : ResizeKernels::Path::kLinearChw);
  }
  const float sentinel = 4242.f;
  std::vector<float> y1(out_size + 4, sentinel), y3(out_size + 4, sentinel);
  plan.run(x.data(), y1.data(), extrapolation);  // no pool: one thread
  {
    ThreadPool pool(3);
    ThreadPoolScope scope(&pool);
    plan.run(x.data(), y3.data(), extrapolation);
  }
  // The lerp form and the reference's weighted sum round differently.
  for (size_t i = 0; i < out_size; ++i) ASSERT_NEAR(y1[i], want[i], 2e-6f) << "at " << i;
  for (size_t i = out_size; i < y1.size(); ++i) ASSERT_EQ(y1[i], sentinel) << "wrote past the output";
  ASSERT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * sizeof(float))) << "thread count changed the result";
  // Row ranges in any split give the same bits (the op's threads).
  std::vector<float> ys(out_size + 4, sentinel);
  const size_t rows = plan.rows();
  for (size_t b = 0; b < rows; b += 3) plan.run_rows(x.data(), ys.data(), extrapolation, b, std::min(rows, b + 3));
  ASSERT_EQ(0, std::memcmp(y1.data(), ys.data(), ys.size() * sizeof(float))) << "row split changed the result";
}

const Coord kCoords[] = {Coord::kHalfPixel, Coord::kAsymmetric, Coord::kAlignCorners, Coord::kPytorchHalfPixel,
                         Coord::kTfHalfPixelForNn};
const Round kRounds[] = {Round::kPreferFloor, Round::kPreferCeil, Round::kFloor, Round::kCeil};
// (ih, iw) -> (oh, ow): x2 up, odd up, down, odd down, mixed, size 1 in and out.
const int64_t kShapes[][4] = {{4, 5, 8, 10}, {3, 7, 7, 10}, {9, 13, 4, 6}, {10, 11, 3, 7},
                              {5, 3, 2, 9},  {1, 1, 3, 4},  {6, 4, 1, 1}, {2, 2, 17, 19}};

TEST(ResizeKernels, NearestAllModesBothLayouts) {
  for (bool nhwc : {true, false})
    for (const auto& s : kShapes)
      for (Coord coord : kCoords)
        for (Round round : kRounds)
          for (int64_t c : {1, 3, 9})
            check_case({nhwc, 2, c, s[0], s[1], s[2], s[3], false, coord, round});
}

TEST(ResizeKernels, LinearAllModesBothLayouts) {
  for (bool nhwc : {true, false})
    for (const auto& s : kShapes)
      for (Coord coord : kCoords)
        for (int64_t c : {1, 4, 17})
          check_case({nhwc, 2, c, s[0], s[1], s[2], s[3], true, coord, Round::kFloor});
}

TEST(ResizeKernels, WidthOnlyAndCropAndResize) {
  for (bool nhwc : {true, false})
    for (bool linear : {false, true}) {
      Case w{nhwc, 1, 5, 6, 7, 6, 15, linear, Coord::kHalfPixel, Round::kPreferFloor};
      w.resize_h = false;
      check_case(w);
      // roi partly outside the input: those points get the extrapolation value.
      Case crop{nhwc, 2, 3, 8, 9, 5, 12, linear, Coord::kCrop, Round::kPreferFloor};
      crop.roi0 = -0.25f, crop.roi1 = 1.2f;
      check_case(crop);
    }
}

TEST(ResizeKernels, EveryKernelLarge) {
  for (const F32IbilinearKernel& k : f32_ibilinear_kernels())
    check_case({true, 1, 67, 20, 24, 40, 48, true, Coord::kHalfPixel, Round::kFloor}, &k);
  for (const F32IbilinearChwKernel& k : f32_ibilinear_chw_kernels())
    check_case({false, 1, 3, 20, 24, 41, 50, true, Coord::kAlignCorners, Round::kFloor}, nullptr, &k);
  for (const X32IgatherKernel& k : x32_igather_kernels()) {
    check_case({true, 1, 96, 20, 20, 40, 40, false, Coord::kAsymmetric, Round::kFloor}, nullptr, nullptr, &k);
    check_case({false, 2, 5, 13, 17, 30, 11, false, Coord::kHalfPixel, Round::kPreferCeil}, nullptr, nullptr, &k);
  }
}

TEST(ResizeKernels, LeavesOtherCasesToTheReference) {
  // Three resized axes, a cubic axis (4 taps), two resized axes that are not adjacent.
  AxisTable a = make_axis(4, 8, false, Coord::kAsymmetric, Round::kFloor);
  AxisTable b = make_axis(3, 6, false, Coord::kAsymmetric, Round::kFloor);
  AxisTable u = unchanged_axis(2);
  for (AxisTable* p : {&a, &b, &u}) p->axis.index = p->index.data(), p->axis.weight = p->weight.data();
  ResizeKernels plan;
  const ResizeAxis three[] = {a.axis, b.axis, a.axis};
  EXPECT_FALSE(plan.plan(3, three));
  const ResizeAxis apart[] = {a.axis, u.axis, b.axis};
  EXPECT_FALSE(plan.plan(3, apart));
  ResizeAxis cubic = a.axis;
  cubic.taps = 4;
  const ResizeAxis with_cubic[] = {u.axis, cubic};
  EXPECT_FALSE(plan.plan(2, with_cubic));
  const ResizeAxis same[] = {u.axis, u.axis};
  EXPECT_TRUE(plan.plan(2, same));
  EXPECT_EQ(plan.path(), ResizeKernels::Path::kCopy);
}

}  // namespace
}  // namespace kiln
