// The asymmetric int4 form (qd8-f32-qb4w-min: fp16 scale + fp16 min per block of 32, codes
// 0..15): every qb4w-min microkernel of this build against its reference kernel (which works
// on the unsigned codes and the min directly, not on the packed q - 8 / m + 8s form) over
// every subtile, K = 1, 7, 31, 32, 33, 64, 70, panels past NR, strides with garbage between
// rows, clamping and the driver; the quantizer (codes, stored min and scale, error bound);
// and the f32 -> int4-min / int8 -> f32 path against float on skewed weights, where the min
// must beat the symmetric form. Runs natively (ctest) and in WASM (kiln_kernel_tests_wasm).
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
namespace {

std::vector<float> random_floats(size_t count, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

struct MinWeights {
  std::vector<uint8_t> nib;
  std::vector<uint16_t> scale, min;
};

MinWeights quantize_min(size_t n, size_t k, const std::vector<float>& w) {  // w is k x n
  MinWeights q{std::vector<uint8_t>(n * qb4w_row_bytes(k)), std::vector<uint16_t>(n * qb4w_blocks(k)),
               std::vector<uint16_t>(n * qb4w_blocks(k))};
  qb4w_quantize_blocks_min(n, k, w.data(), static_cast<ptrdiff_t>(n), 1, q.nib.data(), q.scale.data(), q.min.data());
  return q;
}

class QB4WMinGemmTester {
 public:
  QB4WMinGemmTester& m(size_t v) { m_ = v; return *this; }
  QB4WMinGemmTester& n(size_t v) { n_ = v; return *this; }
  QB4WMinGemmTester& k(size_t v) { k_ = v; return *this; }
  QB4WMinGemmTester& a_stride(size_t v) { a_stride_ = v; return *this; }
  QB4WMinGemmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  QB4WMinGemmTester& clamp(bool v) { clamp_ = v; return *this; }
  QB4WMinGemmTester& use_driver(bool v) { driver_ = v; return *this; }

  void Test(const QB4WGemmKernel& kern) const {
    ASSERT_TRUE(kern.min) << kern.name;
    const size_t kp = qb4w_padded_k(k_);
    const size_t as = std::max(a_stride_, kp), cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) +
                 " k=" + std::to_string(k_) + " a_stride=" + std::to_string(as) + " c_stride=" + std::to_string(cs) +
                 (clamp_ ? " clamped" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + k_ + 77);
    const std::vector<float> x = random_floats(m_ * k_, seed, -2.f, 3.f);
    std::vector<int8_t> qa(m_ == 0 ? 0 : (m_ - 1) * as + kp, 99);  // 99 between rows
    std::vector<QD8RowParams> params(m_);
    qd8_quantize_rows(m_, k_, x.data(), k_, qa.data(), as, params.data());
    for (size_t i = 0; i < m_; ++i)  // the form's contract: padding to the block is the zero point
      for (size_t p = k_; p < kp; ++p) qa[i * as + p] = static_cast<int8_t>(params[i].zero_point);
    // Skewed weights (mostly positive) with per-column magnitudes over three decades.
    std::vector<float> wf = random_floats(k_ * n_, seed + 1, -0.3f, 1.f);
    for (size_t p = 0; p < k_; ++p)
      for (size_t j = 0; j < n_; ++j) wf[p * n_ + j] *= std::pow(10.f, static_cast<float>(j % 3) - 1.f);
    const MinWeights q = quantize_min(n_, k_, wf);
    const std::vector<float> bias = random_floats(n_, seed + 3);

    std::vector<float> expected(m_ * n_);
    qd8_f32_qb4w_min_gemm_reference(m_, n_, k_, qa.data(), as, params.data(), q.nib.data(), q.scale.data(),
                                    q.min.data(), bias.data(), expected.data(), n_, F32MinMax());
    F32MinMax mm;
    if (clamp_ && !expected.empty()) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4];
      mm.max = sorted[sorted.size() * 3 / 4];
      for (float& e : expected) e = std::min(std::max(e, mm.min), mm.max);
    }
    std::vector<int32_t> packed((qb4w_min_gemm_packed_size(kern.nr, n_, k_) + 3) / 4);
    qb4w_min_gemm_pack(kern.nr, n_, k_, q.nib.data(), q.scale.data(), q.min.data(), bias.data(), packed.data());
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
    // The kernel sums s * (q - 8) and (m + 8s) * rowsum where the reference sums s * q and
    // m * rowsum: equal in exact arithmetic, so the tolerance is relative to the terms.
    const size_t nb = qb4w_blocks(k_);
    std::vector<float> mag(n_, 0.f);
    for (size_t j = 0; j < n_; ++j)
      for (size_t b = 0; b < nb; ++b)
        mag[j] += 16.f * half_to_float(q.scale[j * nb + b]) + std::fabs(half_to_float(q.min[j * nb + b]));
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        const float e = expected[i * n_ + j];
        const float tol = 2e-5f * (1.f + std::fabs(e) + mag[j] * params[i].scale * 255.f * 32.f);
        ASSERT_NEAR(c[i * cs + j], e, tol) << "at row " << i << " col " << j;
      }
      for (size_t j = n_; i + 1 < m_ && j < cs; ++j) ASSERT_EQ(c[i * cs + j], sentinel) << "padding overwritten";
    }
  }

 private:
  size_t m_ = 1, n_ = 1, k_ = 1, a_stride_ = 0, c_stride_ = 0;
  bool clamp_ = false, driver_ = false;
};

