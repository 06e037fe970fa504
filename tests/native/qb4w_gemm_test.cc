// Every qd8-f32-qb4w GEMM/GEMV microkernel of this build against the reference kernel on the
// same quantized data (int32 block sums are exact, so only the float epilogue may round
// differently): every subtile 1..MR x 1..NR, K = 1, 31, 32, 33 (a padded last block), 64,
// large, strides with garbage between rows, clamping, panels past NR and the driver. Plus
// the block quantizer (fp16 scale per block of 32, nibbles round-trip, error bound) and the
// whole f32 -> int4/int8 -> f32 path against float. Runs natively (ctest) and in WASM
// (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {

void PrintTo(const QB4WGemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Builder-style: QB4WGemmTester().m(3).n(17).k(33).Test(kernel).
class QB4WGemmTester {
 public:
  QB4WGemmTester& m(size_t v) { m_ = v; return *this; }
  QB4WGemmTester& n(size_t v) { n_ = v; return *this; }
  QB4WGemmTester& k(size_t v) { k_ = v; return *this; }
  QB4WGemmTester& a_stride(size_t v) { a_stride_ = v; return *this; }
  QB4WGemmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  QB4WGemmTester& clamp(bool v) { clamp_ = v; return *this; }
  QB4WGemmTester& use_driver(bool v) { driver_ = v; return *this; }

  void Test(const QB4WGemmKernel& kern) const {
    const size_t kp = qb4w_padded_k(k_);
    const size_t as = std::max(a_stride_, kp), cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) +
                 " k=" + std::to_string(k_) + " a_stride=" + std::to_string(as) + " c_stride=" + std::to_string(cs) +
                 (clamp_ ? " clamped" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + k_);
    const std::vector<float> x = random_floats(m_ * k_, seed, -2.f, 3.f);
    // 99 between rows and past k: the kernels multiply that by zero weights.
    std::vector<int8_t> qa(m_ == 0 ? 0 : (m_ - 1) * as + kp, 99);
    std::vector<QD8RowParams> params(m_);
    qd8_quantize_rows(m_, k_, x.data(), k_, qa.data(), as, params.data());
    for (size_t i = 0; i < m_; ++i)
      for (size_t p = k_; p < kp; ++p) qa[i * as + p] = 99;
    // Weights with per-column magnitudes over three decades, so block scales differ.
    std::vector<float> wf = random_floats(k_ * n_, seed + 1);
    for (size_t p = 0; p < k_; ++p)
      for (size_t j = 0; j < n_; ++j) wf[p * n_ + j] *= std::pow(10.f, static_cast<float>(j % 3) - 1.f);
    std::vector<uint8_t> nib(n_ * qb4w_row_bytes(k_));
    std::vector<uint16_t> scale(n_ * qb4w_blocks(k_));
    qb4w_quantize_blocks(n_, k_, wf.data(), static_cast<ptrdiff_t>(n_), 1, nib.data(), scale.data());
    const std::vector<float> bias = random_floats(n_, seed + 3);

    std::vector<float> expected(m_ * n_);
    qd8_f32_qb4w_gemm_reference(m_, n_, k_, qa.data(), as, params.data(), nib.data(), scale.data(), bias.data(),
                                expected.data(), n_, F32MinMax());
    F32MinMax mm;
    if (clamp_ && !expected.empty()) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4];
      mm.max = sorted[sorted.size() * 3 / 4];
      for (float& e : expected) e = std::min(std::max(e, mm.min), mm.max);
    }

    std::vector<int32_t> packed((qb4w_gemm_packed_size(kern.nr, n_, k_) + 3) / 4);
    qb4w_gemm_pack(kern.nr, n_, k_, nib.data(), scale.data(), bias.data(), packed.data());
    const float sentinel = 12345.f;
    std::vector<float> c(m_ == 0 ? 0 : (m_ - 1) * cs + n_, sentinel);
    if (driver_) {
      QD8GemmArgs args;
      args.m = m_, args.n = n_, args.k = k_, args.qa = qa.data(), args.qa_stride = as, args.row_params = params.data();
      args.packed_w = packed.data(), args.c = c.data(), args.c_stride = cs, args.minmax = mm;
      qb4w_gemm(kern, args);
    } else {
      ASSERT_LE(m_, kern.mr);
      kern.fn(m_, n_, k_, qa.data(), as, params.data(), packed.data(), c.data(), cs, &mm);
    }
    // Tolerance: the float sum over blocks may round differently (FMA or not), relative
    // to the magnitude of the terms, not of their (possibly cancelling) sum.
    std::vector<float> mag(n_, 0.f);
    for (size_t j = 0; j < n_; ++j)
      for (size_t b = 0; b < qb4w_blocks(k_); ++b) mag[j] += half_to_float(scale[j * qb4w_blocks(k_) + b]);
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        const float e = expected[i * n_ + j];
        const float tol = 1e-5f * (1.f + std::fabs(e) + mag[j] * params[i].scale * 255.f * 32.f);
        ASSERT_NEAR(c[i * cs + j], e, tol) << "at row " << i << " col " << j;
      }
      for (size_t j = n_; i + 1 < m_ && j < cs; ++j) ASSERT_EQ(c[i * cs + j], sentinel) << "padding overwritten";
    }
  }

 private:
  size_t m_ = 1, n_ = 1, k_ = 1, a_stride_ = 0, c_stride_ = 0;
  bool clamp_ = false, driver_ = false;
};

