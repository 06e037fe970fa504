// Every qs8-vbinary kernel (qs8-vadd / vaddc / vmul / vmulc) of this build against
// qs8_vbinary_reference, bit-exact: n = 1, tile - 1, tile, tile + 1, 2 tiles + 5 and large;
// zero points -128 / 0 / 127 for a, b and y; no clamp, Relu and Clip (asserted to bite);
// outputs saturating at both ends; exact .5 ties; in place on a and on b; unaligned
// pointers; no writes past n; sums / products overflowing to +-inf. Also the config table
// and the parameter precondition (qs8_vbinary_params_ok).
// Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qs8-vbinary/qs8-vbinary.h"

namespace kiln {

void PrintTo(const QS8VBinaryKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const QS8VMulRowKernel& k, std::ostream* os) { *os << k.name; }

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

class QS8VBinaryTester {
 public:
  QS8VBinaryTester& n(size_t v) { n_ = v; return *this; }
  QS8VBinaryTester& zeros(int32_t a, int32_t b, int32_t y) {
    p_.a_zero = a, p_.b_zero = b, p_.y_zero = y;
    return *this;
  }
  QS8VBinaryTester& scales(float a, float b, float y) {
    p_.a_scale = a, p_.b_scale = b, p_.y_scale = y;
    return *this;
  }
  QS8VBinaryTester& clamp(float lo, float hi) {
    p_.min = lo, p_.max = hi;
    return *this;
  }
  QS8VBinaryTester& inplace(int which) { inplace_ = which; return *this; }  // 0 none, 1 y = a, 2 y = b
  QS8VBinaryTester& misalign(size_t v) { misalign_ = v; return *this; }
  QS8VBinaryTester& seed(uint32_t v) { seed_ = v; return *this; }
  // Every element the same a and b value (ties, NaN lanes).
  QS8VBinaryTester& constant(int a, int b) { const_a_ = a, const_b_ = b; return *this; }

  // Returns the reference output (for the callers' "the clamp bites" checks).
  std::vector<int8_t> Test(const QS8VBinaryKernel& k) const {
    constexpr size_t kGuard = 19;
    std::mt19937 rng(seed_);
    std::uniform_int_distribution<int> dist(-128, 127);
    const size_t nb = k.scalar_b ? 1 : n_;
    std::vector<int8_t> a(misalign_ + n_ + kGuard), b(misalign_ + nb + kGuard);
    for (auto& v : a) v = static_cast<int8_t>(const_a_ >= -128 ? const_a_ : dist(rng));
    for (auto& v : b) v = static_cast<int8_t>(const_b_ >= -128 ? const_b_ : dist(rng));
    const int8_t* pa = a.data() + misalign_;
    const int8_t* pb = b.data() + misalign_;
    std::vector<int8_t> want(n_);
    qs8_vbinary_reference(k.op, k.scalar_b, n_, pa, pb, want.data(), p_);

    std::vector<int8_t> y(misalign_ + n_ + kGuard, static_cast<int8_t>(0x5A));
    int8_t* py = y.data() + misalign_;
    std::vector<int8_t> a2 = a, b2 = b;  // in-place runs overwrite their operand
    if (inplace_ == 1) py = a2.data() + misalign_;
    if (inplace_ == 2) py = b2.data() + misalign_;
    const int8_t* ra = inplace_ == 1 ? a2.data() + misalign_ : pa;
    const int8_t* rb = inplace_ == 2 ? b2.data() + misalign_ : pb;
    k.fn(n_, ra, rb, py, p_);
    const std::string what = std::string(k.name) + " n=" + std::to_string(n_) + " zeros " + std::to_string(p_.a_zero) +
                             "/" + std::to_string(p_.b_zero) + "/" + std::to_string(p_.y_zero);
    for (size_t i = 0; i < n_; ++i) {
      EXPECT_EQ(static_cast<int>(py[i]), static_cast<int>(want[i])) << what << " at " << i << " a=" << int(pa[i])
                                                                    << " b=" << int(pb[k.scalar_b ? 0 : i]);
      if (py[i] != want[i]) break;
    }
    if (inplace_ == 0)
      for (size_t i = misalign_ + n_; i < y.size(); ++i) EXPECT_EQ(y[i], static_cast<int8_t>(0x5A)) << what << " wrote past n";
    if (inplace_ == 1)
      for (size_t i = misalign_ + n_; i < a2.size(); ++i) EXPECT_EQ(a2[i], a[i]) << what << " wrote past n";
    return want;
  }

