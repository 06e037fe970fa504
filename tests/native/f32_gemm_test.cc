// Every f32 GEMM microkernel of this build against the reference GEMM, over every
// subtile 1..MR x 1..NR, k below/at/above small unrolls, prime strides, clamping on and
// off, and panels past NR; plus the fast packer against the reference packer and the
// driver over large and odd shapes. Runs natively (ctest) and in WASM under Node
// (kiln_kernel_tests_wasm), each with the kernels its build has.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/reference/reference.h"

namespace kiln {

// GoogleTest prints parameters with this (found by ADL) instead of raw bytes.
void PrintTo(const F32GemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Builder-style: GemmTester().m(3).n(17).k(23).a_stride(29).Test(kernel).
class GemmTester {
 public:
  GemmTester& m(size_t v) { m_ = v; return *this; }
  GemmTester& n(size_t v) { n_ = v; return *this; }
  GemmTester& k(size_t v) { k_ = v; return *this; }
  GemmTester& a_stride(size_t v) { a_stride_ = v; return *this; }
  GemmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  // Clamp to the [lo, hi] quantiles of the unclamped result (so clamping really bites).
  GemmTester& clamp(bool v) { clamp_ = v; return *this; }
  GemmTester& use_driver(bool v) { driver_ = v; return *this; }

  void Test(const F32GemmKernel& kern) const {
    const size_t as = std::max(a_stride_, k_), cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) +
                 " k=" + std::to_string(k_) + " a_stride=" + std::to_string(as) + " c_stride=" + std::to_string(cs) +
                 (clamp_ ? " clamped" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + k_);
    const std::vector<float> a = random_floats(m_ == 0 ? 0 : (m_ - 1) * as + k_, seed);
    const std::vector<float> b = random_floats(k_ * n_, seed + 1), bias = random_floats(n_, seed + 2);

    // Expected: reference GEMM plus bias, then the clamp.
    std::vector<float> expected(m_ * n_);
    f32_gemm_reference(m_, n_, k_, a.data(), static_cast<ptrdiff_t>(as), 1, b.data(), static_cast<ptrdiff_t>(n_), 1,
                       expected.data(), static_cast<ptrdiff_t>(n_), 1.f, 0.f);
    for (size_t i = 0; i < m_; ++i)
      for (size_t j = 0; j < n_; ++j) expected[i * n_ + j] += bias[j];
    F32MinMax mm;
    if (clamp_ && !expected.empty()) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4];
      mm.max = sorted[sorted.size() * 3 / 4];
      for (float& e : expected) e = std::min(std::max(e, mm.min), mm.max);
    }

    std::vector<float> packed(f32_gemm_packed_size(kern.nr, n_, k_));
    f32_gemm_pack(kern.nr, n_, k_, b.data(), static_cast<ptrdiff_t>(n_), 1, bias.data(), 1, packed.data());
    // Sentinels between rows (c_stride > n) must survive.
    const float sentinel = 12345.f;
    std::vector<float> c(m_ == 0 ? 0 : (m_ - 1) * cs + n_, sentinel);
    if (driver_) {
      F32GemmArgs args;
      args.m = m_, args.n = n_, args.k = k_, args.a = a.data(), args.a_stride = as;
      args.packed_w = packed.data(), args.c = c.data(), args.c_stride = cs, args.minmax = mm;
      f32_gemm(kern, args);
    } else {
      ASSERT_LE(m_, kern.mr);
      kern.fn(m_, n_, k_, a.data(), as, packed.data(), c.data(), cs, &mm);
    }
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        const float e = expected[i * n_ + j];
        ASSERT_NEAR(c[i * cs + j], e, 1e-5f * (1.f + static_cast<float>(k_)) ) << "at row " << i << " col " << j;
      }
      for (size_t j = n_; i + 1 < m_ && j < cs; ++j) ASSERT_EQ(c[i * cs + j], sentinel) << "padding overwritten";
    }
  }

 private:
  size_t m_ = 1, n_ = 1, k_ = 1, a_stride_ = 0, c_stride_ = 0;
  bool clamp_ = false, driver_ = false;
};

class F32Gemm : public ::testing::TestWithParam<F32GemmKernel> {};

TEST_P(F32Gemm, EverySubtile) {
  const F32GemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t k : {1, 2, 3, 4, 5, 7, 8, 9, 17}) GemmTester().m(m).n(n).k(k).Test(kern);
}

TEST_P(F32Gemm, SeveralPanels) {
  const F32GemmKernel& kern = GetParam();
  for (size_t n : {kern.nr - 1, kern.nr + 1, 2 * kern.nr, 3 * kern.nr + 5})
    for (size_t k : {1, 16, 33}) GemmTester().m(kern.mr).n(n).k(k).Test(kern);
}

TEST_P(F32Gemm, PrimeStrides) {
  const F32GemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m) GemmTester().m(m).n(kern.nr + 3).k(11).a_stride(13).c_stride(37).Test(kern);
}

