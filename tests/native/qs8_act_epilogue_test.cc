// The activation-epilogue ("hswish") kernels of the qs8-qc8w IGEMM and depthwise families
// against their references, bit for bit: the int32 sums are exact and the epilogue's float
// operations (acc * in_scale, HardSwish, / y_scale, clamp, round half to even) are the
// same in every lane and in the scalar oracle. Covers every IGEMM subtile 1..MR x 1..NR,
// kc around the 8-block, 1..25 taps, padding taps, A zero points, a_offset both ways,
// strided C, the driver over several panels; depthwise channels 1, CT-1, CT, CT+1, 2CT+3,
// 16CT+7 (the vector, tail-step and lane paths), 1..49 taps, padding taps, output strides,
// a pixel split; output zero points and clamps, scales that saturate and scales that put
// most outputs near HardSwish's knee (-3..3). Also the runners (QS8ConvNhwc with
// `activated`, QS8DwconvNhwc::pack_act) against plain loops. Runs natively and in WASM.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"
#include "ops/qs8_conv_nhwc.h"
#include "ops/qs8_dwconv_nhwc.h"

namespace kiln {

void PrintTo(const QS8IgemmActKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const QS8DwconvActKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<int8_t> random_int8(size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(count);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

// Dequantization scales x_scale * w_scale: a real value spread of about `spread` (in units
// of y_scale = 0.05 when spread is ~6, the outputs cover HardSwish's curved part).
std::vector<float> in_scales(size_t n, size_t k, float spread, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(0.5f, 2.f);
  std::vector<float> s(n);
  for (float& x : s) x = dist(rng) * spread / (5500.f * std::sqrt(static_cast<float>(k)));
  return s;
}

struct Output {
  float scale = 0.05f;
  int zp = -20, lo = -128, hi = 127;
  QS8ActParams params() const {
    return QS8ActParams{scale, zp, static_cast<int8_t>(lo), static_cast<int8_t>(hi)};
  }
};

// ---------------------------------------------------------------------------------------
// IGEMM

class QS8IgemmActTester {
 public:
  QS8IgemmActTester& m(size_t v) { m_ = v; return *this; }
  QS8IgemmActTester& n(size_t v) { n_ = v; return *this; }
  QS8IgemmActTester& kc(size_t v) { kc_ = v; return *this; }
  QS8IgemmActTester& ks(size_t v) { ks_ = v; return *this; }
  QS8IgemmActTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  QS8IgemmActTester& a_offset(ptrdiff_t v) { a_offset_ = v; return *this; }
  QS8IgemmActTester& a_zero_point(int v) { a_zp_ = v; return *this; }
  QS8IgemmActTester& output(Output v) { out_ = v; return *this; }
  QS8IgemmActTester& spread(float v) { spread_ = v; return *this; }
  QS8IgemmActTester& use_driver(bool v) { driver_ = v; return *this; }

  void Test(const QS8IgemmActKernel& kern) const {
    const size_t cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) + " kc=" +
                 std::to_string(kc_) + " ks=" + std::to_string(ks_) + " a_offset=" + std::to_string(a_offset_) +
                 " a_zp=" + std::to_string(a_zp_) + " out zp=" + std::to_string(out_.zp) + " [" +
                 std::to_string(out_.lo) + ", " + std::to_string(out_.hi) + "] spread=" + std::to_string(spread_));
    std::mt19937 rng(static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + kc_ * 31 + ks_ + a_zp_ * 7 + cs));
    // Rows of kc bytes, the last ending at the buffer's end: reads past kc leave the buffer.
    const size_t pixels = 2 * m_ + 3;
    const size_t guard = static_cast<size_t>(std::abs(a_offset_));
    std::vector<int8_t> buf = random_int8(guard + pixels * kc_, rng);
    const int8_t* data = buf.data() + (a_offset_ < 0 ? 0 : guard);
    const int8_t* base = data - a_offset_;
    std::vector<int8_t> zero(kc_, static_cast<int8_t>(a_zp_));
    const size_t tiles = (m_ + kern.mr - 1) / kern.mr;
    std::vector<const int8_t*> ind(tiles * ks_ * kern.mr);
    for (size_t t = 0; t < tiles; ++t)
      for (size_t s = 0; s < ks_; ++s)
        for (size_t i = 0; i < kern.mr; ++i) {
          const size_t px = (t == 0 && s == 0 && i == 0) ? pixels - 1 : rng() % pixels;
          ind[(t * ks_ + s) * kern.mr + i] = rng() % 5 == 0 ? zero.data() : base + px * kc_;
        }
    const std::vector<int8_t> w = random_int8(n_ * kc_ * ks_, rng);
    const std::vector<float> scale = in_scales(n_, kc_ * ks_, spread_, rng);
    std::vector<int32_t> bias(n_);
    std::uniform_int_distribution<int32_t> bd(-3000, 3000);
    for (int32_t& b : bias) b = bd(rng);
    const QS8ActParams params = out_.params();
    const size_t offset = static_cast<size_t>(a_offset_);

    constexpr int8_t kSentinel = 0x5A;
    std::vector<int8_t> expected(m_ * cs, kSentinel), c(m_ * cs, kSentinel);
    qs8_qc8w_igemm_act_reference(kern.act, m_, n_, kc_, ks_, kern.mr, ind.data(), offset, zero.data(), a_zp_, w.data(),
                                 scale.data(), bias.data(), expected.data(), cs, params);
    std::vector<int32_t> packed((qs8_igemm_packed_size(kern.nr, n_, kc_, ks_) + 3) / 4);
    qs8_igemm_pack(kern.nr, n_, kc_, ks_, a_zp_, w.data(), scale.data(), bias.data(), packed.data());
    if (driver_) {
      QS8IgemmArgs args;
      args.m = m_, args.n = n_, args.kc = kc_, args.ks = ks_, args.indirection = ind.data();
      args.a_offset = offset, args.zero = zero.data(), args.packed_w = packed.data();
      args.c = c.data(), args.c_stride = cs, args.act_params = params;
      qs8_igemm(kern, args);
    } else {
      ASSERT_LE(m_, kern.mr);
      kern.fn(m_, n_, kc_, ks_, ind.data(), packed.data(), c.data(), cs, offset, zero.data(), &params);
    }
    size_t inside = 0;
    for (size_t i = 0; i < m_; ++i)
      for (size_t j = 0; j < cs; ++j) {
        ASSERT_EQ(int{c[i * cs + j]}, int{expected[i * cs + j]}) << "at pixel " << i << " channel " << j;
        if (j < n_) inside += c[i * cs + j] > out_.lo && c[i * cs + j] < out_.hi;
      }
    // The comparison covers the rounding, not only the saturation.
    if (spread_ <= 20.f && m_ * n_ >= 16) EXPECT_GT(inside, 0u);
  }