class QB4WGemm : public ::testing::TestWithParam<QB4WGemmKernel> {};

TEST_P(QB4WGemm, EverySubtile) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t k : {1, 7, 31, 32, 33, 64, 70}) QB4WGemmTester().m(m).n(n).k(k).Test(kern);
}

TEST_P(QB4WGemm, SeveralPanels) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t n : {kern.nr - 1, kern.nr + 1, 2 * kern.nr, 3 * kern.nr + 5})
    for (size_t k : {1, 32, 45}) QB4WGemmTester().m(kern.mr).n(n).k(k).Test(kern);
}

TEST_P(QB4WGemm, Strides) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m) QB4WGemmTester().m(m).n(kern.nr + 3).k(40).a_stride(72).c_stride(37).Test(kern);
}

TEST_P(QB4WGemm, Clamped) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr, 2 * kern.nr + 1})
      QB4WGemmTester().m(m).n(n).k(50).clamp(true).Test(kern);
}

TEST_P(QB4WGemm, KZeroIsBiasOnly) {
  const QB4WGemmKernel& kern = GetParam();
  QB4WGemmTester().m(kern.mr).n(kern.nr + 1).k(0).Test(kern);
}

TEST_P(QB4WGemm, DriverLargeAndOdd) {
  const QB4WGemmKernel& kern = GetParam();
  QB4WGemmTester().m(1).n(1).k(1).use_driver(true).Test(kern);
  QB4WGemmTester().m(kern.mr + 1).n(kern.nr - 1).k(kern.nr + 1).use_driver(true).Test(kern);
  QB4WGemmTester().m(67).n(131).k(97).a_stride(136).c_stride(139).clamp(true).use_driver(true).Test(kern);
  // Large K and more than one 32 KiB block of panels.
  QB4WGemmTester().m(41).n(250).k(1031).use_driver(true).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<QB4WGemmKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QB4WGemm,
                         ::testing::ValuesIn(qb4w_gemm_kernels().begin(), qb4w_gemm_kernels().end()), kernel_name);

