// Every qs8-qc8w depthwise microkernel of this build against the unpacked scalar reference,
// bit-exact: channels 1, 2, CT-1, CT, CT+1, 2CT+3 and large; the kernel's tap count (1, 4,
// 9, 25, 49 for the generic ones); pointers to the zero row (the padding, not offset)
// mixed with offset input rows; output strides wider than the channels; input zero points
// -128, 0, 37 and 127; with and without clamping; scales that make round-half-to-even
// ties; a pixel-range split. Also the packer's layout. Runs natively and in WASM
// (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"

namespace kiln {

void PrintTo(const QS8DwconvKernel& k, std::ostream* os) { *os << k.name; }

namespace {

// Builder-style: QS8DwconvTester().channels(17).pixels(5).out_stride(23).Test(kern).
class QS8DwconvTester {
 public:
  QS8DwconvTester& channels(size_t v) { c_ = v; return *this; }
  QS8DwconvTester& pixels(size_t v) { pixels_ = v; return *this; }
  QS8DwconvTester& taps(size_t v) { ks_ = v; return *this; }  // for generic kernels
  QS8DwconvTester& out_stride(size_t v) { out_stride_ = v; return *this; }
  QS8DwconvTester& zero_every(size_t v) { zero_every_ = v; return *this; }  // 0: no padding taps
  QS8DwconvTester& x_zero_point(int32_t v) { x_zp_ = v; return *this; }
  QS8DwconvTester& y_zero_point(int32_t v) { y_zp_ = v; return *this; }
  QS8DwconvTester& clamp(int8_t lo, int8_t hi) { qmin_ = lo, qmax_ = hi; return *this; }
  QS8DwconvTester& ties(bool v) { ties_ = v; return *this; }  // scale 1/2 or 1/4: exact halves
  QS8DwconvTester& split(bool v) { split_ = v; return *this; }