 private:
  size_t m_ = 1, n_ = 1, kc_ = 1, ks_ = 1, c_stride_ = 0;
  ptrdiff_t a_offset_ = 0;
  int a_zp_ = -3;
  Output out_;
  float spread_ = 6.f;
  bool driver_ = false;
};

class QS8IgemmAct : public ::testing::TestWithParam<QS8IgemmActKernel> {};

TEST_P(QS8IgemmAct, EverySubtile) {
  const QS8IgemmActKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t kc : {1, 7, 8, 9})
        for (size_t ks : {1, 3}) QS8IgemmActTester().m(m).n(n).kc(kc).ks(ks).Test(kern);
}

TEST_P(QS8IgemmAct, KcTapsZeroPointsOffsets) {
  const QS8IgemmActKernel& kern = GetParam();
  for (size_t kc : {2, 15, 16, 17, 33, 131}) QS8IgemmActTester().m(kern.mr).n(kern.nr + 1).kc(kc).ks(9).Test(kern);
  for (size_t ks : {2, 4, 25}) QS8IgemmActTester().m(kern.mr).n(2 * kern.nr - 1).kc(13).ks(ks).Test(kern);
  for (int zp : {-128, 0, 127}) QS8IgemmActTester().m(kern.mr).n(kern.nr).kc(19).ks(9).a_zero_point(zp).Test(kern);
  for (ptrdiff_t off : {ptrdiff_t{96}, ptrdiff_t{-40}})
    QS8IgemmActTester().m(kern.mr).n(kern.nr + 3).kc(11).ks(4).a_offset(off).Test(kern);
}

TEST_P(QS8IgemmAct, OutputsClampsScales) {
  const QS8IgemmActKernel& kern = GetParam();
  for (Output o : {Output{0.05f, -128, -128, 127}, Output{0.02f, 0, -128, 127}, Output{0.1f, 10, -20, 30},
                   Output{0.01f, 127, -128, 127}})
    QS8IgemmActTester().m(kern.mr).n(kern.nr + 1).kc(17).ks(9).output(o).Test(kern);
  for (float spread : {0.5f, 2.f, 40.f, 4000.f})  // near zero, the knee, saturation
    QS8IgemmActTester().m(kern.mr).n(kern.nr).kc(25).ks(3).spread(spread).Test(kern);
}

