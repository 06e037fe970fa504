// The qs8-qc8w depthwise "sums" kernels (int32 sums out, for activations that need the real
// value) against the unpacked sums reference, exactly: channels 1, 2, CT-1, CT, CT+1,
// CT+11, 2CT+3, 16CT+7; tap counts 1, 2, 4, 9, 25, 26, 49 (the tap pairs, an odd last tap,
// the pointer cache); zero-row pointers mixed with offset rows; output strides wider than
// the channels (the gap untouched); input zero points -128, 0, 37, 127; the extreme
// products; a pixel-range split. Also QS8DwconvNhwc::run_sums against the plain-loop sums
// of the layer. Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"
#include "ops/qs8_dwconv_nhwc.h"

namespace kiln {

void PrintTo(const QS8DwconvSumsKernel& k, std::ostream* os) { *os << k.name; }

namespace {

// Builder-style: QS8DwconvSumsTester().channels(17).taps(9).pixels(5).Test(kern).
class QS8DwconvSumsTester {
 public:
  QS8DwconvSumsTester& channels(size_t v) { c_ = v; return *this; }
  QS8DwconvSumsTester& pixels(size_t v) { pixels_ = v; return *this; }
  QS8DwconvSumsTester& taps(size_t v) { ks_ = v; return *this; }
  QS8DwconvSumsTester& out_stride(size_t v) { out_stride_ = v; return *this; }
  QS8DwconvSumsTester& zero_every(size_t v) { zero_every_ = v; return *this; }  // 0: no padding taps
  QS8DwconvSumsTester& x_zero_point(int32_t v) { x_zp_ = v; return *this; }
  QS8DwconvSumsTester& split(bool v) { split_ = v; return *this; }

