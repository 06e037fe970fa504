// QS8DwconvNhwc (the int8 depthwise runner) against two oracles, bit-exact: its own plain
// loop (qs8_dwconv_nhwc_reference) and the ONNX QLinearConv path of ops/qlinear_util.h
// (qs32_conv_reference over zero-centered NCHW int32, then requantize()), on 3x3 / 5x5 /
// 3x1 layers with stride 2, asymmetric pads, dilation, batch 2, Relu/Clip clamps, a moved
// input and a new input size on the same object; plus the errors it reports.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "conv_nhwc_oracle.h"
#include "ops/qlinear_util.h"
#include "ops/qs8_dwconv_nhwc.h"

namespace kiln {
namespace {

using testing_nhwc::conv2d;

struct Layer {
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  std::vector<float> scale;
};

Layer random_layer(size_t c, size_t ks, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> i8(-128, 127), b(-3000, 3000);
  std::uniform_real_distribution<float> u(0.3f, 1.3f);
  Layer l;
  l.w.resize(c * ks), l.bias.resize(c), l.scale.resize(c);
  for (int8_t& v : l.w) v = static_cast<int8_t>(i8(rng));
  for (int32_t& v : l.bias) v = b(rng);
  for (float& s : l.scale) s = u(rng) * 100.f / (5500.f * std::sqrt(static_cast<float>(ks)));
  return l;
}

// QLinearConv's reference: NCHW int32 with the zero point subtracted, then requantize().
std::vector<int8_t> qlinear_oracle(const ConvGeometry& g, const std::vector<int8_t>& x, int32_t x_zp, const Layer& l,
                                   const QS8RequantParams& p) {
  const size_t c = g.groups, hw = static_cast<size_t>(g.in[0] * g.in[1]), ohw = static_cast<size_t>(g.out[0] * g.out[1]);
  std::vector<int32_t> xc(g.batch * c * hw), wc(l.w.begin(), l.w.end()), yc(g.batch * c * ohw);
  for (size_t b = 0; b < g.batch; ++b)
    for (size_t i = 0; i < hw; ++i)
      for (size_t ch = 0; ch < c; ++ch) xc[(b * c + ch) * hw + i] = x[(b * hw + i) * c + ch] - x_zp;
  qs32_conv_reference(g, xc.data(), wc.data(), l.bias.data(), yc.data());
  std::vector<int8_t> y(g.batch * ohw * c);
  for (size_t b = 0; b < g.batch; ++b)
    for (size_t ch = 0; ch < c; ++ch) {
      Requantization r;
      r.multiplier = l.scale[ch], r.zero_point = p.output_zero_point, r.min = p.output_min, r.max = p.output_max;
      for (size_t i = 0; i < ohw; ++i)
        y[(b * ohw + i) * c + ch] = static_cast<int8_t>(requantize(yc[(b * c + ch) * ohw + i], r));
    }
  return y;
}

struct Case {
  size_t batch, c, h, w, kh, kw, stride, dilation, pt, pl, pb, pr;
  int32_t x_zp, y_zp;
  int8_t qmin, qmax;
};

void run_case(const Case& k) {
  const ConvGeometry g = conv2d(k.batch, k.c, 1, 1, k.h, k.w, k.kh, k.kw, k.stride, k.dilation, k.pt, k.pl, k.pb, k.pr);
  SCOPED_TRACE("c=" + std::to_string(k.c) + " in=" + std::to_string(k.h) + "x" + std::to_string(k.w) + " kernel=" +
               std::to_string(k.kh) + "x" + std::to_string(k.kw) + " stride=" + std::to_string(k.stride) +
               " dilation=" + std::to_string(k.dilation) + " x_zp=" + std::to_string(k.x_zp));
  const size_t ks = k.kh * k.kw;
  const Layer l = random_layer(k.c, ks, static_cast<uint32_t>(k.c * 13 + ks));
  std::mt19937 rng(static_cast<uint32_t>(k.h * 31 + k.c));
  std::uniform_int_distribution<int> i8(-128, 127);
  std::vector<int8_t> x(k.batch * k.h * k.w * k.c);
  for (int8_t& v : x) v = static_cast<int8_t>(i8(rng));
  const QS8RequantParams p{k.y_zp, k.qmin, k.qmax};

  const std::vector<int8_t> expected = qlinear_oracle(g, x, k.x_zp, l, p);
  std::vector<int8_t> ref(expected.size());
  qs8_dwconv_nhwc_reference(g, x.data(), k.x_zp, l.w.data(), l.bias.data(), l.scale.data(), p, ref.data());
  ASSERT_EQ(ref, expected) << "the runner's oracle disagrees with QLinearConv's";

  QS8DwconvNhwc op;
  ASSERT_TRUE(op.pack(g, l.w.data(), l.bias.data(), l.scale.data(), k.x_zp).ok());
  std::vector<int8_t> y(expected.size(), 0);
  ASSERT_TRUE(op.run(g, x.data(), y.data(), p).ok());
  EXPECT_EQ(y, expected) << op.kernel()->name;
  // The same object on a moved copy of the input (the indirection buffer is reused).
  std::vector<int8_t> x2(x.size() + 5);
  std::copy(x.begin(), x.end(), x2.begin() + 5);
  std::fill(y.begin(), y.end(), 0);
  ASSERT_TRUE(op.run(g, x2.data() + 5, y.data(), p).ok());
  EXPECT_EQ(y, expected) << op.kernel()->name << " (moved input)";
}

TEST(QS8DwconvNhwc, MatchesQLinearConv) {
  const Case cases[] = {
      {1, 32, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, -3, 5, -128, 127},     // MobileNet 3x3, same pads
      {2, 17, 9, 7, 3, 3, 2, 1, 1, 1, 1, 1, 20, -7, -128, 127},    // stride 2, odd channels, batch 2
      {1, 40, 11, 10, 5, 5, 2, 1, 2, 2, 2, 2, -128, 0, 0, 127},    // 5x5 stride 2, Relu (min = zp)
      {1, 1, 6, 6, 3, 3, 1, 1, 0, 2, 1, 0, 127, 10, -30, 60},      // one channel, asymmetric pads, Clip
      {1, 24, 9, 9, 3, 3, 1, 2, 2, 2, 2, 2, 5, -1, -128, 127},     // dilation 2
      {2, 9, 7, 8, 3, 1, 1, 1, 1, 0, 1, 0, 0, 3, -128, 127},       // 3x1 (generic tap count)
      {1, 64, 14, 14, 5, 5, 1, 1, 2, 2, 2, 2, -1, 2, -128, 127},   // 5x5 same pads
  };
  for (const Case& k : cases) run_case(k);
}

TEST(QS8DwconvNhwc, NewInputSizeOnTheSameObject) {
  const size_t c = 19;
  const Layer l = random_layer(c, 9, 7);
  QS8DwconvNhwc op;
  const QS8RequantParams p{4, -128, 127};
  for (size_t h : {size_t{6}, size_t{10}, size_t{6}}) {
    const ConvGeometry g = conv2d(1, c, 1, 1, h, h + 1, 3, 3, 2, 1, 1, 1, 1, 1);
    if (!op.packed()) ASSERT_TRUE(op.pack(g, l.w.data(), l.bias.data(), l.scale.data(), -2).ok());
    std::vector<int8_t> x(h * (h + 1) * c);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 37 + h);
    std::vector<int8_t> expected(static_cast<size_t>(g.out[0] * g.out[1]) * c), y(expected.size());
    qs8_dwconv_nhwc_reference(g, x.data(), -2, l.w.data(), l.bias.data(), l.scale.data(), p, expected.data());
    ASSERT_TRUE(op.run(g, x.data(), y.data(), p).ok());
    EXPECT_EQ(y, expected) << "input " << h;
  }
}

TEST(QS8DwconvNhwc, ReportsBadUse) {
  const Layer l = random_layer(8, 9, 1);
  QS8DwconvNhwc op;
  const ConvGeometry g = conv2d(1, 8, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
  std::vector<int8_t> x(5 * 5 * 8), y(5 * 5 * 8);
  const QS8RequantParams p{0, -128, 127};
  Status st = op.run(g, x.data(), y.data(), p);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("before pack"), std::string::npos) << st.message();
  const ConvGeometry grouped = conv2d(1, 4, 2, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
  st = op.pack(grouped, l.w.data(), l.bias.data(), l.scale.data(), 0);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("one input and one output channel"), std::string::npos) << st.message();
  std::vector<float> bad = l.scale;
  bad[3] = std::nanf("");
  st = op.pack(g, l.w.data(), l.bias.data(), bad.data(), 0);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("channel 3"), std::string::npos) << st.message();
  EXPECT_FALSE(op.pack(g, l.w.data(), l.bias.data(), l.scale.data(), 200).ok());
  ASSERT_TRUE(op.pack(g, l.w.data(), nullptr, l.scale.data(), 0).ok());
  const ConvGeometry other = conv2d(1, 16, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1);
  st = op.run(other, x.data(), y.data(), p);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("packed for 8 channels"), std::string::npos) << st.message();
  EXPECT_FALSE(op.run(g, x.data(), y.data(), QS8RequantParams{0, 10, -10}).ok());
  EXPECT_TRUE(op.run(g, x.data(), y.data(), p).ok());
}

}  // namespace
}  // namespace kiln