TEST_P(QS8IgemmAct, DriverStridesPanels) {
  const QS8IgemmActKernel& kern = GetParam();
  QS8IgemmActTester().m(3 * kern.mr + 1).n(3 * kern.nr + 5).kc(37).ks(9).c_stride(3 * kern.nr + 9).use_driver(true)
      .Test(kern);
  QS8IgemmActTester().m(1).n(1).kc(1).ks(1).use_driver(true).Test(kern);
  QS8IgemmActTester().m(2 * kern.mr + 3).n(16 * kern.nr + 3).kc(64).ks(9).use_driver(true).Test(kern);
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8IgemmAct, ::testing::ValuesIn(qs8_igemm_act_kernels()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(QS8IgemmActConfig, DefaultIsAvailable) {
  const QS8IgemmActKernel* k = qs8_igemm_default_act_kernel(QS8Act::kHardSwish);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->act, QS8Act::kHardSwish);
  // The same tile as the requantizing default: the runner's indirection buffer fits both.
  EXPECT_EQ(k->mr, qs8_igemm_default_kernel().mr);
  EXPECT_EQ(k->nr, qs8_igemm_default_kernel().nr);
}

// The scalar epilogue against the formula spelled out: HardSwish, division, round half to
// even (ties included), zero point, clamp.
TEST(QS8ActRequantize, HardSwishFormula) {
  const QS8ActParams p{0.25f, -3, -100, 90};
  for (int32_t acc = -4000; acc <= 4000; acc += 7) {
    const float v = static_cast<float>(acc) * 0.0025f;
    const float h = v * (1.f / 6.f) * std::min(std::max(v + 3.f, 0.f), 6.f);
    const float q = std::nearbyint(std::min(std::max(h / 0.25f, -97.f), 93.f));
    EXPECT_EQ(int{qs8_act_requantize<QS8HardSwish>(acc, 0.0025f, p)}, static_cast<int>(q) - 3) << "acc " << acc;
  }
  // hswish(6) = 6 and hswish(4) = 4 exactly; 6 / 4 = 1.5 and 6 / 12 = 0.5 are ties, which
  // round to even (2 and 0); below -3 HardSwish is 0 (the zero point).
  const QS8ActParams unit{1.f, 0, -128, 127};
  EXPECT_EQ(qs8_act_requantize<QS8HardSwish>(1, 4.f, unit), 4);
  EXPECT_EQ(qs8_act_requantize<QS8HardSwish>(6, 1.f, QS8ActParams{4.f, 0, -128, 127}), 2);
  EXPECT_EQ(qs8_act_requantize<QS8HardSwish>(6, 1.f, QS8ActParams{12.f, 0, -128, 127}), 0);
  EXPECT_EQ(qs8_act_requantize<QS8HardSwish>(-7, 1.f, QS8ActParams{0.1f, 33, -128, 127}), 33);
}

// ---------------------------------------------------------------------------------------
// Depthwise

class QS8DwconvActTester {
 public:
  QS8DwconvActTester& channels(size_t v) { c_ = v; return *this; }
  QS8DwconvActTester& pixels(size_t v) { pixels_ = v; return *this; }
  QS8DwconvActTester& taps(size_t v) { ks_ = v; return *this; }
  QS8DwconvActTester& out_stride(size_t v) { out_stride_ = v; return *this; }
  QS8DwconvActTester& zero_every(size_t v) { zero_every_ = v; return *this; }
  QS8DwconvActTester& x_zero_point(int32_t v) { x_zp_ = v; return *this; }
  QS8DwconvActTester& output(Output v) { out_ = v; return *this; }
  QS8DwconvActTester& spread(float v) { spread_ = v; return *this; }
  QS8DwconvActTester& split(bool v) { split_ = v; return *this; }

  void Test(const QS8DwconvActKernel& kern) const {
    const size_t ks = kern.taps != 0 ? kern.taps : ks_;
    const size_t out_stride = out_stride_ != 0 ? out_stride_ : c_;
    SCOPED_TRACE(std::string(kern.name) + " channels=" + std::to_string(c_) + " pixels=" + std::to_string(pixels_) +
                 " ks=" + std::to_string(ks) + " out_stride=" + std::to_string(out_stride) + " zero_every=" +
                 std::to_string(zero_every_) + " x_zp=" + std::to_string(x_zp_) + " out zp=" +
                 std::to_string(out_.zp) + " spread=" + std::to_string(spread_) + (split_ ? " split" : ""));
    std::mt19937 rng(static_cast<uint32_t>(c_ * 7919 + ks * 31 + pixels_ * 7 + static_cast<size_t>(x_zp_ + 128)));
    const size_t rows = pixels_ * ks, a_offset = 3 * c_ + 5;
    std::vector<int8_t> pool = random_int8(a_offset + rows * c_, rng);
    const std::vector<int8_t> zero(c_, static_cast<int8_t>(x_zp_));
    std::vector<const int8_t*> ind(rows);
    for (size_t i = 0; i < rows; ++i)
      ind[i] = zero_every_ != 0 && i % zero_every_ == 1 ? zero.data() : pool.data() + i * c_;
    const std::vector<int8_t> w = random_int8(c_ * ks, rng);
    std::vector<int32_t> bias(c_);
    std::uniform_int_distribution<int32_t> bd(-2000, 2000);
    for (int32_t& b : bias) b = bd(rng);
    const std::vector<float> scale = in_scales(c_, ks, spread_, rng);
    const QS8ActParams params = out_.params();

    constexpr int8_t kSentinel = 0x5A;
    std::vector<int8_t> expected(pixels_ * out_stride, kSentinel);
    qs8_dwconv_act_reference(kern.act, c_, pixels_, ks, ind.data(), a_offset, zero.data(), x_zp_, w.data(),
                             bias.data(), scale.data(), expected.data(), out_stride, params);
    std::vector<int32_t> packed(qs8_dwconv_packed_size(kern.ct, c_, ks, kern.kr) / 4);
    qs8_dwconv_pack(kern.ct, c_, ks, x_zp_, w.data(), bias.data(), scale.data(), packed.data(), kern.kr);
    std::vector<int8_t> y(pixels_ * out_stride + 16, kSentinel);
    auto run = [&](size_t begin, size_t end) {
      kern.fn(c_, end - begin, ks, ind.data() + begin * ks, packed.data(), y.data() + begin * out_stride, out_stride,
              a_offset, zero.data(), &params);
    };
    if (split_) {
      run(0, pixels_ / 3);
      run(pixels_ / 3, pixels_);
    } else {
      run(0, pixels_);
    }
    size_t inside = 0;
    for (size_t p = 0; p < pixels_; ++p)
      for (size_t c = 0; c < out_stride; ++c) {
        ASSERT_EQ(int{y[p * out_stride + c]}, int{expected[p * out_stride + c]}) << "pixel " << p << " channel " << c;
        if (c < c_) inside += y[p * out_stride + c] > out_.lo && y[p * out_stride + c] < out_.hi;
      }
    for (size_t i = pixels_ * out_stride; i < y.size(); ++i) ASSERT_EQ(y[i], kSentinel) << "wrote past the output";
    if (spread_ <= 20.f && pixels_ * c_ >= 16) EXPECT_GT(inside, 0u);
  }

 private:
  size_t c_ = 1, pixels_ = 3, ks_ = 9, out_stride_ = 0, zero_every_ = 0;
  int32_t x_zp_ = 0;
  Output out_;
  float spread_ = 6.f;
  bool split_ = false;
};

class QS8DwconvAct : public ::testing::TestWithParam<QS8DwconvActKernel> {};

const size_t kTaps[] = {1, 2, 4, 9, 25, 26, 49};

TEST_P(QS8DwconvAct, Channels) {
  const QS8DwconvActKernel& kern = GetParam();
  for (size_t ks : kTaps)
    for (size_t c : {size_t{1}, size_t{2}, kern.ct - 1, kern.ct, kern.ct + 1, kern.ct + 11, 2 * kern.ct + 3,
                     16 * kern.ct + 7})
      QS8DwconvActTester().channels(c).taps(ks).pixels(3).Test(kern);
}

TEST_P(QS8DwconvAct, OutputStridePaddingZeroPoints) {
  const QS8DwconvActKernel& kern = GetParam();
  for (size_t c : {size_t{1}, kern.ct - 1, kern.ct + 1, 3 * kern.ct})
    for (size_t zero_every : {size_t{2}, size_t{7}})
      QS8DwconvActTester().channels(c).taps(9).pixels(5).out_stride(c + 7).zero_every(zero_every).x_zero_point(37)
          .Test(kern);
  for (int32_t x_zp : {-128, 127})
    QS8DwconvActTester().channels(2 * kern.ct + 1).taps(25).pixels(40).zero_every(5).x_zero_point(x_zp).split(true)
        .Test(kern);
}

TEST_P(QS8DwconvAct, OutputsClampsScales) {
  const QS8DwconvActKernel& kern = GetParam();
  for (Output o : {Output{0.05f, -128, -128, 127}, Output{0.02f, 0, -128, 127}, Output{0.1f, 10, -20, 30},
                   Output{0.01f, 127, -128, 127}})
    QS8DwconvActTester().channels(3 * kern.ct + 5).taps(9).pixels(4).output(o).Test(kern);
  for (float spread : {0.5f, 2.f, 40.f, 4000.f})
    QS8DwconvActTester().channels(2 * kern.ct + 3).taps(9).pixels(4).spread(spread).Test(kern);
}

std::string dw_name(const ::testing::TestParamInfo<QS8DwconvActKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8DwconvAct,
                         ::testing::ValuesIn(qs8_dwconv_act_kernels().begin(), qs8_dwconv_act_kernels().end()),
                         dw_name);

TEST(QS8DwconvActConfig, DefaultsAreAvailable) {
  for (size_t ks : {1, 9, 25}) {
    const QS8DwconvActKernel* k = qs8_dwconv_default_act_kernel(QS8Act::kHardSwish, ks);
    ASSERT_NE(k, nullptr) << ks << " taps";
    EXPECT_TRUE(k->taps == 0 || k->taps == ks);
  }
}

// ---------------------------------------------------------------------------------------
// Runners

ConvGeometry geometry(size_t batch, int64_t h, int64_t w, size_t cin, size_t cout, size_t groups, int64_t k,
                      int64_t stride, int64_t dilation, int64_t pad_t, int64_t pad_l) {
  ConvGeometry g;
  g.rank = 2, g.batch = batch, g.groups = groups, g.group_in = cin / groups, g.group_out = cout / groups;
  g.in[0] = h, g.in[1] = w;
  for (size_t d = 0; d < 2; ++d) g.kernel[d] = k, g.stride[d] = stride, g.dilation[d] = dilation;
  g.pad_begin[0] = pad_t, g.pad_begin[1] = pad_l;
  for (size_t d = 0; d < 2; ++d)
    g.out[d] = (g.in[d] + 2 * g.pad_begin[d] - g.dilation[d] * (k - 1) - 1) / stride + 1;
  return g;
}

TEST(QS8ConvNhwcAct, HardSwishMatchesReference) {
  struct Case {
    int64_t h, w;
    size_t cin, cout;
    int64_t k, stride, pad;
    size_t batch;
  };
  for (const Case& t : {Case{8, 10, 3, 16, 3, 2, 1, 1}, Case{5, 7, 24, 37, 1, 1, 0, 2}, Case{6, 6, 13, 9, 3, 1, 1, 1},
                        Case{4, 20, 64, 40, 1, 1, 0, 1}}) {
    SCOPED_TRACE("cin " + std::to_string(t.cin) + " cout " + std::to_string(t.cout) + " k " + std::to_string(t.k));
    const ConvGeometry g = geometry(t.batch, t.h, t.w, t.cin, t.cout, 1, t.k, t.stride, 1, t.pad, t.pad);
    std::mt19937 rng(static_cast<uint32_t>(t.cin * 31 + t.cout));
    const std::vector<int8_t> x = random_int8(t.batch * static_cast<size_t>(t.h * t.w) * t.cin, rng);
    const std::vector<int8_t> w = random_int8(t.cout * t.cin * static_cast<size_t>(t.k * t.k), rng);
    std::vector<float> w_scale(t.cout);
    for (size_t m = 0; m < t.cout; ++m) w_scale[m] = 0.002f + 0.0001f * static_cast<float>(m % 7);
    std::vector<int32_t> bias(t.cout);
    for (size_t m = 0; m < t.cout; ++m) bias[m] = static_cast<int32_t>(m * 97 % 3000) - 1500;
    QS8ConvQuant q;
    q.x_scale = 0.04f, q.x_zero_point = 9, q.y_scale = 0.03f, q.y_zero_point = -90;
    q.activated = true, q.activation = QS8Act::kHardSwish;
    const size_t out_n = t.batch * static_cast<size_t>(g.out[0] * g.out[1]) * t.cout;
    std::vector<int8_t> expected(out_n), y(out_n);
    ASSERT_TRUE(qs8_conv_nhwc_reference(g, x.data(), w.data(), w_scale.data(), t.cout, bias.data(), q,
                                        expected.data()).ok());
    QS8ConvNhwc conv;
    ASSERT_TRUE(conv.pack(t.cout, t.cin, static_cast<size_t>(t.k), static_cast<size_t>(t.k), w.data(), w_scale.data(),
                          t.cout, bias.data(), q).ok());
    ASSERT_TRUE(conv.run(g, x.data(), y.data()).ok());
    EXPECT_EQ(y, expected);
    // The activation changes the result (the test would catch a missing epilogue).
    QS8ConvQuant plain = q;
    plain.activated = false;
    std::vector<int8_t> unactivated(out_n);
    ASSERT_TRUE(qs8_conv_nhwc_reference(g, x.data(), w.data(), w_scale.data(), t.cout, bias.data(), plain,
                                        unactivated.data()).ok());
    EXPECT_NE(unactivated, expected);
  }
}

TEST(QS8DwconvNhwcAct, HardSwishMatchesReference) {
  struct Case {
    int64_t h, w;
    size_t c;
    int64_t k, stride, dilation, pad_t, pad_l;
    size_t batch;
  };
  for (const Case& t : {Case{7, 9, 24, 3, 2, 1, 1, 0, 1}, Case{6, 5, 17, 5, 1, 2, 4, 4, 2}, Case{4, 4, 1, 3, 1, 1, 1, 1, 1},
                        Case{5, 11, 72, 3, 1, 1, 1, 1, 2}}) {
    SCOPED_TRACE("channels " + std::to_string(t.c) + " kernel " + std::to_string(t.k));
    const ConvGeometry g = geometry(t.batch, t.h, t.w, t.c, t.c, t.c, t.k, t.stride, t.dilation, t.pad_t, t.pad_l);
    std::mt19937 rng(static_cast<uint32_t>(t.c * 13 + static_cast<size_t>(t.k)));
    const std::vector<int8_t> x = random_int8(t.batch * static_cast<size_t>(t.h * t.w) * t.c, rng);
    const std::vector<int8_t> w = random_int8(t.c * static_cast<size_t>(t.k * t.k), rng);
    std::vector<int32_t> bias(t.c);
    for (size_t c = 0; c < t.c; ++c) bias[c] = static_cast<int32_t>(c * 211 % 4000) - 2000;
    const std::vector<float> scale = in_scales(t.c, static_cast<size_t>(t.k * t.k), 6.f, rng);
    const QS8ActParams out{0.05f, -40, -128, 127};
    const int32_t x_zp = -17;
    const size_t out_n = t.batch * static_cast<size_t>(g.out[0] * g.out[1]) * t.c;
    std::vector<int8_t> expected(out_n), y(out_n);
    qs8_dwconv_nhwc_act_reference(g, x.data(), x_zp, w.data(), bias.data(), scale.data(), QS8Act::kHardSwish, out,
                                  expected.data());
    QS8DwconvNhwc dw;
    ASSERT_TRUE(dw.pack_act(g, w.data(), bias.data(), scale.data(), x_zp, QS8Act::kHardSwish).ok());
    EXPECT_TRUE(dw.packed_act());
    EXPECT_FALSE(dw.packed());
    EXPECT_FALSE(dw.packed_sums());
    ASSERT_TRUE(dw.run_act(g, x.data(), y.data(), out).ok());
    EXPECT_EQ(y, expected);
    // Errors: the other forms refuse, so do a bad output scale and a mismatched geometry.
    EXPECT_FALSE(dw.run(g, x.data(), y.data(), QS8RequantParams{}).ok());
    EXPECT_FALSE(dw.run_act(g, x.data(), y.data(), QS8ActParams{0.f, 0, -128, 127}).ok());
    ConvGeometry other = g;
    other.groups += 1;
    EXPECT_FALSE(dw.run_act(other, x.data(), y.data(), out).ok());
  }
  QS8DwconvNhwc unpacked;
  EXPECT_FALSE(unpacked.run_act(ConvGeometry{}, nullptr, nullptr, QS8ActParams{}).ok());
}

}  // namespace
}  // namespace kiln