  void Test(const QS8DwconvSumsKernel& kern) const {
    const size_t out_stride = out_stride_ != 0 ? out_stride_ : c_;
    SCOPED_TRACE(std::string(kern.name) + " channels=" + std::to_string(c_) + " pixels=" + std::to_string(pixels_) +
                 " ks=" + std::to_string(ks_) + " out_stride=" + std::to_string(out_stride) + " zero_every=" +
                 std::to_string(zero_every_) + " x_zp=" + std::to_string(x_zp_) + (split_ ? " split" : ""));
    std::mt19937 rng(static_cast<uint32_t>(c_ * 7919 + ks_ * 31 + pixels_ * 7 + static_cast<size_t>(x_zp_ + 128)));
    std::uniform_int_distribution<int> i8(-128, 127), bias_dist(-20000, 20000);
    const size_t rows = pixels_ * ks_, a_offset = 3 * c_ + 5;
    std::vector<int8_t> pool(a_offset + rows * c_);
    for (int8_t& v : pool) v = static_cast<int8_t>(i8(rng));
    pool[a_offset] = -128;  // with w = -128 below: the largest product
    const std::vector<int8_t> zero(c_, static_cast<int8_t>(x_zp_));
    std::vector<const int8_t*> ind(rows);
    for (size_t i = 0; i < rows; ++i)
      ind[i] = zero_every_ != 0 && i % zero_every_ == 1 ? zero.data() : pool.data() + i * c_;
    std::vector<int8_t> w(c_ * ks_);
    for (int8_t& v : w) v = static_cast<int8_t>(i8(rng));
    w.front() = -128;
    w.back() = 127;
    std::vector<int32_t> bias(c_);
    for (int32_t& b : bias) b = bias_dist(rng);

    std::vector<int32_t> expected(pixels_ * out_stride, 0);
    qs8_dwconv_sums_reference(c_, pixels_, ks_, ind.data(), a_offset, zero.data(), x_zp_, w.data(), bias.data(),
                              expected.data(), out_stride);
    // Scales are packed but not read: NaN would show if a sums kernel used them.
    const std::vector<float> scale(c_, std::numeric_limits<float>::quiet_NaN());
    std::vector<int32_t> packed(qs8_dwconv_packed_size(kern.ct, c_, ks_, kern.kr) / 4);
    qs8_dwconv_pack(kern.ct, c_, ks_, x_zp_, w.data(), bias.data(), scale.data(), packed.data(), kern.kr);
    const int32_t sentinel = 0x5A5A5A5A;
    std::vector<int32_t> y(pixels_ * out_stride + 16, sentinel);
    auto run = [&](size_t begin, size_t end) {
      kern.fn(c_, end - begin, ks_, ind.data() + begin * ks_, packed.data(), y.data() + begin * out_stride,
              out_stride, a_offset, zero.data());
    };
    if (split_) {
      run(0, pixels_ / 3);
      run(pixels_ / 3, pixels_);
    } else {
      run(0, pixels_);
    }
    for (size_t p = 0; p < pixels_; ++p) {
      for (size_t c = 0; c < c_; ++c)
        ASSERT_EQ(y[p * out_stride + c], expected[p * out_stride + c]) << "pixel " << p << " channel " << c;
      for (size_t c = c_; c < out_stride; ++c)
        ASSERT_EQ(y[p * out_stride + c], sentinel) << "wrote between pixels at pixel " << p;
    }
    for (size_t i = pixels_ * out_stride; i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past the output";
  }

 private:
  size_t c_ = 1, pixels_ = 3, ks_ = 9, out_stride_ = 0, zero_every_ = 0;
  int32_t x_zp_ = 0;
  bool split_ = false;
};

class QS8DwconvSums : public ::testing::TestWithParam<QS8DwconvSumsKernel> {};

const size_t kTaps[] = {1, 2, 4, 9, 25, 26, 49};

TEST_P(QS8DwconvSums, Channels) {
  const QS8DwconvSumsKernel& kern = GetParam();
  for (size_t ks : kTaps)
    for (size_t c : {size_t{1}, size_t{2}, kern.ct - 1, kern.ct, kern.ct + 1, kern.ct + 11, 2 * kern.ct + 3,
                     16 * kern.ct + 7})
      QS8DwconvSumsTester().channels(c).taps(ks).pixels(3).Test(kern);
}

TEST_P(QS8DwconvSums, OutputStrideAndPadding) {
  const QS8DwconvSumsKernel& kern = GetParam();
  for (size_t ks : kTaps)
    for (size_t c : {size_t{1}, kern.ct - 1, kern.ct + 1, 3 * kern.ct})
      for (size_t zero_every : {size_t{2}, size_t{3}, size_t{7}})
        QS8DwconvSumsTester().channels(c).taps(ks).pixels(5).out_stride(c + 7).zero_every(zero_every).x_zero_point(37)
            .Test(kern);
}

TEST_P(QS8DwconvSums, ZeroPointsAndSplit) {
  const QS8DwconvSumsKernel& kern = GetParam();
  for (size_t ks : kTaps)
    for (int32_t x_zp : {-128, 0, 127})
      QS8DwconvSumsTester().channels(2 * kern.ct + 1).taps(ks).pixels(40).zero_every(5).x_zero_point(x_zp)
          .split(true).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<QS8DwconvSumsKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8DwconvSums,
                         ::testing::ValuesIn(qs8_dwconv_sums_kernels().begin(), qs8_dwconv_sums_kernels().end()),
                         kernel_name);

TEST(QS8DwconvSumsConfig, DefaultIsAvailable) {
  ASSERT_FALSE(qs8_dwconv_sums_kernels().empty());
  const QS8DwconvSumsKernel& k = qs8_dwconv_default_sums_kernel();
  EXPECT_TRUE(std::any_of(qs8_dwconv_sums_kernels().begin(), qs8_dwconv_sums_kernels().end(),
                          [&](const QS8DwconvSumsKernel& a) { return a.fn == k.fn; }));
}

// The runner's sums against plain loops over the layer: 3x3 stride 2 with asymmetric pads,
// 5x5 dilation 2, batch 2, a moved input, and the errors.
TEST(QS8DwconvNhwcSums, MatchesPlainLoops) {
  struct Case {
    int64_t h, w, c, k, stride, dilation, pad_t, pad_l, batch;
  };
  for (const Case& t : {Case{7, 9, 24, 3, 2, 1, 1, 0, 1}, Case{6, 5, 17, 5, 1, 2, 4, 4, 2}, Case{4, 4, 1, 3, 1, 1, 1, 1, 1},
                        Case{5, 11, 72, 3, 1, 1, 1, 1, 2}}) {
    ConvGeometry g;
    g.rank = 2, g.batch = static_cast<size_t>(t.batch), g.groups = static_cast<size_t>(t.c), g.group_in = 1,
    g.group_out = 1;
    g.in[0] = t.h, g.in[1] = t.w;
    for (size_t d = 0; d < 2; ++d) g.kernel[d] = t.k, g.stride[d] = t.stride, g.dilation[d] = t.dilation;
    g.pad_begin[0] = t.pad_t, g.pad_begin[1] = t.pad_l;
    for (size_t d = 0; d < 2; ++d) g.out[d] = (g.in[d] + 2 * g.pad_begin[d] - g.dilation[d] * (t.k - 1) - 1) / t.stride + 1;
    const int32_t x_zp = -17;
    std::mt19937 rng(static_cast<uint32_t>(t.c * 13 + t.k));
    std::uniform_int_distribution<int> i8(-128, 127);
    std::vector<int8_t> x(static_cast<size_t>(t.batch * t.h * t.w * t.c) * 2), w(static_cast<size_t>(t.c * t.k * t.k));
    for (int8_t& v : x) v = static_cast<int8_t>(i8(rng));
    for (int8_t& v : w) v = static_cast<int8_t>(i8(rng));
    std::vector<int32_t> bias(static_cast<size_t>(t.c));
    for (int32_t& b : bias) b = i8(rng) * 100;
    const size_t out_n = g.batch * static_cast<size_t>(g.out[0] * g.out[1] * t.c);
    std::vector<int32_t> expected(out_n);
    for (size_t b = 0; b < g.batch; ++b)
      for (int64_t oy = 0; oy < g.out[0]; ++oy)
        for (int64_t ox = 0; ox < g.out[1]; ++ox)
          for (int64_t c = 0; c < t.c; ++c) {
            int32_t acc = bias[static_cast<size_t>(c)];
            for (int64_t ky = 0; ky < t.k; ++ky)
              for (int64_t kx = 0; kx < t.k; ++kx) {
                const int64_t iy = oy * t.stride - t.pad_t + ky * t.dilation, ix = ox * t.stride - t.pad_l + kx * t.dilation;
                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
                acc += (x[static_cast<size_t>(((static_cast<int64_t>(b) * t.h + iy) * t.w + ix) * t.c + c)] - x_zp) *
                       w[static_cast<size_t>((c * t.k + ky) * t.k + kx)];
              }
            expected[static_cast<size_t>(((static_cast<int64_t>(b) * g.out[0] + oy) * g.out[1] + ox) * t.c + c)] = acc;
          }
    QS8DwconvNhwc dw;
    ASSERT_TRUE(dw.pack_sums(g, w.data(), bias.data(), x_zp).ok());
    EXPECT_TRUE(dw.packed_sums());
    EXPECT_FALSE(dw.packed());
    std::vector<int32_t> y(out_n, 0);
    ASSERT_TRUE(dw.run_sums(g, x.data(), y.data()).ok());
    EXPECT_EQ(y, expected) << "channels " << t.c << " kernel " << t.k;
    // The same data moved: the indirection buffer is reused with an offset.
    const size_t in_n = x.size() / 2;
    std::copy(x.begin(), x.begin() + static_cast<ptrdiff_t>(in_n), x.begin() + static_cast<ptrdiff_t>(in_n));
    std::fill(y.begin(), y.end(), 0);
    ASSERT_TRUE(dw.run_sums(g, x.data() + in_n, y.data()).ok());
    EXPECT_EQ(y, expected) << "moved input, channels " << t.c;
    // Packed for sums: the requantizing run refuses, and so does a mismatched geometry.
    EXPECT_FALSE(dw.run(g, x.data(), nullptr, QS8RequantParams{}).ok());
    ConvGeometry other = g;
    other.groups += 1;
    EXPECT_FALSE(dw.run_sums(other, x.data(), y.data()).ok());
  }
  QS8DwconvNhwc unpacked;
  ConvGeometry g;
  EXPECT_FALSE(unpacked.run_sums(g, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace kiln