 private:
  size_t n_ = 1, misalign_ = 0;
  int inplace_ = 0, const_a_ = -1000, const_b_ = -1000;
  uint32_t seed_ = 1;
  QS8VBinaryParams p_;
};

class QS8VBinary : public ::testing::TestWithParam<QS8VBinaryKernel> {};

// Scales that keep most outputs inside the grid for add and mul alike, with some saturating.
QS8VBinaryTester base(const QS8VBinaryKernel& k) {
  QS8VBinaryTester t;
  if (k.op == QS8VBinaryOp::kMul) return std::move(t.scales(0.021f, 0.017f, 0.0031f));
  return std::move(t.scales(0.05f, 0.03f, 0.061f));
}

std::vector<size_t> sizes(const QS8VBinaryKernel& k) {
  return {1, 2, 15, 16, 17, k.tile - 1, k.tile, k.tile + 1, 2 * k.tile + 5, 1031};
}

TEST_P(QS8VBinary, SizesAndZeroPoints) {
  const QS8VBinaryKernel& k = GetParam();
  for (size_t n : sizes(k))
    for (int za : {-128, 0, 127})
      for (int zb : {-128, 0, 127})
        for (int zy : {-128, 0, 127}) base(k).n(n).zeros(za, zb, zy).seed(static_cast<uint32_t>(n * 7 + za + zb * 3 + zy * 5)).Test(k);
}

TEST_P(QS8VBinary, SaturatesBothEnds) {
  const QS8VBinaryKernel& k = GetParam();
  int lo = 0, hi = 0;
  for (size_t n : sizes(k)) {
    const auto want = base(k).n(n).zeros(3, -7, 11).scales(0.4f, 0.3f, 0.01f).Test(k);
    for (int8_t v : want) lo += v == -128, hi += v == 127;
  }
  EXPECT_GT(lo, 0);
  EXPECT_GT(hi, 0);
}

TEST_P(QS8VBinary, ReluAndClip) {
  const QS8VBinaryKernel& k = GetParam();
  for (size_t n : {size_t{1}, k.tile + 1, size_t{1031}}) {
    // Relu: min 0 with y zero point -128, as the quantizer writes it; most negatives clamp.
    const auto relu = base(k).n(n).zeros(5, -9, -128).clamp(0.f, kInf).Test(k);
    // Clip to [-0.4, 0.25] on the real value, narrower than the output grid.
    const auto clip = base(k).n(n).zeros(-20, 30, 0).clamp(-0.4f, 0.25f).scales(0.05f, 0.03f, 0.004f).Test(k);
    if (n == 1031) {
      int at_zero = 0, at_lo = 0, at_hi = 0;
      for (int8_t v : relu) at_zero += v == -128;
      for (int8_t v : clip) at_lo += v == -100, at_hi += v == 63 || v == 62;  // -0.4/0.004, 0.25/0.004 = 62.5 -> 62
      EXPECT_GT(at_zero, 100) << "Relu did not bite";
      EXPECT_GT(at_lo, 10) << "Clip's min did not bite";
      EXPECT_GT(at_hi, 10) << "Clip's max did not bite";
    }
  }
}

TEST_P(QS8VBinary, HalfwayCasesRoundToEven) {
  const QS8VBinaryKernel& k = GetParam();
  // Add: (a - 0) * 0.5 + 0 / 1 = a / 2, ties for odd a; mul: a * 0.5 * 1 likewise.
  for (size_t n : {size_t{17}, size_t{1031}}) {
    const auto want = QS8VBinaryTester().n(n).scales(0.5f, 1.f, 1.f).zeros(0, k.op == QS8VBinaryOp::kMul ? -1 : 0, 0).Test(k);
    int ties = 0;
    for (int8_t v : want) ties += (v % 2) == 0;
    EXPECT_GT(ties, 0);
  }
}

TEST_P(QS8VBinary, InPlaceAndUnaligned) {
  const QS8VBinaryKernel& k = GetParam();
  for (size_t n : {size_t{1}, k.tile - 1, k.tile + 1, size_t{1031}}) {
    base(k).n(n).zeros(1, 2, 3).inplace(1).Test(k);
    if (!k.scalar_b) base(k).n(n).zeros(1, 2, 3).inplace(2).Test(k);
    for (size_t m : {1, 3, 7}) base(k).n(n).zeros(-1, 4, -6).misalign(m).Test(k);
  }
}

TEST_P(QS8VBinary, OverflowToInfinitySaturates) {
  const QS8VBinaryKernel& k = GetParam();
  // The largest allowed input scales: products overflow float, and sums divided by a tiny
  // y_scale do; the +-inf lanes clamp to -128 / 127.
  for (size_t n : {size_t{5}, k.tile + 3, size_t{1031}}) {
    const float s = 0x1p120f, sy = k.op == QS8VBinaryOp::kMul ? 1.f : 1e-30f;
    const auto want = base(k).n(n).zeros(0, 0, 7).scales(s, s, sy).seed(3).Test(k);
    int ends = 0;
    for (int8_t v : want) ends += v == -128 || v == 127;
    EXPECT_GE(ends, static_cast<int>(n / 2));
    base(k).n(n).zeros(0, 0, -3).scales(s, -s, sy).clamp(0.f, kInf).Test(k);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8VBinary, ::testing::ValuesIn(qs8_vbinary_kernels().begin(), qs8_vbinary_kernels().end()),
                         [](const ::testing::TestParamInfo<QS8VBinaryKernel>& info) { return std::string(info.param.name); });

// qs8-vmulrow: every kernel against qs8_vmulrow_reference, bit-exact (same two roundings):
// n = 1 .. 2 tiles + 5 and 1031, zero points -128 / 0 / 127, multipliers of both signs that
// saturate at both ends, in place, offset pointers, no writes past n.
class QS8VMulRow : public ::testing::TestWithParam<QS8VMulRowKernel> {};

TEST_P(QS8VMulRow, MatchesTheReference) {
  const QS8VMulRowKernel& k = GetParam();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::uniform_real_distribution<float> mdist(-1.5f, 1.5f);
  int lo = 0, hi = 0, ties = 0;
  for (size_t n : {size_t{1}, size_t{2}, size_t{15}, size_t{16}, size_t{17}, k.tile - 1, k.tile, k.tile + 1,
                   2 * k.tile + 5, size_t{1031}})
    for (int zx : {-128, 0, 127})
      for (int zy : {-128, 0, 127})
        for (size_t off : {0, 3})
          for (bool inplace : {false, true}) {
            constexpr size_t kGuard = 19;
            std::vector<int8_t> x(off + n + kGuard), y(off + n + kGuard, static_cast<int8_t>(0x5A)), want(n);
            std::vector<float> m(off + n + kGuard);
            for (auto& v : x) v = static_cast<int8_t>(dist(rng));
            for (size_t i = 0; i < m.size(); ++i) m[i] = i % 7 == 3 ? 0.5f : mdist(rng);  // 0.5: exact ties on odd x
            const QS8VMulRowParams p{zx, zy};
            qs8_vmulrow_reference(n, x.data() + off, m.data() + off, want.data(), p);
            std::vector<int8_t> x2 = x;
            int8_t* py = inplace ? x2.data() + off : y.data() + off;
            k.fn(n, x2.data() + off, m.data() + off, py, p);
            for (size_t i = 0; i < n; ++i) {
              ASSERT_EQ(static_cast<int>(py[i]), static_cast<int>(want[i]))
                  << k.name << " n=" << n << " zx=" << zx << " zy=" << zy << " off=" << off << " inplace=" << inplace
                  << " at " << i << " x=" << int(x[off + i]) << " m=" << m[off + i];
              lo += want[i] == -128, hi += want[i] == 127;
              ties += m[off + i] == 0.5f && (x[off + i] - zx) % 2 != 0;
            }
            const std::vector<int8_t>& tail = inplace ? x2 : y;
            for (size_t i = off + n; i < tail.size(); ++i)
              ASSERT_EQ(tail[i], inplace ? x[i] : static_cast<int8_t>(0x5A)) << k.name << " n=" << n << " wrote past n";
          }
  EXPECT_GT(lo, 0);
  EXPECT_GT(hi, 0);
  EXPECT_GT(ties, 0);
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8VMulRow, ::testing::ValuesIn(qs8_vmulrow_kernels().begin(), qs8_vmulrow_kernels().end()),
                         [](const ::testing::TestParamInfo<QS8VMulRowKernel>& info) { return std::string(info.param.name); });

TEST(QS8VBinaryConfig, DefaultsExistForEveryForm) {
  for (QS8VBinaryOp op : {QS8VBinaryOp::kAdd, QS8VBinaryOp::kMul})
    for (bool c : {false, true}) {
      const QS8VBinaryKernel& k = qs8_vbinary_default_kernel(op, c);
      EXPECT_EQ(k.op, op) << k.name;
      EXPECT_EQ(k.scalar_b, c) << k.name;
    }
  EXPECT_GE(qs8_vbinary_kernels().size(), 4u);
  const QS8VMulRowKernel& r = qs8_vmulrow_default_kernel();
  bool listed = false;
  for (const auto& k : qs8_vmulrow_kernels()) listed |= &k == &r;
  EXPECT_TRUE(listed) << r.name;
}

TEST(QS8VBinaryConfig, ParamsOkRulesOutNaNLanes) {
  QS8VBinaryParams p;
  EXPECT_TRUE(qs8_vbinary_params_ok(p));
  p.a_scale = kInf;
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.b_scale = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.y_scale = 0.f;
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.min = 1.f, p.max = 0.f;
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.min = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.a_scale = 0x1p121f;  // 255 * a_scale could overflow
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.y_scale = kInf;
  EXPECT_FALSE(qs8_vbinary_params_ok(p));
  p = {}, p.a_scale = -0x1p120f, p.b_scale = 0.f;
  EXPECT_TRUE(qs8_vbinary_params_ok(p));
  // The reference still maps NaN lanes to the zero point (the op's fallback does the same).
  const int8_t a = 0, b = 1;
  int8_t y = 0;
  p = {}, p.a_scale = kInf, p.y_zero = 9;
  qs8_vbinary_reference(QS8VBinaryOp::kMul, false, 1, &a, &b, &y, p);
  EXPECT_EQ(y, 9);
}

}  // namespace
}  // namespace kiln
