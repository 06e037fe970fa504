// Every f32 layer-norm row kernel of this build against the double-precision reference
// (f32_layernorm_reference): n = 1, lanes-1, tile-1, tile, tile+1, odd and large; with and
// without bias; the Mean / InvStdDev statistics; rows with a large common offset (where a
// one-pass E[x^2] - mean^2 would cancel); a constant row (variance 0: rstd = 1/sqrt(eps));
// rows inside a larger buffer and in place. Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-layernorm/f32-layernorm.h"
#include "kernels/reference/reference.h"

namespace kiln {

void PrintTo(const F32LayerNormKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

class F32LayerNorm : public ::testing::TestWithParam<F32LayerNormKernel> {};

// rows x n values at row stride n + gap, offset + U(-spread, spread).
void check(const F32LayerNormKernel& k, size_t n, bool bias, float offset, float spread, float eps, size_t gap,
           bool in_place) {
  SCOPED_TRACE(std::string(k.name) + " n=" + std::to_string(n) + (bias ? " bias" : "") + " offset=" +
               std::to_string(offset) + " spread=" + std::to_string(spread) + " gap=" + std::to_string(gap) +
               (in_place ? " in place" : ""));
  const size_t rows = 3, stride = n + gap;
  std::vector<float> x = random_floats(rows * stride, static_cast<uint32_t>(n * 31 + gap), -spread, spread);
  for (float& v : x) v += offset;
  const std::vector<float> gamma = random_floats(n, static_cast<uint32_t>(n) + 1, 0.5f, 2.f);
  const std::vector<float> beta = random_floats(n, static_cast<uint32_t>(n) + 2, -1.f, 1.f);
  std::vector<float> y(rows * stride, 777.f), want(n), mean(rows), rstd(rows);
  if (in_place) y = x;
  for (size_t r = 0; r < rows; ++r) {
    float m_want, r_want;
    f32_layernorm_reference(1, n, x.data() + r * stride, gamma.data(), bias ? beta.data() : nullptr, eps,
                            want.data(), &m_want, &r_want);
    k.fn(n, (in_place ? y.data() : x.data()) + r * stride, gamma.data(), bias ? beta.data() : nullptr, eps,
         y.data() + r * stride, &mean[r], &rstd[r]);
    ASSERT_NEAR(mean[r], m_want, 1e-6f * (1.f + std::fabs(m_want))) << "row " << r;
    ASSERT_NEAR(rstd[r], r_want, 2e-5f * r_want) << "row " << r;
    for (size_t i = 0; i < n; ++i)
      ASSERT_NEAR(y[r * stride + i], want[i], 2e-5f * (1.f + std::fabs(want[i]))) << "row " << r << " at " << i;
    if (!in_place)
      for (size_t i = n; i < stride; ++i) ASSERT_EQ(y[r * stride + i], 777.f) << "wrote between rows";
  }
}

std::vector<size_t> row_lengths(size_t tile) {
  return {1, 2, 3, 5, tile - 1, tile, tile + 1, 2 * tile + 3, 3 * tile - 1, 384, 1001};
}

TEST_P(F32LayerNorm, RowLengthsWithAndWithoutBias) {
  for (size_t n : row_lengths(GetParam().tile))
    for (bool bias : {true, false}) check(GetParam(), n, bias, 0.f, 3.f, 1e-5f, 0, false);
}

TEST_P(F32LayerNorm, LargeOffsetIsNumericallyStable) {
  // mean 1000, deviations ~1: float E[x^2] - mean^2 would lose all digits.
  for (size_t n : {GetParam().tile + 1, size_t{384}}) check(GetParam(), n, true, 1000.f, 1.f, 1e-5f, 0, false);
}

TEST_P(F32LayerNorm, StridedRowsAndInPlace) {
  for (size_t n : {size_t{7}, GetParam().tile, size_t{100}}) {
    check(GetParam(), n, true, 0.5f, 2.f, 1e-3f, 5, false);
    check(GetParam(), n, true, 0.5f, 2.f, 1e-3f, 5, true);
  }
}

TEST_P(F32LayerNorm, ConstantRowUsesEpsilon) {
  const F32LayerNormKernel& k = GetParam();
  const size_t n = k.tile + 3;
  const std::vector<float> x(n, 4.f), gamma(n, 2.f), beta(n, 0.5f);
  std::vector<float> y(n);
  float mean = 0, rstd = 0;
  k.fn(n, x.data(), gamma.data(), beta.data(), 0.25f, y.data(), &mean, &rstd);
  EXPECT_EQ(mean, 4.f);
  EXPECT_EQ(rstd, 2.f);  // 1 / sqrt(0 + 0.25)
  for (float v : y) EXPECT_EQ(v, 0.5f);
  k.fn(n, x.data(), gamma.data(), nullptr, 0.25f, y.data(), nullptr, nullptr);  // statistics optional
  for (float v : y) EXPECT_EQ(v, 0.f);
}

std::string kernel_name(const ::testing::TestParamInfo<F32LayerNormKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32LayerNorm,
                         ::testing::ValuesIn(f32_layernorm_kernels().begin(), f32_layernorm_kernels().end()),
                         kernel_name);

TEST(F32LayerNormConfig, DefaultIsListed) {
  const F32LayerNormKernel& d = f32_layernorm_default_kernel();
  EXPECT_TRUE(std::any_of(f32_layernorm_kernels().begin(), f32_layernorm_kernels().end(),
                          [&](const F32LayerNormKernel& k) { return k.fn == d.fn; }));
  check(d, 384, true, 0.f, 1.f, 1e-5f, 0, false);
}

}  // namespace
}  // namespace kiln
