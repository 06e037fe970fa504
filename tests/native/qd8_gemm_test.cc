// Every qd8-f32-qc8w GEMM microkernel of this build against the reference kernel on the
// same quantized data (int32 accumulation is exact, so only the float epilogue may round
// differently): every subtile 1..MR x 1..NR, k = 1, odd, around the block of 8 and large,
// strides, clamping, panels past NR and the driver. Plus the row quantizer against its
// reference, the weight quantizer's error bound, and the whole f32 -> int8 -> f32 path
// against the f32 GEMM. Runs natively (ctest) and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

void PrintTo(const QD8GemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<int8_t> random_int8(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-127, 127);
  std::vector<int8_t> v(count);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

// Builder-style: QD8GemmTester().m(3).n(17).k(23).Test(kernel).
class QD8GemmTester {
 public:
  QD8GemmTester& m(size_t v) { m_ = v; return *this; }
  QD8GemmTester& n(size_t v) { n_ = v; return *this; }
  QD8GemmTester& k(size_t v) { k_ = v; return *this; }
  QD8GemmTester& a_stride(size_t v) { a_stride_ = v; return *this; }
  QD8GemmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  QD8GemmTester& clamp(bool v) { clamp_ = v; return *this; }
  QD8GemmTester& use_driver(bool v) { driver_ = v; return *this; }
  // Activations all >= 0 (after a ReLU): the zero point sits at -128.
  QD8GemmTester& nonnegative(bool v) { nonneg_ = v; return *this; }

  void Test(const QD8GemmKernel& kern) const {
    const size_t kp = qd8_padded_k(k_);
    const size_t as = std::max(a_stride_, kp), cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) +
                 " k=" + std::to_string(k_) + " a_stride=" + std::to_string(as) + " c_stride=" + std::to_string(cs) +
                 (clamp_ ? " clamped" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + k_);
    const std::vector<float> x = random_floats(m_ * k_, seed, nonneg_ ? 0.f : -2.f, 3.f);
    std::vector<int8_t> qa(m_ == 0 ? 0 : (m_ - 1) * as + kp, 99);  // 99: bytes between rows
    std::vector<QD8RowParams> params(m_);
    qd8_quantize_rows(m_, k_, x.data(), k_, qa.data(), as, params.data());
    const std::vector<int8_t> qw = random_int8(k_ * n_, seed + 1);
    const std::vector<float> w_scale = random_floats(n_, seed + 2, 0.001f, 0.02f), bias = random_floats(n_, seed + 3);

    std::vector<float> expected(m_ * n_);
    qd8_f32_qc8w_gemm_reference(m_, n_, k_, qa.data(), as, params.data(), qw.data(), w_scale.data(), bias.data(),
                                expected.data(), n_, F32MinMax());
    F32MinMax mm;
    if (clamp_ && !expected.empty()) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4];
      mm.max = sorted[sorted.size() * 3 / 4];
      for (float& e : expected) e = std::min(std::max(e, mm.min), mm.max);
    }

    std::vector<int32_t> packed((qd8_gemm_packed_size(kern.nr, n_, k_) + 3) / 4);
    qd8_gemm_pack(kern.nr, n_, k_, qw.data(), static_cast<ptrdiff_t>(n_), 1, w_scale.data(), bias.data(),
                  packed.data());
    const float sentinel = 12345.f;
    std::vector<float> c(m_ == 0 ? 0 : (m_ - 1) * cs + n_, sentinel);
    if (driver_) {
      QD8GemmArgs args;
      args.m = m_, args.n = n_, args.k = k_, args.qa = qa.data(), args.qa_stride = as, args.row_params = params.data();
      args.packed_w = packed.data(), args.c = c.data(), args.c_stride = cs, args.minmax = mm;
      qd8_gemm(kern, args);
    } else {
      ASSERT_LE(m_, kern.mr);
      kern.fn(m_, n_, k_, qa.data(), as, params.data(), packed.data(), c.data(), cs, &mm);
    }
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        const float e = expected[i * n_ + j];
        ASSERT_NEAR(c[i * cs + j], e, 1e-5f * (1.f + std::fabs(e))) << "at row " << i << " col " << j;
      }
      for (size_t j = n_; i + 1 < m_ && j < cs; ++j) ASSERT_EQ(c[i * cs + j], sentinel) << "padding overwritten";
    }
  }

 private:
  size_t m_ = 1, n_ = 1, k_ = 1, a_stride_ = 0, c_stride_ = 0;
  bool clamp_ = false, driver_ = false, nonneg_ = false;
};

class QD8Gemm : public ::testing::TestWithParam<QD8GemmKernel> {};

TEST_P(QD8Gemm, EverySubtile) {
  const QD8GemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t k : {1, 2, 3, 7, 8, 9, 15, 16, 17, 33}) QD8GemmTester().m(m).n(n).k(k).Test(kern);
}

