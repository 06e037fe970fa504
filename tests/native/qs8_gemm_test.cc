// Every qs8-qc8w GEMM microkernel of this build against the unpacked reference (the int32
// sums are exact and both round half to even, so results must match bit for bit): every
// row count 1..MR+1 (via the tile loop), n around NR, k = 1, odd, around the block of 8 and
// large, A strides, zero points, tight clamps and the -128/127 extremes. Runs natively
// (ctest) and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace kiln {

void PrintTo(const QS8GemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<QS8GemmKernel> qs8_kernels() {
  std::vector<QS8GemmKernel> ks = {{"4x8c2_vec", qs8_qc8w_gemm_4x8c2_vec, 4, 8}};
#if defined(__wasm_simd128__)
  ks.push_back({"4x8c2_simd", qs8_qc8w_gemm_4x8c2_simd, 4, 8});
  ks.push_back({"1x8c2_simd", qs8_qc8w_gemm_1x8c2_simd, 1, 8});
#endif
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    ks.push_back({"4x16c2_avx2", qs8_qc8w_gemm_4x16c2_avx2, 4, 16});
#endif
  return ks;
}

struct Case {
  size_t m, n, k, a_extra;  // a_extra: A row stride beyond the padded k
  int32_t a_zp, out_zp;
  int8_t out_min, out_max;
  bool extremes, with_bias;
  float scale_mul;
};

// Runs the kernel over m rows in MR tiles (as a driver would) and compares with the reference.
void check(const QS8GemmKernel& kern, const Case& t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> i8(-128, 127);
  const size_t a_stride = qs8_padded_k(t.k) + t.a_extra;
  std::vector<int8_t> a(t.m * a_stride), w(t.k * t.n);
  for (auto& x : a) x = t.extremes ? (i8(rng) & 1 ? 127 : -128) : static_cast<int8_t>(i8(rng));
  for (auto& x : w) x = t.extremes ? (i8(rng) & 1 ? 127 : -128) : static_cast<int8_t>(i8(rng));
  std::vector<float> scale(t.n);
  std::vector<int32_t> bias(t.n);
  std::uniform_real_distribution<float> sd(0.5f, 2.f);
  std::uniform_int_distribution<int32_t> bd(-2000, 2000);
  for (size_t j = 0; j < t.n; ++j) {
    // acc has a spread of ~5000 sqrt(k): ~1/(128 sqrt(k)) spreads the outputs over the int8 range; scale_mul pushes them past it.
    scale[j] = sd(rng) * t.scale_mul / (128.f * std::sqrt(static_cast<float>(t.k)));
    bias[j] = bd(rng);
  }
  const QS8RequantParams params{t.out_zp, t.out_min, t.out_max};
  std::vector<uint8_t> packed(qs8_gemm_packed_size(kern.nr, t.n, t.k));
  qs8_gemm_pack(kern.nr, t.n, t.k, t.a_zp, w.data(), static_cast<ptrdiff_t>(t.n), 1, scale.data(),
                t.with_bias ? bias.data() : nullptr, packed.data());
  const size_t c_stride = t.n + 3;
  std::vector<int8_t> c(t.m * c_stride, 0x5A), ref(t.m * c_stride, 0x5A);
  for (size_t i = 0; i < t.m; i += kern.mr)
    kern.fn(std::min(kern.mr, t.m - i), t.n, t.k, a.data() + i * a_stride, a_stride, packed.data(),
            c.data() + i * c_stride, c_stride, &params);
  qs8_gemm_reference(t.m, t.n, t.k, a.data(), a_stride, t.a_zp, w.data(), static_cast<ptrdiff_t>(t.n), 1,
                     scale.data(), t.with_bias ? bias.data() : nullptr, ref.data(), c_stride, params);
  size_t in_range = 0;
  for (size_t i = 0; i < t.m; ++i)
    for (size_t j = 0; j < c_stride; ++j) {
      ASSERT_EQ(int(c[i * c_stride + j]), int(ref[i * c_stride + j]))
          << kern.name << " m=" << t.m << " n=" << t.n << " k=" << t.k << " at " << i << "," << j;
      if (j < t.n) in_range += c[i * c_stride + j] > t.out_min && c[i * c_stride + j] < t.out_max;
    }
  // Not everything clamped (unless the case asks for it): the comparison means something.
  if (t.scale_mul <= 1.f) EXPECT_GT(in_range, 0u) << kern.name;
}

class QS8Gemm : public ::testing::TestWithParam<QS8GemmKernel> {};

TEST_P(QS8Gemm, SizesAgainstReference) {
  const QS8GemmKernel& kern = GetParam();
  uint32_t seed = 1;
  for (size_t m = 1; m <= kern.mr + 1; ++m)
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr, kern.nr + 1, 2 * kern.nr + 3})
      for (size_t k : {size_t{1}, size_t{3}, size_t{7}, size_t{8}, size_t{9}, size_t{17}, size_t{67}})
        check(kern, {m, n, k, 0, 3, -5, -128, 127, false, true, 1.f}, seed++);
}

TEST_P(QS8Gemm, StridesZeroPointsNoBias) {
  const QS8GemmKernel& kern = GetParam();
  check(kern, {kern.mr + 1, kern.nr + 3, 33, 5, -128, 0, -128, 127, false, false, 1.f}, 11);
  check(kern, {kern.mr, 2 * kern.nr - 1, 15, 1, 127, 127, -128, 127, false, true, 1.f}, 12);
  check(kern, {2 * kern.mr + 1, 3, 301, 9, 0, -128, -128, 127, false, true, 1.f}, 13);
}

TEST_P(QS8Gemm, ClampingAndExtremes) {
  const QS8GemmKernel& kern = GetParam();
  // Tight clamp and outputs far past the int8 range (saturate both ways).
  check(kern, {kern.mr + 1, kern.nr + 1, 19, 0, 1, 10, -20, 30, false, true, 1.f}, 21);
  check(kern, {kern.mr, kern.nr + 1, 25, 0, -7, 3, -128, 127, false, true, 64.f}, 22);
  // -128/127 data with extreme zero points: the largest int32 sums.
  check(kern, {kern.mr + 1, kern.nr - 1, 129, 0, -128, 0, -128, 127, true, true, 1.f}, 23);
  check(kern, {kern.mr, kern.nr, 64, 0, 127, -1, -128, 127, true, false, 1.f}, 24);
}

TEST(QS8GemmReference, RoundsHalfToEven) {
  // acc = 1 + 2*a, scale 0.5 => y = a + 0.5 exactly: ties go to the even integer.
  const int8_t w[1] = {2};
  const float scale[1] = {0.5f};
  const int32_t bias[1] = {1};
  const QS8RequantParams p{0, -128, 127};
  for (int a = -5; a <= 5; ++a) {
    const int8_t av = static_cast<int8_t>(a);
    int8_t c = 0;
    qs8_gemm_reference(1, 1, 1, &av, 1, 0, w, 1, 1, scale, bias, &c, 1, p);
    const int even = (a % 2 == 0) ? a : a + 1;
    EXPECT_EQ(int(c), even) << a;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8Gemm, ::testing::ValuesIn(qs8_kernels()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kiln
