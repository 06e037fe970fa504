// The softmax family against double-precision math: the vector exp inside every
// raddstoreexpminusmax kernel (error bound over [-87.3, 0], the cutoff, -inf and NaN), the
// rmax / rsum row kernels, vmulc / vaddc, and whole softmax / log-softmax rows through the
// default kernels against f32_softmax_reference, over n = 0, 1, lanes-1, tile-1, tile,
// tile+1, odd and large, rows inside a larger buffer and in place. Runs natively and in
// WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/reference/reference.h"

namespace kiln {

void PrintTo(const F32RaddstoreexpminusmaxKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const F32VopcKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const F32RmaxKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const F32RsumKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<size_t> row_lengths(size_t tile) {
  return {1, 2, 3, 4, 5, tile - 1, tile, tile + 1, 2 * tile + 3, 3 * tile - 1, 257, 1000};
}

template <class T>
std::string kernel_name(const ::testing::TestParamInfo<T>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

// Worst relative error of the exp polynomial measured here, per ISA: documented in
// f32-softmax-ukernel.h and src/kernels/README.md.
constexpr double kExpRelError = 4e-7;

class F32Raddstoreexpminusmax : public ::testing::TestWithParam<F32RaddstoreexpminusmaxKernel> {};

TEST_P(F32Raddstoreexpminusmax, ExpErrorBound) {
  const auto& k = GetParam();
  // Every representable step of a fine grid over the whole non-flushed range, max = 0.
  const size_t n = 200003;
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = -87.3f * static_cast<float>(i) / static_cast<float>(n - 1);
  float sum = 0;
  k.fn(n, x.data(), 0.f, y.data(), &sum);
  double worst = 0, total = 0;
  for (size_t i = 0; i < n; ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::fabs(y[i] - want) / want);
    total += y[i];
  }
  EXPECT_LT(worst, kExpRelError) << k.name;
  // The float sum of 200k values in tile partial sums: worst case about (n / tile) ulp.
  EXPECT_NEAR(sum, total, 6e-8 * (static_cast<double>(n) / static_cast<double>(k.tile) + 16) * total);
  std::printf("%s: max relative error of exp over [-87.3, 0]: %.3g\n", k.name, worst);  // for the README
}

TEST_P(F32Raddstoreexpminusmax, CutoffInfinityAndNaN) {
  const auto& k = GetParam();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {-87.5f, -100.f, -inf, -1e30f, 0.f, -0.f, -87.3f, -1.f, -2.f};
  std::vector<float> y(x.size());
  float sum;
  k.fn(x.size(), x.data(), 0.f, y.data(), &sum);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(y[i], 0.f) << "x = " << x[i];
  EXPECT_NEAR(y[4], 1.f, 1e-6f);
  EXPECT_NEAR(y[5], 1.f, 1e-6f);
  EXPECT_GT(y[6], 0.f);
  // NaN propagates into the value and the sum, wherever it sits (vector body or tail).
  for (size_t at : {size_t{0}, x.size() - 1}) {
    std::vector<float> xn = x;
    xn[at] = std::numeric_limits<float>::quiet_NaN();
    k.fn(xn.size(), xn.data(), 0.f, y.data(), &sum);
    EXPECT_TRUE(std::isnan(y[at])) << "at " << at;
    EXPECT_TRUE(std::isnan(sum)) << "at " << at;
  }
}

TEST_P(F32Raddstoreexpminusmax, RowLengths) {
  const auto& k = GetParam();
  for (size_t n : row_lengths(k.tile)) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const std::vector<float> x = random_floats(n, static_cast<uint32_t>(n), -20.f, 5.f);
    const float max = *std::max_element(x.begin(), x.end());
    const float sentinel = 777.f;
    std::vector<float> y(n + 3, sentinel);
    float sum = -1;
    k.fn(n, x.data(), max, y.data(), &sum);
    double want_sum = 0;
    for (size_t i = 0; i < n; ++i) {
      const double want = std::exp(static_cast<double>(x[i] - max));
      want_sum += want;
      ASSERT_NEAR(y[i], want, kExpRelError * want + 1e-38) << "at " << i;
    }
    for (size_t i = n; i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past n";
    EXPECT_NEAR(sum, want_sum, 2e-6 * want_sum);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32Raddstoreexpminusmax,
                         ::testing::ValuesIn(f32_raddstoreexpminusmax_kernels().begin(),
                                             f32_raddstoreexpminusmax_kernels().end()),
                         kernel_name<F32RaddstoreexpminusmaxKernel>);

// vmulc / vaddc: exactly x * c and x + c, in place too.
void test_vopc(const F32VopcKernel& k, bool mul) {
  for (size_t n : row_lengths(k.tile)) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const std::vector<float> x = random_floats(n, static_cast<uint32_t>(n) + 5);
    const float c = 1.f / 3.f, sentinel = 777.f;
    std::vector<float> y(n + 3, sentinel);
    k.fn(n, x.data(), c, y.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], mul ? x[i] * c : x[i] + c) << "at " << i;
    for (size_t i = n; i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past n";
    std::vector<float> z = x;
    k.fn(n, z.data(), c, z.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(z[i], y[i]) << "in place, at " << i;
  }
}

class F32Vmulc : public ::testing::TestWithParam<F32VopcKernel> {};
TEST_P(F32Vmulc, RowLengths) { test_vopc(GetParam(), true); }
INSTANTIATE_TEST_SUITE_P(Kernels, F32Vmulc, ::testing::ValuesIn(f32_vmulc_kernels().begin(), f32_vmulc_kernels().end()),
                         kernel_name<F32VopcKernel>);
class F32Vaddc : public ::testing::TestWithParam<F32VopcKernel> {};
TEST_P(F32Vaddc, RowLengths) { test_vopc(GetParam(), false); }
INSTANTIATE_TEST_SUITE_P(Kernels, F32Vaddc, ::testing::ValuesIn(f32_vaddc_kernels().begin(), f32_vaddc_kernels().end()),
                         kernel_name<F32VopcKernel>);

class F32Rmax : public ::testing::TestWithParam<F32RmaxKernel> {};
TEST_P(F32Rmax, RowLengthsAndPositions) {
  const auto& k = GetParam();
  float y = 0;
  k.fn(0, nullptr, &y);
  EXPECT_EQ(y, -std::numeric_limits<float>::infinity());
  for (size_t n : row_lengths(k.tile)) {
    std::vector<float> x = random_floats(n, static_cast<uint32_t>(n) + 9, -5.f, -1.f);
    // The maximum at every position once: first, vector body, vector tail, scalar tail.
    for (size_t at : {size_t{0}, n / 2, n - 1, n > 5 ? n - 5 : 0}) {
      std::vector<float> xs = x;
      xs[at] = 3.5f;
      k.fn(n, xs.data(), &y);
      ASSERT_EQ(y, 3.5f) << "n=" << n << " max at " << at;
    }
    k.fn(n, x.data(), &y);
    ASSERT_EQ(y, *std::max_element(x.begin(), x.end())) << "n=" << n;
  }
}
INSTANTIATE_TEST_SUITE_P(Kernels, F32Rmax, ::testing::ValuesIn(f32_rmax_kernels().begin(), f32_rmax_kernels().end()),
                         kernel_name<F32RmaxKernel>);

class F32Rsum : public ::testing::TestWithParam<F32RsumKernel> {};
TEST_P(F32Rsum, RowLengthsAndScale) {
  const auto& k = GetParam();
  float y = 1;
  k.fn(0, nullptr, &y, 0.5f);
  EXPECT_EQ(y, 0.f);
  for (size_t n : row_lengths(k.tile)) {
    const std::vector<float> x = random_floats(n, static_cast<uint32_t>(n) + 11);
    double want = 0, mag = 0;
    for (float v : x) want += v, mag += std::fabs(v);
    k.fn(n, x.data(), &y, 0.25f);
    ASSERT_NEAR(y, 0.25 * want, 1e-6 * mag + 1e-7) << "n=" << n;
  }
}
INSTANTIATE_TEST_SUITE_P(Kernels, F32Rsum, ::testing::ValuesIn(f32_rsum_kernels().begin(), f32_rsum_kernels().end()),
                         kernel_name<F32RsumKernel>);

// Whole rows through the default kernels: inside a larger buffer (row stride > n) and in place.
TEST(F32SoftmaxRow, MatchesReference) {
  const F32SoftmaxKernels& k = f32_softmax_default_kernels();
  for (bool log : {false, true})
    for (size_t n : row_lengths(16)) {
      SCOPED_TRACE(std::string(log ? "log-softmax" : "softmax") + " n=" + std::to_string(n));
      const size_t rows = 3, stride = n + 7;
      const std::vector<float> x = random_floats(rows * stride, static_cast<uint32_t>(n) * 3, -30.f, 30.f);
      std::vector<float> y(rows * stride, 777.f), want(n);
      for (size_t r = 0; r < rows; ++r) {
        f32_softmax_row(k, n, x.data() + r * stride, y.data() + r * stride, log);
        f32_softmax_reference(1, n, 1, x.data() + r * stride, want.data(), log);
        for (size_t i = 0; i < n; ++i)
          ASSERT_NEAR(y[r * stride + i], want[i], 2e-6f * std::fabs(want[i]) + (log ? 1e-5f : 1e-7f))
              << "row " << r << " at " << i;
        for (size_t i = n; i < stride; ++i) ASSERT_EQ(y[r * stride + i], 777.f) << "wrote between rows";
      }
      if (!log) {  // softmax in place
        std::vector<float> z(x.begin(), x.begin() + static_cast<ptrdiff_t>(n));
        f32_softmax_row(k, n, z.data(), z.data(), false);
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(z[i], y[i]) << "in place, at " << i;
      }
    }
}

TEST(F32SoftmaxRow, LargeAndMaskedInputs) {
  const F32SoftmaxKernels& k = f32_softmax_default_kernels();
  const float inf = std::numeric_limits<float>::infinity();
  // Large magnitudes do not overflow; -inf (masked) entries get exactly 0.
  const std::vector<float> x = {1e30f, 1e30f, -inf, 3.f, -1e30f, 1e30f, -inf};
  std::vector<float> y(x.size());
  f32_softmax_row(k, x.size(), x.data(), y.data(), false);
  for (size_t i : {0, 1, 5}) EXPECT_NEAR(y[i], 1.f / 3.f, 1e-6f);
  for (size_t i : {2, 3, 4, 6}) EXPECT_EQ(y[i], 0.f);
  f32_softmax_row(k, x.size(), x.data(), y.data(), true);
  EXPECT_NEAR(y[0], -std::log(3.f), 1e-6f);
  EXPECT_EQ(y[2], -inf);
}

}  // namespace
}  // namespace kiln