TEST_P(F32Gemm, Clamped) {
  const F32GemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr, 2 * kern.nr + 1}) GemmTester().m(m).n(n).k(9).clamp(true).Test(kern);
}

TEST_P(F32Gemm, KZeroIsBiasOnly) {
  const F32GemmKernel& kern = GetParam();
  GemmTester().m(kern.mr).n(kern.nr + 1).k(0).Test(kern);
}

TEST_P(F32Gemm, DriverLargeAndOdd) {
  const F32GemmKernel& kern = GetParam();
  GemmTester().m(1).n(1).k(1).use_driver(true).Test(kern);
  GemmTester().m(kern.mr + 1).n(kern.nr - 1).k(kern.nr + 1).use_driver(true).Test(kern);
  GemmTester().m(67).n(131).k(97).a_stride(101).c_stride(139).clamp(true).use_driver(true).Test(kern);
  // Large K x N: more than one 128 KiB block of packed panels.
  GemmTester().m(41).n(250).k(480).use_driver(true).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<F32GemmKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32Gemm, ::testing::ValuesIn(f32_gemm_kernels().begin(), f32_gemm_kernels().end()),
                         kernel_name);

// --- packing ---------------------------------------------------------------------------
TEST(F32GemmPack, FastMatchesReference) {
  for (size_t nr : {8, 16, 24})
    for (size_t n : {size_t{1}, nr - 1, nr, nr + 1, 3 * nr + 2})
      for (size_t k : {0, 1, 5, 19})
        for (int layout = 0; layout < 3; ++layout) {  // row-major, transposed, strided both ways
          SCOPED_TRACE("nr=" + std::to_string(nr) + " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                       " layout=" + std::to_string(layout));
          const std::vector<float> b = random_floats(3 * (k + 1) * (n + 1), 7);
          const std::vector<float> bias = random_floats(2 * n, 8);
          ptrdiff_t sk = static_cast<ptrdiff_t>(n), sn = 1;
          if (layout == 1) sk = 1, sn = static_cast<ptrdiff_t>(k);
          if (layout == 2) sk = 2 * static_cast<ptrdiff_t>(n) + 1, sn = 2;
          std::vector<float> ref(f32_gemm_packed_size(nr, n, k), -1.f), fast(ref.size(), -2.f);
          f32_gemm_pack_reference(nr, n, k, b.data(), sk, sn, bias.data(), 2, ref.data());
          f32_gemm_pack(nr, n, k, b.data(), sk, sn, bias.data(), 2, fast.data());
          ASSERT_EQ(ref, fast);
        }
}

TEST(F32GemmPack, LayoutIsBiasThenInterleavedK) {
  // B = [[1, 2, 3], [4, 5, 6]] (k=2, n=3), bias [10, 20, 30], nr=2: two panels.
  const float b[] = {1, 2, 3, 4, 5, 6}, bias[] = {10, 20, 30};
  std::vector<float> packed(f32_gemm_packed_size(2, 3, 2));
  f32_gemm_pack_reference(2, 3, 2, b, 3, 1, bias, 1, packed.data());
  const std::vector<float> expected = {10, 20, 1, 2, 4, 5, 30, 0, 3, 0, 6, 0};
  EXPECT_EQ(packed, expected);
  f32_gemm_pack_reference(2, 3, 2, b, 3, 1, nullptr, 0, packed.data());
  EXPECT_EQ(packed[0], 0.f);
  EXPECT_EQ(packed[6], 0.f);
}

TEST(F32GemmConfig, DefaultKernelIsListedAndRuns) {
  const F32GemmKernel& def = f32_gemm_default_kernel();
  bool listed = false;
  for (const F32GemmKernel& k : f32_gemm_kernels()) listed |= k.fn == def.fn;
  EXPECT_TRUE(listed) << def.name;
  GemmTester().m(def.mr * 2 + 1).n(def.nr * 2 + 3).k(40).use_driver(true).Test(def);
}

// The GEMV kernel reads weights packed for the default kernel (same NR): every build that
// ships one (AVX2: 1x16, WASM: 1x8) must find it, and it must match the reference.
TEST(F32GemmConfig, SingleRowKernelSharesTheDefaultPacking) {
  const F32GemmKernel& def = f32_gemm_default_kernel();
  const F32GemmKernel* row = f32_gemm_single_row_kernel(def.nr);
  const std::string name = def.name;
  if (name == "f32_gemm_4x16_avx2" || name == "f32_gemm_4x8_simd") ASSERT_NE(row, nullptr) << "no 1xNR kernel for " << name;
  if (!row) GTEST_SKIP() << "this build has no 1x" << def.nr << " kernel";
  EXPECT_EQ(row->mr, 1u);
  EXPECT_EQ(row->nr, def.nr);
  for (size_t n : {size_t{1}, def.nr - 1, def.nr + 1, 4 * def.nr + 3})
    for (size_t k : {1, 5, 128, 257}) GemmTester().m(1).n(n).k(k).clamp(k == 5).use_driver(true).Test(*row);
}

}  // namespace
}  // namespace kiln