// --- the block quantizer ----------------------------------------------------------------------
TEST(QB4WQuantize, BlockScalesNibblesAndPaddedK) {
  const size_t n = 3, k = 70;  // 3 blocks, the last with 6 values
  std::vector<float> w = random_floats(k * n, 5);
  for (size_t p = 0; p < k; ++p) w[p * n + 1] = 0.f;  // column 1: all zero
  w[40 * n + 2] = -3.5f;                               // column 2, block 1: its max
  std::vector<uint8_t> nib(n * qb4w_row_bytes(k), 0xAA);
  std::vector<uint16_t> scale(n * qb4w_blocks(k));
  qb4w_quantize_blocks(n, k, w.data(), static_cast<ptrdiff_t>(n), 1, nib.data(), scale.data());
  ASSERT_EQ(qb4w_row_bytes(k), 48u);
  for (size_t j = 0; j < n; ++j)
    for (size_t b = 0; b < 3; ++b) {
      float amax = 0.f;
      for (size_t p = b * 32; p < std::min(k, b * 32 + 32); ++p) amax = std::max(amax, std::fabs(w[p * n + j]));
      const float s = half_to_float(scale[j * 3 + b]);
      EXPECT_EQ(scale[j * 3 + b], float_to_half(amax / 7.f)) << "column " << j << " block " << b;
      for (size_t p = b * 32; p < std::min(k, b * 32 + 32); ++p) {
        const int q = qb4w_nibble(nib.data(), k, j, p);
        ASSERT_GE(q, -7);
        ASSERT_LE(q, 7);
        if (s > 0.f) ASSERT_NEAR(q * s, w[p * n + j], 0.5f * s * 1.001f) << "column " << j << " k " << p;
        else ASSERT_EQ(q, 0);
      }
    }
  EXPECT_EQ(half_to_float(scale[2 * 3 + 1]), half_to_float(float_to_half(0.5f)));  // 3.5 / 7
  EXPECT_EQ(qb4w_nibble(nib.data(), k, 2, 40), -7);
  for (size_t j = 0; j < n; ++j)  // k 70, 71 (past K) are zero nibbles
    EXPECT_EQ(nib[j * 48 + 35], 0) << "column " << j;
}

TEST(QB4WQuantize, NibblesRoundTripEveryValue) {
  // Codes -8..7 written as two's complement nibbles read back unchanged, low then high.
  const size_t k = 32;
  std::vector<float> w(k);
  for (size_t p = 0; p < k; ++p) w[p] = static_cast<float>(static_cast<int>(p % 15) - 7);  // scale 1
  std::vector<uint8_t> nib(qb4w_row_bytes(k));
  uint16_t scale;
  qb4w_quantize_blocks(1, k, w.data(), 1, 1, nib.data(), &scale);
  EXPECT_EQ(half_to_float(scale), 1.f);
  for (size_t p = 0; p < k; ++p) EXPECT_EQ(qb4w_nibble(nib.data(), k, 0, p), static_cast<int>(p % 15) - 7);
  EXPECT_EQ(nib[0], static_cast<uint8_t>(((-6) & 15) << 4 | ((-7) & 15)));
}

// The whole path: float A x float W against int8 A x int4 W through the default kernels.
TEST(QB4WGemmDefault, CloseToFloat) {
  for (const QB4WGemmKernel* kern : {&qb4w_gemm_default_kernel(), &qb4w_gemv_default_kernel()}) {
    const size_t m = kern->mr == 1 ? 1 : 9, n = 37, k = 120;
    const std::vector<float> x = random_floats(m * k, 11), w = random_floats(k * n, 12);
    std::vector<uint8_t> nib(n * qb4w_row_bytes(k));
    std::vector<uint16_t> scale(n * qb4w_blocks(k));
    qb4w_quantize_blocks(n, k, w.data(), static_cast<ptrdiff_t>(n), 1, nib.data(), scale.data());
    std::vector<int8_t> qa(m * qb4w_padded_k(k));
    std::vector<QD8RowParams> params(m);
    qd8_quantize_rows(m, k, x.data(), k, qa.data(), qb4w_padded_k(k), params.data());
    std::vector<int32_t> packed((qb4w_gemm_packed_size(kern->nr, n, k) + 3) / 4);
    qb4w_gemm_pack(kern->nr, n, k, nib.data(), scale.data(), nullptr, packed.data());
    std::vector<float> c(m * n);
    QD8GemmArgs args;
    args.m = m, args.n = n, args.k = k, args.qa = qa.data(), args.qa_stride = qb4w_padded_k(k);
    args.row_params = params.data(), args.packed_w = packed.data(), args.c = c.data(), args.c_stride = n;
    qb4w_gemm(*kern, args);
    double err = 0, ref = 0;
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        double s = 0;
        for (size_t p = 0; p < k; ++p) s += double(x[i * k + p]) * w[p * n + j];
        err += (c[i * n + j] - s) * (c[i * n + j] - s);
        ref += s * s;
      }
    // int4 weights: ~1/14 of the block range per weight; the SNR lands near 20 dB.
    EXPECT_GT(10 * std::log10(ref / err), 15.0) << kern->name;
  }
}

}  // namespace
}  // namespace kiln