TEST_P(QD8Gemm, SeveralPanels) {
  const QD8GemmKernel& kern = GetParam();
  for (size_t n : {kern.nr - 1, kern.nr + 1, 2 * kern.nr, 3 * kern.nr + 5})
    for (size_t k : {1, 16, 35}) QD8GemmTester().m(kern.mr).n(n).k(k).Test(kern);
}

TEST_P(QD8Gemm, StridesAndNonnegativeRows) {
  const QD8GemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m) {
    QD8GemmTester().m(m).n(kern.nr + 3).k(11).a_stride(40).c_stride(37).Test(kern);
    QD8GemmTester().m(m).n(kern.nr + 3).k(21).nonnegative(true).Test(kern);
  }
}

TEST_P(QD8Gemm, Clamped) {
  const QD8GemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr, 2 * kern.nr + 1})
      QD8GemmTester().m(m).n(n).k(9).clamp(true).Test(kern);
}

TEST_P(QD8Gemm, KZeroIsBiasOnly) {
  const QD8GemmKernel& kern = GetParam();
  QD8GemmTester().m(kern.mr).n(kern.nr + 1).k(0).Test(kern);
}

TEST_P(QD8Gemm, DriverLargeAndOdd) {
  const QD8GemmKernel& kern = GetParam();
  QD8GemmTester().m(1).n(1).k(1).use_driver(true).Test(kern);
  QD8GemmTester().m(kern.mr + 1).n(kern.nr - 1).k(kern.nr + 1).use_driver(true).Test(kern);
  QD8GemmTester().m(67).n(131).k(97).a_stride(104).c_stride(139).clamp(true).use_driver(true).Test(kern);
  // Large K (int32 sums far past int16) and more than one 64 KiB block of panels.
  QD8GemmTester().m(41).n(250).k(1031).use_driver(true).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<QD8GemmKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QD8Gemm, ::testing::ValuesIn(qd8_gemm_kernels().begin(), qd8_gemm_kernels().end()),
                         kernel_name);

// --- quantizers -----------------------------------------------------------------------------
TEST(QD8QuantizeRows, FastMatchesReferenceAndBoundsError) {
  for (size_t k : {1, 3, 8, 13, 15, 16, 17, 31, 32, 33, 64, 120, 481}) {  // SIMD128: 16 per step
    const size_t m = 5, kp = qd8_padded_k(k);
    std::vector<float> x = random_floats(m * k, static_cast<uint32_t>(k), -3.f, 5.f);
    for (size_t j = 0; j < k; ++j) x[1 * k + j] = 0.f;                 // row 1: all zero
    for (size_t j = 0; j < k; ++j) x[2 * k + j] = std::fabs(x[2 * k + j]);  // row 2: nonnegative
    for (size_t j = 0; j < k; ++j) x[3 * k + j] = -std::fabs(x[3 * k + j]); // row 3: nonpositive
    std::vector<int8_t> q_ref(m * kp, 1), q_fast(m * kp, 2);
    std::vector<QD8RowParams> p_ref(m), p_fast(m);
    qd8_quantize_rows_reference(m, k, x.data(), k, q_ref.data(), kp, p_ref.data());
    qd8_quantize_rows(m, k, x.data(), k, q_fast.data(), kp, p_fast.data());
    for (size_t i = 0; i < m; ++i) {
      SCOPED_TRACE("k=" + std::to_string(k) + " row " + std::to_string(i));
      EXPECT_EQ(p_fast[i].scale, p_ref[i].scale);
      EXPECT_EQ(p_fast[i].zero_point, p_ref[i].zero_point);
      for (size_t j = 0; j < kp; ++j) {
        // x * (1/scale) and x / scale may round to different sides of a .5.
        ASSERT_LE(std::abs(q_fast[i * kp + j] - q_ref[i * kp + j]), 1) << "at " << j;
        if (j >= k) {
          ASSERT_EQ(q_fast[i * kp + j], 0) << "padding at " << j;
          continue;
        }
        const float back = p_ref[i].scale * static_cast<float>(q_ref[i * kp + j] - p_ref[i].zero_point);
        ASSERT_NEAR(back, x[i * k + j], 0.5f * p_ref[i].scale * 1.01f + 1e-6f) << "at " << j;
      }
    }
    EXPECT_EQ(p_ref[1].scale, 1.f);  // constant row
    EXPECT_EQ(p_ref[2].zero_point, -128);  // nonnegative: the whole range above the zero point
    EXPECT_EQ(p_ref[3].zero_point, 127);
  }
}

