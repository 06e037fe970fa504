// Every qd8-f32-qc8w IGEMM microkernel of this build against the reference kernel over the
// same indirection buffer and int8 data (int32 sums are exact, so only the float epilogue
// may round differently): every subtile 1..MR x 1..NR, kc = 1, odd, around the block of 8
// and large, ks = 1 / odd / 9 / 25, padding taps on the zero row (filled with the zero
// point), a_offset forwards and backwards, clamping, several panels, the driver. Plus the
// packing (ks = 1 equals the qd8 GEMM packing) and a whole quantized convolution against
// the float one. Runs natively (ctest) and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "conv_nhwc_oracle.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"

namespace kiln {

void PrintTo(const QD8IgemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<int8_t> random_int8(size_t count, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(count);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

// Builder-style: QD8IgemmTester().m(3).n(17).kc(23).ks(9).Test(kernel).
class QD8IgemmTester {
 public:
  QD8IgemmTester& m(size_t v) { m_ = v; return *this; }
  QD8IgemmTester& n(size_t v) { n_ = v; return *this; }
  QD8IgemmTester& kc(size_t v) { kc_ = v; return *this; }
  QD8IgemmTester& ks(size_t v) { ks_ = v; return *this; }
  QD8IgemmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  QD8IgemmTester& clamp(bool v) { clamp_ = v; return *this; }
  QD8IgemmTester& padding(bool v) { padding_ = v; return *this; }  // some taps on the zero row
  QD8IgemmTester& a_offset(ptrdiff_t v) { a_offset_ = v; return *this; }
  QD8IgemmTester& zero_point(int v) { zero_point_ = v; return *this; }
  QD8IgemmTester& use_driver(bool v) { driver_ = v; return *this; }

  void Test(const QD8IgemmKernel& kern) const {
    const size_t cs = std::max(c_stride_, n_), kp = qd8_padded_k(kc_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) + " kc=" +
                 std::to_string(kc_) + " ks=" + std::to_string(ks_) + " a_offset=" + std::to_string(a_offset_) +
                 " zp=" + std::to_string(zero_point_) + (clamp_ ? " clamped" : "") + (padding_ ? " padded" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + kc_ * 31 + ks_);
    // Input "pixels": rows of kc int8 (odd stride), plus a readable tail for the last block.
    const size_t pixels = 2 * m_ + 3, row_stride = kc_ + 3;
    const size_t guard = static_cast<size_t>(std::abs(a_offset_));
    std::vector<int8_t> buf = random_int8(2 * guard + pixels * row_stride + 16, seed);
    const int8_t* data = buf.data() + guard;  // where the kernel reads: pointer + a_offset
    const int8_t* base = data - a_offset_;    // where the indirection points
    std::vector<int8_t> zero(kp + 8, static_cast<int8_t>(zero_point_));
    const size_t tiles = (m_ + kern.mr - 1) / kern.mr;
    std::vector<const int8_t*> ind(tiles * ks_ * kern.mr);
    std::mt19937 rng(seed + 7);
    for (size_t t = 0; t < tiles; ++t)
      for (size_t s = 0; s < ks_; ++s)
        for (size_t i = 0; i < kern.mr; ++i) {
          const bool pad = padding_ && rng() % 4 == 0;
          ind[(t * ks_ + s) * kern.mr + i] = pad ? zero.data() : base + (rng() % pixels) * row_stride;
        }
    const std::vector<int8_t> qw = random_int8(n_ * kc_ * ks_, seed + 1, -127, 127);
    const std::vector<float> w_scale = random_floats(n_, seed + 2, 0.001f, 0.02f);
    const std::vector<float> bias = random_floats(n_, seed + 3, -1.f, 1.f);
    QD8RowParams quant;
    quant.zero_point = zero_point_;
    quant.scale = 0.0173f;
    const size_t offset = static_cast<size_t>(a_offset_);  // two's complement: wraps backwards

    std::vector<float> expected(m_ * n_);
    qd8_f32_qc8w_igemm_reference(m_, n_, kc_, ks_, kern.mr, ind.data(), offset, zero.data(), quant, qw.data(),
                                 w_scale.data(), bias.data(), expected.data(), n_, F32MinMax());
    F32MinMax mm;
    if (clamp_ && !expected.empty()) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4];
      mm.max = sorted[sorted.size() * 3 / 4];
      for (float& e : expected) e = std::min(std::max(e, mm.min), mm.max);
    }
    std::vector<int32_t> packed((qd8_igemm_packed_size(kern.nr, n_, kc_, ks_) + 3) / 4);
    qd8_igemm_pack(kern.nr, n_, kc_, ks_, qw.data(), w_scale.data(), bias.data(), packed.data());
    const float sentinel = 12345.f;
    std::vector<float> c(m_ == 0 ? 0 : (m_ - 1) * cs + n_, sentinel);
    if (driver_) {
      QD8IgemmArgs args;
      args.m = m_, args.n = n_, args.kc = kc_, args.ks = ks_, args.indirection = ind.data();
      args.a_offset = offset, args.zero = zero.data(), args.quant = quant, args.packed_w = packed.data();
      args.c = c.data(), args.c_stride = cs, args.minmax = mm;
      qd8_igemm(kern, args);
    } else {
      ASSERT_LE(m_, kern.mr);
      kern.fn(m_, n_, kc_, ks_, ind.data(), packed.data(), c.data(), cs, offset, zero.data(), &quant, &mm);
    }
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        const float e = expected[i * n_ + j];
        ASSERT_NEAR(c[i * cs + j], e, 1e-5f * (1.f + std::fabs(e))) << "at pixel " << i << " channel " << j;
      }
      for (size_t j = n_; i + 1 < m_ && j < cs; ++j) ASSERT_EQ(c[i * cs + j], sentinel) << "padding overwritten";
    }
  }

 private:
  size_t m_ = 1, n_ = 1, kc_ = 1, ks_ = 1, c_stride_ = 0;
  ptrdiff_t a_offset_ = 0;
  int zero_point_ = -3;
  bool clamp_ = false, padding_ = false, driver_ = false;
};