  void Test(const QS8DwconvKernel& kern) const {
    const size_t ks = kern.taps != 0 ? kern.taps : ks_;
    const size_t out_stride = out_stride_ != 0 ? out_stride_ : c_;
    SCOPED_TRACE(std::string(kern.name) + " channels=" + std::to_string(c_) + " pixels=" + std::to_string(pixels_) +
                 " ks=" + std::to_string(ks) + " out_stride=" + std::to_string(out_stride) + " zero_every=" +
                 std::to_string(zero_every_) + " x_zp=" + std::to_string(x_zp_) + " y_zp=" + std::to_string(y_zp_) +
                 " clamp=[" + std::to_string(qmin_) + "," + std::to_string(qmax_) + "]" + (ties_ ? " ties" : "") +
                 (split_ ? " split" : ""));
    std::mt19937 rng(static_cast<uint32_t>(c_ * 7919 + ks * 31 + pixels_ * 7 + static_cast<size_t>(x_zp_ + 128)));
    std::uniform_int_distribution<int> i8(-128, 127), bias_dist(-20000, 20000);
    std::uniform_real_distribution<float> unit(0.f, 1.f);

    // Input rows: each indirection entry points at a row of an int8 pool; the kernels read
    // it a_offset bytes further on, except for the zero row.
    const size_t rows = pixels_ * ks, a_offset = 3 * c_ + 5;
    std::vector<int8_t> pool(a_offset + rows * c_);
    for (int8_t& v : pool) v = static_cast<int8_t>(i8(rng));
    const std::vector<int8_t> zero(c_, static_cast<int8_t>(x_zp_));
    std::vector<const int8_t*> ind(rows);
    for (size_t i = 0; i < rows; ++i)
      ind[i] = zero_every_ != 0 && i % zero_every_ == 1 ? zero.data() : pool.data() + i * c_;

    std::vector<int8_t> w(c_ * ks);
    for (int8_t& v : w) v = static_cast<int8_t>(ties_ ? i8(rng) % 2 : i8(rng));  // ties: -1, 0, 1 (no saturation)
    if (!ties_) {
      w.front() = -128;  // the extreme products, (-128) x (-128) included
      w.back() = 127;
    }
    std::vector<int32_t> bias(c_);
    for (int32_t& b : bias) b = bias_dist(rng);
    std::vector<float> scale(c_);
    // Sums have a spread of ~5500 sqrt(ks): scales put most outputs inside int8 and some
    // beyond it (saturation).
    for (float& s : scale)
      s = ties_ ? (unit(rng) < 0.5f ? 0.5f : 0.25f) : (0.3f + unit(rng)) * 100.f / (5500.f * std::sqrt(float(ks)));
    if (ties_) std::fill(bias.begin(), bias.end(), 1);  // odd sums: many exact .5 after * 1/2
    const QS8RequantParams params{y_zp_, qmin_, qmax_};

    std::vector<int8_t> expected(pixels_ * out_stride, 0);
    qs8_dwconv_reference(c_, pixels_, ks, ind.data(), a_offset, zero.data(), x_zp_, w.data(), bias.data(),
                         scale.data(), expected.data(), out_stride, params);

    std::vector<int32_t> packed(qs8_dwconv_packed_size(kern.ct, c_, ks) / 4);
    qs8_dwconv_pack(kern.ct, c_, ks, x_zp_, w.data(), bias.data(), scale.data(), packed.data());
    const int8_t sentinel = 0x5A;
    std::vector<int8_t> y(pixels_ * out_stride + 16, sentinel);
    QS8DwconvArgs args;
    args.pixels = pixels_, args.channels = c_, args.ks = ks, args.indirection = ind.data();
    args.a_offset = a_offset, args.zero = zero.data(), args.packed_w = packed.data();
    args.out = y.data(), args.out_stride = out_stride, args.params = params;
    if (split_) {
      qs8_dwconv_pixels(kern, args, 0, pixels_ / 3);
      qs8_dwconv_pixels(kern, args, pixels_ / 3, pixels_);
    } else {
      qs8_dwconv_pixels(kern, args, 0, pixels_);
    }
    size_t clamped = 0;
    for (size_t p = 0; p < pixels_; ++p) {
      for (size_t c = 0; c < c_; ++c) {
        const size_t i = p * out_stride + c;
        ASSERT_EQ(int{y[i]}, int{expected[i]}) << "pixel " << p << " channel " << c;
        ASSERT_GE(y[i], qmin_);
        ASSERT_LE(y[i], qmax_);
        clamped += y[i] == qmin_ || y[i] == qmax_;
      }
      for (size_t c = c_; c < out_stride; ++c)
        ASSERT_EQ(y[p * out_stride + c], sentinel) << "wrote between pixels at pixel " << p;
    }
    for (size_t i = pixels_ * out_stride; i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past the output";
    if (qmin_ > -128 && c_ * pixels_ >= 32) EXPECT_GT(clamped, 0u) << "the clamp never bit: the test is too weak";
  }

 private:
  size_t c_ = 1, pixels_ = 3, ks_ = 9, out_stride_ = 0, zero_every_ = 0;
  int32_t x_zp_ = 0, y_zp_ = 0;
  int8_t qmin_ = -128, qmax_ = 127;
  bool ties_ = false, split_ = false;
};

class QS8Dwconv : public ::testing::TestWithParam<QS8DwconvKernel> {};

std::vector<size_t> tap_counts(const QS8DwconvKernel& kern) {
  if (kern.taps != 0) return {kern.taps};
  return {1, 4, 9, 25, 49};
}

std::vector<size_t> channel_counts(const QS8DwconvKernel& kern) {
  return {1, 2, kern.ct - 1, kern.ct, kern.ct + 1, 2 * kern.ct + 3, 16 * kern.ct + 7};
}

TEST_P(QS8Dwconv, Channels) {
  const QS8DwconvKernel& kern = GetParam();
  for (size_t ks : tap_counts(kern))
    for (size_t c : channel_counts(kern)) QS8DwconvTester().channels(c).taps(ks).pixels(3).Test(kern);
}

TEST_P(QS8Dwconv, OutputStrideAndPadding) {
  const QS8DwconvKernel& kern = GetParam();
  for (size_t ks : tap_counts(kern))
    for (size_t c : {size_t{1}, kern.ct - 1, kern.ct + 1, 3 * kern.ct})
      for (size_t zero_every : {size_t{2}, size_t{3}, size_t{7}})
        QS8DwconvTester().channels(c).taps(ks).pixels(5).out_stride(c + 7).zero_every(zero_every).Test(kern);
}

TEST_P(QS8Dwconv, ZeroPoints) {
  const QS8DwconvKernel& kern = GetParam();
  for (size_t ks : tap_counts(kern))
    for (int32_t x_zp : {-128, 37, 127})
      for (int32_t y_zp : {-128, -5, 127})
        QS8DwconvTester().channels(kern.ct + 3).taps(ks).pixels(4).zero_every(3).x_zero_point(x_zp)
            .y_zero_point(y_zp).Test(kern);
}

TEST_P(QS8Dwconv, Clamp) {
  const QS8DwconvKernel& kern = GetParam();
  for (size_t ks : tap_counts(kern)) {
    // Relu (min = zero point) and a narrow Clip, with zero points in and out.
    QS8DwconvTester().channels(2 * kern.ct + 3).taps(ks).pixels(4).y_zero_point(-20).clamp(-20, 127).Test(kern);
    QS8DwconvTester().channels(kern.ct).taps(ks).pixels(6).x_zero_point(11).y_zero_point(3).clamp(-40, 50)
        .zero_every(4).Test(kern);
  }
}

TEST_P(QS8Dwconv, RoundHalfToEven) {
  const QS8DwconvKernel& kern = GetParam();
  for (size_t ks : tap_counts(kern))
    QS8DwconvTester().channels(kern.ct + 1).taps(ks).pixels(9).ties(true).x_zero_point(-3).y_zero_point(1).Test(kern);
}

TEST_P(QS8Dwconv, ManyPixelsSplit) {
  const QS8DwconvKernel& kern = GetParam();
  for (size_t ks : tap_counts(kern))
    QS8DwconvTester().channels(kern.ct * 2 + 1).taps(ks).pixels(70).out_stride(kern.ct * 3).zero_every(5).split(true)
        .x_zero_point(-9).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<QS8DwconvKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8Dwconv, ::testing::ValuesIn(qs8_dwconv_kernels().begin(), qs8_dwconv_kernels().end()),
                         kernel_name);

TEST(QS8DwconvPack, LayoutIsBiasScaleThenTaps) {
  // 3 channels, 2 taps, ct = 4: W[c][s] = 10 c + s; x_zp = 2 folds -2 * (sum of the taps).
  const int8_t w[] = {0, 1, 10, 11, 20, 21};
  const int32_t bias[] = {100, 200, 300};
  const float scale[] = {0.5f, 0.25f, 2.f};
  ASSERT_EQ(qs8_dwconv_packed_size(4, 3, 2), 4 * 8 + 2 * 4u);
  std::vector<int32_t> packed(qs8_dwconv_packed_size(4, 3, 2) / 4, -1);
  qs8_dwconv_pack(4, 3, 2, 2, w, bias, scale, packed.data());
  EXPECT_EQ(packed[0], 100 - 2 * 1);
  EXPECT_EQ(packed[1], 200 - 2 * 21);
  EXPECT_EQ(packed[2], 300 - 2 * 41);
  EXPECT_EQ(packed[3], 0);  // padded channel
  float s[4];
  std::memcpy(s, packed.data() + 4, sizeof s);
  EXPECT_EQ(s[0], 0.5f);
  EXPECT_EQ(s[1], 0.25f);
  EXPECT_EQ(s[2], 2.f);
  EXPECT_EQ(s[3], 0.f);
  const int8_t* q = reinterpret_cast<const int8_t*>(packed.data() + 8);
  const int8_t expected[] = {0, 10, 20, 0, 1, 11, 21, 0};  // tap-major rows of ct
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(q[i], expected[i]) << i;
  // Null bias: the folded zero-point term only.
  qs8_dwconv_pack(4, 3, 2, -1, w, nullptr, scale, packed.data());
  EXPECT_EQ(packed[1], 21);
}

TEST(QS8DwconvRequantize, RoundsHalfToEvenAndSaturates) {
  const QS8RequantParams p{0, -128, 127};
  EXPECT_EQ(qs8_requantize(1, 0.5f, p), 0);    // 0.5 -> 0
  EXPECT_EQ(qs8_requantize(3, 0.5f, p), 2);    // 1.5 -> 2
  EXPECT_EQ(qs8_requantize(-5, 0.5f, p), -2);  // -2.5 -> -2
  EXPECT_EQ(qs8_requantize(1 << 30, 1.f, p), 127);
  EXPECT_EQ(qs8_requantize(-(1 << 30), 1000.f, p), -128);
  EXPECT_EQ(qs8_requantize(10, 1.f, QS8RequantParams{-100, -128, 127}), -90);
  EXPECT_EQ(qs8_requantize(-50, 1.f, QS8RequantParams{-100, -100, 127}), -100);  // Relu
}

TEST(QS8DwconvConfig, DefaultsMatchTheTapCount) {
  for (size_t ks : {size_t{1}, size_t{9}, size_t{25}, size_t{49}}) {
    const QS8DwconvKernel& k = qs8_dwconv_default_kernel(ks);
    EXPECT_TRUE(k.taps == 0 || k.taps == ks) << k.name << " for " << ks << " taps";
  }
  EXPECT_EQ(qs8_dwconv_default_kernel(9).taps, 9u);
}

}  // namespace
}  // namespace kiln