// A NaN among finite values: the range skips it (as the reference's std::min / std::max do)
// and it quantizes to -128, inside a vector step (5, 20) and in the scalar tail (35).
TEST(QD8QuantizeRows, NaNAmongFiniteValuesMatchesReference) {
  const size_t k = 37, kp = qd8_padded_k(k);
  std::vector<float> x = random_floats(k, 11, -2.f, 3.f);
  for (size_t j : {5, 20, 35}) x[j] = NAN;
  std::vector<int8_t> q_ref(kp, 1), q_fast(kp, 2);
  QD8RowParams p_ref, p_fast;
  qd8_quantize_rows_reference(1, k, x.data(), k, q_ref.data(), kp, &p_ref);
  qd8_quantize_rows(1, k, x.data(), k, q_fast.data(), kp, &p_fast);
  EXPECT_NE(p_ref.scale, 1.f);
  EXPECT_EQ(p_fast.scale, p_ref.scale);
  EXPECT_EQ(p_fast.zero_point, p_ref.zero_point);
  for (size_t j : {5, 20, 35}) {
    EXPECT_EQ(q_ref[j], -128) << "at " << j;
    EXPECT_EQ(q_fast[j], -128) << "at " << j;
  }
  for (size_t j = 0; j < kp; ++j) ASSERT_LE(std::abs(q_fast[j] - q_ref[j]), 1) << "at " << j;
}

TEST(QD8QuantizeRows, NonFiniteInputDoesNotCrash) {
  const float x[9] = {1.f, NAN, -INFINITY, 2.f, INFINITY, 0.f, 3.f, -1.f, NAN};
  int8_t q[16];
  QD8RowParams p;
  qd8_quantize_rows(1, 9, x, 9, q, 16, &p);
  qd8_quantize_rows_reference(1, 9, x, 9, q, 16, &p);
  EXPECT_EQ(p.scale, 1.f);
}

TEST(QC8WQuantizeColumns, SymmetricPerColumn) {
  const size_t k = 37, n = 5;
  std::vector<float> b = random_floats(k * n, 7, -1.f, 1.f);
  for (size_t p = 0; p < k; ++p) b[p * n + 1] *= 100.f;  // columns of very different range
  for (size_t p = 0; p < k; ++p) b[p * n + 4] = 0.f;     // an all-zero column
  std::vector<int8_t> q(k * n);
  std::vector<float> scale(n);
  qc8w_quantize_columns(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, q.data(), scale.data());
  EXPECT_EQ(scale[4], 1.f);
  for (size_t j = 0; j < n; ++j) {
    int qmax = 0;
    for (size_t p = 0; p < k; ++p) {
      ASSERT_NEAR(scale[j] * q[p * n + j], b[p * n + j], 0.5f * scale[j] * 1.001f);
      qmax = std::max(qmax, std::abs(int{q[p * n + j]}));
    }
    if (j != 4) EXPECT_EQ(qmax, 127) << "column " << j;
  }
}

// The whole path against float math: with per-row and per-column int8 the error of a
// dot product of length K is about sqrt(K) * (|a| step + |w| step) / sqrt(12) per term;
// the bound below is that with a 4x margin, and the typical error is checked to be small.
TEST(QD8Gemm, WholePathCloseToFloat) {
  const size_t m = 37, n = 29, k = 200;
  const std::vector<float> a = random_floats(m * k, 1), b = random_floats(k * n, 2), bias = random_floats(n, 3);
  std::vector<int8_t> qw(k * n), qa(m * qd8_padded_k(k));
  std::vector<float> w_scale(n), c(m * n);
  std::vector<QD8RowParams> params(m);
  qc8w_quantize_columns(n, k, b.data(), static_cast<ptrdiff_t>(n), 1, qw.data(), w_scale.data());
  qd8_quantize_rows(m, k, a.data(), k, qa.data(), qd8_padded_k(k), params.data());
  const QD8GemmKernel& kern = qd8_gemm_default_kernel();
  std::vector<int32_t> packed((qd8_gemm_packed_size(kern.nr, n, k) + 3) / 4);
  qd8_gemm_pack(kern.nr, n, k, qw.data(), static_cast<ptrdiff_t>(n), 1, w_scale.data(), bias.data(), packed.data());
  QD8GemmArgs args;
  args.m = m, args.n = n, args.k = k, args.qa = qa.data(), args.qa_stride = qd8_padded_k(k);
  args.row_params = params.data(), args.packed_w = packed.data(), args.c = c.data(), args.c_stride = n;
  qd8_gemm(kern, args);
  double sum_sq = 0, sum_ref_sq = 0;
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double ref = bias[j];
      for (size_t p = 0; p < k; ++p) ref += double{a[i * k + p]} * b[p * n + j];
      const double err = c[i * n + j] - ref;
      const double bound = 4.0 * std::sqrt(double(k)) * (params[i].scale + w_scale[j]) / std::sqrt(12.0);
      ASSERT_LE(std::fabs(err), bound) << "at " << i << "," << j;
      sum_sq += err * err;
      sum_ref_sq += ref * ref;
    }
  EXPECT_LT(std::sqrt(sum_sq / sum_ref_sq), 0.02);  // relative RMS error
}

}  // namespace
}  // namespace kiln
