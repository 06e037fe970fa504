// Every f32-qs8-vcvt kernel (QuantizeLinear per tensor to int8) of this build against
// f32_qs8_vcvt_reference, bit-exact: n = 1, 15, 16, 17, tile - 1, tile, tile + 1, 2 tiles + 5,
// 1031; zero points -128 / 0 / 127; scales small, large and negative; NaN (-> the zero
// point), +-inf, +-0, huge values, exact halfway cases; unaligned pointers; no writes past n.
// Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"

namespace kiln {

void PrintTo(const F32QS8VcvtKernel& k, std::ostream* os) { *os << k.name; }

namespace {

class F32QS8Vcvt : public ::testing::TestWithParam<F32QS8VcvtKernel> {};

TEST_P(F32QS8Vcvt, MatchesTheReference) {
  const F32QS8VcvtKernel& k = GetParam();
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {nan, inf, -inf, 0.f, -0.f, 1e30f, -1e30f, 0.25f, 0.75f, -0.25f, -1.25f, 3e-39f};
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-3.f, 3.f);
  int nan_lanes = 0, ends = 0;
  for (size_t n : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, k.tile - 1, k.tile, k.tile + 1, 2 * k.tile + 5,
                   size_t{1031}})
    for (int zero : {-128, 0, 127})
      for (float scale : {0.5f, 1.f / 255.f, 0.0173f, 3.7f, -0.05f})
        for (size_t off : {0, 3}) {
          constexpr size_t kGuard = 19;
          std::vector<float> x(off + n + kGuard);
          for (size_t i = 0; i < x.size(); ++i) x[i] = i % 5 == 2 ? specials[i % 12] : dist(rng);
          std::vector<int8_t> want(n), y(off + n + kGuard, static_cast<int8_t>(0x5A));
          const F32QS8CvtParams p{scale, zero};
          f32_qs8_vcvt_reference(n, x.data() + off, want.data(), p);
          k.fn(n, x.data() + off, y.data() + off, p);
          for (size_t i = 0; i < n; ++i) {
            ASSERT_EQ(static_cast<int>(y[off + i]), static_cast<int>(want[i]))
                << k.name << " n=" << n << " zero=" << zero << " scale=" << scale << " at " << i << " x=" << x[off + i];
            nan_lanes += x[off + i] != x[off + i];
            ends += want[i] == -128 || want[i] == 127;
          }
          for (size_t i = off + n; i < y.size(); ++i) ASSERT_EQ(y[i], static_cast<int8_t>(0x5A)) << k.name << " wrote past n";
        }
  EXPECT_GT(nan_lanes, 0);
  EXPECT_GT(ends, 0);
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32QS8Vcvt, ::testing::ValuesIn(f32_qs8_vcvt_kernels().begin(), f32_qs8_vcvt_kernels().end()),
                         [](const ::testing::TestParamInfo<F32QS8VcvtKernel>& info) { return std::string(info.param.name); });

TEST(F32QS8VcvtConfig, DefaultIsListed) {
  const F32QS8VcvtKernel& d = f32_qs8_vcvt_default_kernel();
  bool found = false;
  for (const auto& k : f32_qs8_vcvt_kernels()) found |= &k == &d;
  EXPECT_TRUE(found) << d.name;
}

}  // namespace
}  // namespace kiln