class QD8Igemm : public ::testing::TestWithParam<QD8IgemmKernel> {};

TEST_P(QD8Igemm, EverySubtile) {
  const QD8IgemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t kc : {1, 3, 8, 9, 17})
        for (size_t ks : {1, 3}) QD8IgemmTester().m(m).n(n).kc(kc).ks(ks).padding(true).Test(kern);
}

TEST_P(QD8Igemm, KcAroundTheBlock) {
  const QD8IgemmKernel& kern = GetParam();
  for (size_t kc : {2, 7, 15, 16, 33, 64, 131})
    for (size_t ks : {1, 2, 9}) QD8IgemmTester().m(kern.mr).n(kern.nr).kc(kc).ks(ks).Test(kern);
}

TEST_P(QD8Igemm, SeveralPanels) {
  const QD8IgemmKernel& kern = GetParam();
  for (size_t n : {kern.nr - 1, kern.nr + 1, 2 * kern.nr, 3 * kern.nr + 5})
    for (size_t ks : {1, 5}) QD8IgemmTester().m(kern.mr).n(n).kc(11).ks(ks).padding(true).Test(kern);
}

TEST_P(QD8Igemm, PaddingUsesTheZeroPoint) {
  const QD8IgemmKernel& kern = GetParam();
  for (int zp : {-128, -1, 0, 5, 127})
    for (size_t m = 1; m <= kern.mr; ++m)
      QD8IgemmTester().m(m).n(kern.nr + 1).kc(13).ks(9).padding(true).zero_point(zp).Test(kern);
}

TEST_P(QD8Igemm, AOffsetForwardsAndBackwards) {
  const QD8IgemmKernel& kern = GetParam();
  for (ptrdiff_t off : {ptrdiff_t{0}, ptrdiff_t{5}, ptrdiff_t{1024}, ptrdiff_t{-77}})
    QD8IgemmTester().m(kern.mr).n(kern.nr + 3).kc(10).ks(4).padding(true).a_offset(off).Test(kern);
}

TEST_P(QD8Igemm, ClampedAndStrided) {
  const QD8IgemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr, 2 * kern.nr + 1}) {
      QD8IgemmTester().m(m).n(n).kc(9).ks(3).padding(true).clamp(true).Test(kern);
      QD8IgemmTester().m(m).n(n).kc(5).ks(3).c_stride(2 * kern.nr + 7).Test(kern);
    }
}

TEST_P(QD8Igemm, DriverLargeAndOdd) {
  const QD8IgemmKernel& kern = GetParam();
  QD8IgemmTester().m(1).n(1).kc(1).ks(1).use_driver(true).Test(kern);
  QD8IgemmTester().m(kern.mr + 1).n(kern.nr - 1).kc(kern.nr + 1).ks(3).padding(true).use_driver(true).Test(kern);
  QD8IgemmTester().m(67).n(131).kc(37).ks(9).c_stride(139).padding(true).clamp(true).use_driver(true).Test(kern);
  // Large kc * ks (int32 sums far past int16) and more than one 64 KiB block of panels.
  QD8IgemmTester().m(23).n(260).kc(120).ks(25).padding(true).use_driver(true).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<QD8IgemmKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QD8Igemm,
                         ::testing::ValuesIn(qd8_igemm_kernels().begin(), qd8_igemm_kernels().end()), kernel_name);