class QB4WMinGemm : public ::testing::TestWithParam<QB4WGemmKernel> {};

TEST_P(QB4WMinGemm, EverySubtile) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t k : {1, 7, 31, 32, 33, 64, 70}) QB4WMinGemmTester().m(m).n(n).k(k).Test(kern);
}

TEST_P(QB4WMinGemm, SeveralPanels) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t n : {kern.nr - 1, kern.nr + 1, 2 * kern.nr, 3 * kern.nr + 5})
    for (size_t k : {1, 32, 45}) QB4WMinGemmTester().m(kern.mr).n(n).k(k).Test(kern);
}

TEST_P(QB4WMinGemm, StridesAndClamp) {
  const QB4WGemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m) {
    QB4WMinGemmTester().m(m).n(kern.nr + 3).k(40).a_stride(72).c_stride(37).Test(kern);
    QB4WMinGemmTester().m(m).n(2 * kern.nr + 1).k(50).clamp(true).Test(kern);
  }
}

TEST_P(QB4WMinGemm, DriverLargeAndOdd) {
  const QB4WGemmKernel& kern = GetParam();
  QB4WMinGemmTester().m(1).n(1).k(1).use_driver(true).Test(kern);
  QB4WMinGemmTester().m(kern.mr + 1).n(kern.nr - 1).k(kern.nr + 1).use_driver(true).Test(kern);
  QB4WMinGemmTester().m(67).n(131).k(97).a_stride(136).c_stride(139).clamp(true).use_driver(true).Test(kern);
  QB4WMinGemmTester().m(41).n(250).k(1031).use_driver(true).Test(kern);  // > one 32 KiB block of panels
}

std::string kernel_name(const ::testing::TestParamInfo<QB4WGemmKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QB4WMinGemm,
                         ::testing::ValuesIn(qb4w_min_gemm_kernels().begin(), qb4w_min_gemm_kernels().end()),
                         kernel_name);

TEST(QB4WMinQuantize, CodesMinScaleAndBound) {
  const size_t n = 3, k = 70;  // 3 blocks, the last with 6 values
  std::vector<float> w = random_floats(k * n, 5, 0.5f, 2.f);  // all positive: the min matters
  for (size_t p = 0; p < k; ++p) w[p * n + 1] = 0.25f;        // column 1: constant
  const MinWeights q = quantize_min(n, k, w);
  for (size_t j = 0; j < n; ++j)
    for (size_t b = 0; b < 3; ++b) {
      float lo = INFINITY, hi = -INFINITY;
      for (size_t p = b * 32; p < std::min(k, b * 32 + 32); ++p) lo = std::min(lo, w[p * n + j]), hi = std::max(hi, w[p * n + j]);
      const float mn = half_to_float(q.min[j * 3 + b]), s = half_to_float(q.scale[j * 3 + b]);
      EXPECT_EQ(q.min[j * 3 + b], float_to_half(lo)) << "column " << j << " block " << b;
      EXPECT_EQ(q.scale[j * 3 + b], float_to_half((hi - mn) / 15.f)) << "column " << j << " block " << b;
      for (size_t p = b * 32; p < std::min(k, b * 32 + 32); ++p) {
        const int code = qb4w_nibble_u(q.nib.data(), k, j, p);
        ASSERT_LE(code, 15);
        if (s > 0.f) ASSERT_NEAR(mn + code * s, w[p * n + j], 0.5f * s * 1.01f + 1e-3f * std::fabs(lo)) << p;
        else ASSERT_EQ(code, 0);
      }
    }
  EXPECT_EQ(half_to_float(q.min[1 * 3 + 0]), 0.25f);  // the constant column is its min, exactly
  for (size_t j = 0; j < n; ++j) EXPECT_EQ(q.nib[j * 48 + 35], 0) << "column " << j;  // k 70, 71: past K
}