TEST(QD8IgemmPack, OneTapIsTheGemmPacking) {
  const size_t n = 19, kc = 13;
  const std::vector<int8_t> qw = random_int8(n * kc, 5, -127, 127);  // [n][kc][1]
  const std::vector<float> scale = random_floats(n, 6, 0.01f, 0.1f), bias = random_floats(n, 7, -1.f, 1.f);
  for (size_t nr : {4, 8, 16}) {
    std::vector<int8_t> igemm(qd8_igemm_packed_size(nr, n, kc, 1)), gemm(qd8_gemm_packed_size(nr, n, kc));
    ASSERT_EQ(igemm.size(), gemm.size());
    qd8_igemm_pack(nr, n, kc, 1, qw.data(), scale.data(), bias.data(), igemm.data());
    // The GEMM reads qw[k, j] = qw[k * 1 + j * kc]: the transposed view of [n][kc].
    qd8_gemm_pack(nr, n, kc, qw.data(), 1, static_cast<ptrdiff_t>(kc), scale.data(), bias.data(), gemm.data());
    EXPECT_EQ(igemm, gemm) << "nr=" << nr;
  }
}

TEST(QD8IgemmConfig, DefaultMatchesTheGemmTile) {
  const QD8IgemmKernel& k = qd8_igemm_default_kernel();
  EXPECT_EQ(k.mr, qd8_gemm_default_kernel().mr);
  EXPECT_EQ(k.nr, qd8_gemm_default_kernel().nr);
}

// A whole convolution the way kiln.DynamicQuantConv runs it: the image quantized with one
// scale and zero point, int8 indirection with the zero row = zero point, against the float
// convolution; the error stays within the quantization bound.
TEST(QD8IgemmConv, QuantizedConvolutionTracksFloat) {
  const ConvGeometry g = testing_nhwc::conv2d(1, 1, 19, 21, 9, 11, 3, 3, 2, 1, 1, 1, 1, 0);
  const size_t cin = 19, cout = 21, ks = 9, in_px = 9 * 11;
  const size_t out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  const std::vector<float> x = random_floats(in_px * cin, 1, 0.f, 2.f);  // after a ReLU
  const std::vector<float> w = random_floats(cout * cin * ks, 2, -0.5f, 0.5f);
  const std::vector<float> bias = random_floats(cout, 3, -1.f, 1.f);
  std::vector<float> expected(out_px * cout);
  f32_conv_nhwc_reference(g, x.data(), w.data(), bias.data(), expected.data());

  std::vector<int8_t> qw(w.size());
  std::vector<float> scale(cout);
  for (size_t j = 0; j < cout; ++j) {  // symmetric per output channel
    float amax = 0.f;
    for (size_t t = 0; t < cin * ks; ++t) amax = std::max(amax, std::fabs(w[j * cin * ks + t]));
    scale[j] = amax / 127.f;
    for (size_t t = 0; t < cin * ks; ++t) qw[j * cin * ks + t] = static_cast<int8_t>(std::nearbyint(w[j * cin * ks + t] / scale[j]));
  }
  std::vector<int8_t> qx(qd8_padded_k(x.size()) + 8);
  QD8RowParams quant;
  qd8_quantize_rows(1, x.size(), x.data(), x.size(), qx.data(), qx.size(), &quant);
  EXPECT_EQ(quant.zero_point, -128);
  const QD8IgemmKernel& kern = qd8_igemm_default_kernel();
  std::vector<int8_t> zero(qd8_padded_k(cin), static_cast<int8_t>(quant.zero_point));
  NhwcConv2dShape s;
  s.in_h = 9, s.in_w = 11, s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = s.kernel_w = 3, s.stride_h = s.stride_w = 2, s.pad_top = s.pad_left = 1, s.pixel_stride = cin;
  std::vector<const int8_t*> ind(nhwc_conv_indirection_size(s, kern.mr));
  nhwc_conv_indirection_init(s, kern.mr, qx.data(), zero.data(), ind.data());
  std::vector<int32_t> packed((qd8_igemm_packed_size(kern.nr, cout, cin, ks) + 3) / 4);
  qd8_igemm_pack(kern.nr, cout, cin, ks, qw.data(), scale.data(), bias.data(), packed.data());
  std::vector<float> y(out_px * cout);
  QD8IgemmArgs args;
  args.m = out_px, args.n = cout, args.kc = cin, args.ks = ks, args.indirection = ind.data(), args.zero = zero.data();
  args.quant = quant, args.packed_w = packed.data(), args.c = y.data(), args.c_stride = cout;
  qd8_igemm(kern, args);
  // Per product: |x| <= 2 rounded by <= scale_x / 2, |w| <= 0.5 rounded by <= scale_w / 2.
  const float bound = static_cast<float>(cin * ks) * (0.5f * quant.scale * 0.5f + 2.f * 0.5f * 0.5f / 127.f);
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_NEAR(y[i], expected[i], bound) << "at " << i;
    err += std::fabs(y[i] - expected[i]);
    ref += std::fabs(expected[i]);
  }
  EXPECT_LT(err / ref, 0.02) << "mean relative error";
}

}  // namespace
}  // namespace kiln