TEST(QB4WMinQuantize, EveryCodeRoundTrips) {
  const size_t k = 32;
  std::vector<float> w(k);
  for (size_t p = 0; p < k; ++p) w[p] = 3.f + static_cast<float>(p % 16);  // min 3, scale 1
  std::vector<uint8_t> nib(qb4w_row_bytes(k));
  uint16_t scale, mn;
  qb4w_quantize_blocks_min(1, k, w.data(), 1, 1, nib.data(), &scale, &mn);
  EXPECT_EQ(half_to_float(scale), 1.f);
  EXPECT_EQ(half_to_float(mn), 3.f);
  for (size_t p = 0; p < k; ++p) EXPECT_EQ(qb4w_nibble_u(nib.data(), k, 0, p), p % 16);
  EXPECT_EQ(nib[0], 0x10);
}

// The whole path on skewed weights: the min form against float, and better than symmetric.
TEST(QB4WMinGemmDefault, CloseToFloatAndBeatsSymmetric) {
  const QB4WGemmKernel& kern = qb4w_min_gemm_default_kernel();
  for (size_t m : {size_t{1}, size_t{9}}) {
    const size_t n = 37, k = 120, kp = qb4w_padded_k(k);
    const std::vector<float> x = random_floats(m * k, 11), w = random_floats(k * n, 12, 0.2f, 1.f);
    const MinWeights q = quantize_min(n, k, w);
    std::vector<int8_t> qa(m * kp);
    std::vector<QD8RowParams> params(m);
    qd8_quantize_rows(m, k, x.data(), k, qa.data(), kp, params.data());
    for (size_t i = 0; i < m; ++i)
      for (size_t p = k; p < kp; ++p) qa[i * kp + p] = static_cast<int8_t>(params[i].zero_point);
    std::vector<int32_t> packed((qb4w_min_gemm_packed_size(kern.nr, n, k) + 3) / 4);
    qb4w_min_gemm_pack(kern.nr, n, k, q.nib.data(), q.scale.data(), q.min.data(), nullptr, packed.data());
    std::vector<uint8_t> snib(n * qb4w_row_bytes(k));
    std::vector<uint16_t> sscale(n * qb4w_blocks(k));
    qb4w_quantize_blocks(n, k, w.data(), static_cast<ptrdiff_t>(n), 1, snib.data(), sscale.data());
    std::vector<float> c(m * n), cs(m * n);
    QD8GemmArgs args;
    args.m = m, args.n = n, args.k = k, args.qa = qa.data(), args.qa_stride = kp;
    args.row_params = params.data(), args.packed_w = packed.data(), args.c = c.data(), args.c_stride = n;
    qb4w_gemm(kern, args);
    qd8_f32_qb4w_gemm_reference(m, n, k, qa.data(), kp, params.data(), snib.data(), sscale.data(), nullptr, cs.data(),
                                n, F32MinMax());
    double err = 0, serr = 0, ref = 0;
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        double s = 0;
        for (size_t p = 0; p < k; ++p) s += double(x[i * k + p]) * w[p * n + j];
        err += (c[i * n + j] - s) * (c[i * n + j] - s);
        serr += (cs[i * n + j] - s) * (cs[i * n + j] - s);
        ref += s * s;
      }
    const double snr = 10 * std::log10(ref / err), ssnr = 10 * std::log10(ref / serr);
    EXPECT_GT(snr, 20.0) << kern.name << " m=" << m;
    EXPECT_GT(snr, ssnr + 1.0) << kern.name << " m=" << m << ": min " << snr << " dB, symmetric " << ssnr << " dB";
  }
}

}  // namespace
}  // namespace kiln
