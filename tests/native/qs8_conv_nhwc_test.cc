// QS8ConvNhwc (src/ops/qs8_conv_nhwc.h), the group-1 int8 NHWC convolution runner, against
// QLinearConv's reference loops (ops/qlinear_util.h: the zero-centered int32 NCHW convolution
// and requantize(), what src/ops/qlinear_conv.cc runs) on transposed data, bit for bit:
// 1x1, 3x3 stride 2 with asymmetric pads, dilation, batch 2, 3 input channels (not a
// multiple of the 8-channel block), per-tensor weight scale, a Relu-style clamp, a moved
// input and a changed geometry (the cached indirection), 1 vs 3 threads; plus
// qs8_conv_nhwc_reference and the errors.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ops/qlinear_util.h"
#include "ops/qs8_conv_nhwc.h"
#include "platform/thread_pool.h"

namespace kiln {
namespace {

struct Layer {
  size_t batch = 1, h = 8, w = 8, cin = 16, cout = 24, kh = 3, kw = 3;
  int64_t stride[2] = {1, 1}, dilation[2] = {1, 1}, pad_begin[2] = {1, 1}, pad_end[2] = {1, 1};
  ConvGeometry geometry() const {
    ConvGeometry g;
    g.batch = batch, g.groups = 1, g.group_in = cin, g.group_out = cout, g.rank = 2;
    const size_t in[2] = {h, w}, k[2] = {kh, kw};
    for (size_t d = 0; d < 2; ++d) {
      g.in[d] = static_cast<int64_t>(in[d]), g.kernel[d] = static_cast<int64_t>(k[d]);
      g.stride[d] = stride[d], g.dilation[d] = dilation[d], g.pad_begin[d] = pad_begin[d];
      const int64_t span = dilation[d] * (g.kernel[d] - 1) + 1;
      g.out[d] = (g.in[d] + pad_begin[d] + pad_end[d] - span) / stride[d] + 1;
    }
    return g;
  }
};

std::vector<int8_t> random_int8(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(count);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

struct Data {
  std::vector<int8_t> x, w;
  std::vector<float> w_scale;
  std::vector<int32_t> bias;
  QS8ConvQuant quant;
};

// Scales in the range calibration gives: outputs spread over the int8 range.
Data make_data(const Layer& l, uint32_t seed, bool per_tensor_scale = false) {
  Data d;
  d.x = random_int8(l.batch * l.h * l.w * l.cin, seed);
  d.w = random_int8(l.cout * l.cin * l.kh * l.kw, seed + 1);
  std::mt19937 rng(seed + 2);
  std::uniform_real_distribution<float> sd(0.5f, 2.f);
  std::uniform_int_distribution<int32_t> bd(-5000, 5000);
  d.w_scale.resize(per_tensor_scale ? 1 : l.cout);
  for (float& s : d.w_scale) s = sd(rng) * 0.004f;
  d.bias.resize(l.cout);
  for (int32_t& b : d.bias) b = bd(rng);
  d.quant.x_scale = 0.05f;
  d.quant.x_zero_point = -11;
  d.quant.y_zero_point = 6;
  // acc spreads ~5500 sqrt(K); y = acc * x_scale * w_scale / y_scale over ~±100.
  d.quant.y_scale = 0.05f * 0.004f * 5500.f * std::sqrt(static_cast<float>(l.cin * l.kh * l.kw)) / 100.f;
  return d;
}

// QLinearConv's reference: NCHW int32 minus zero points, qs32_conv_reference, requantize().
std::vector<int8_t> qlinear_reference(const Layer& l, const Data& d) {
  const ConvGeometry g = l.geometry();
  const size_t in_px = l.h * l.w, out_px = static_cast<size_t>(g.out[0] * g.out[1]);
  std::vector<int32_t> xc(l.batch * l.cin * in_px), wc(d.w.begin(), d.w.end());
  for (size_t b = 0; b < l.batch; ++b)
    for (size_t p = 0; p < in_px; ++p)
      for (size_t c = 0; c < l.cin; ++c)
        xc[(b * l.cin + c) * in_px + p] = d.x[(b * in_px + p) * l.cin + c] - d.quant.x_zero_point;
  std::vector<int32_t> acc(l.batch * l.cout * out_px);
  qs32_conv_reference(g, xc.data(), wc.data(), d.bias.data(), acc.data());
  std::vector<int8_t> y(acc.size());
  for (size_t b = 0; b < l.batch; ++b)
    for (size_t m = 0; m < l.cout; ++m) {
      Requantization r;
      r.multiplier = d.quant.x_scale * d.w_scale[d.w_scale.size() == 1 ? 0 : m] / d.quant.y_scale;
      r.zero_point = d.quant.y_zero_point, r.min = d.quant.y_min, r.max = d.quant.y_max;
      for (size_t p = 0; p < out_px; ++p)
        y[(b * out_px + p) * l.cout + m] = static_cast<int8_t>(requantize(acc[(b * l.cout + m) * out_px + p], r));
    }
  return y;
}

void check_layer(const Layer& l, uint32_t seed, bool per_tensor = false, int8_t y_min = -128, int8_t y_max = 127) {
  const ConvGeometry g = l.geometry();
  SCOPED_TRACE("layer " + std::to_string(l.h) + "x" + std::to_string(l.w) + " " + std::to_string(l.cin) + "->" +
               std::to_string(l.cout) + " k" + std::to_string(l.kh) + "x" + std::to_string(l.kw) + " out " +
               std::to_string(g.out[0]) + "x" + std::to_string(g.out[1]) + " batch " + std::to_string(l.batch));
  Data d = make_data(l, seed, per_tensor);
  d.quant.y_min = y_min, d.quant.y_max = y_max;
  const std::vector<int8_t> want = qlinear_reference(l, d);
  QS8ConvNhwc conv;
  ASSERT_TRUE(conv.pack(l.cout, l.cin, l.kh, l.kw, d.w.data(), d.w_scale.data(), d.w_scale.size(), d.bias.data(),
                        d.quant).ok());
  std::vector<int8_t> y(want.size(), 0x5A);
  const Status st = conv.run(g, d.x.data(), y.data());
  ASSERT_TRUE(st.ok()) << st.to_string();
  size_t inside = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(int{y[i]}, int{want[i]}) << "element " << i;
    inside += y[i] > y_min && y[i] < y_max;
  }
  EXPECT_GT(inside, want.size() / 8) << "most outputs saturated: the test would not check the rounding";
  std::vector<int8_t> ref(want.size());
  ASSERT_TRUE(qs8_conv_nhwc_reference(g, d.x.data(), d.w.data(), d.w_scale.data(), d.w_scale.size(), d.bias.data(),
                                      d.quant, ref.data()).ok());
  EXPECT_EQ(ref, want);
}

TEST(QS8ConvNhwc, Pointwise1x1) {
  Layer l;
  l.kh = l.kw = 1, l.pad_begin[0] = l.pad_begin[1] = l.pad_end[0] = l.pad_end[1] = 0;
  l.h = 7, l.w = 9, l.cin = 32, l.cout = 40;
  check_layer(l, 1);
  l.cin = 13, l.cout = 7;  // channels off the 8 block
  check_layer(l, 2);
}

TEST(QS8ConvNhwc, ThreeByThreeStride2AsymmetricPads) {
  Layer l;
  l.h = 13, l.w = 10, l.cin = 24, l.cout = 33;
  l.stride[0] = l.stride[1] = 2, l.pad_begin[0] = 1, l.pad_begin[1] = 0, l.pad_end[0] = 0, l.pad_end[1] = 1;
  check_layer(l, 3);
}

TEST(QS8ConvNhwc, DilationAndBatch) {
  Layer l;
  l.batch = 2, l.h = 11, l.w = 12, l.cin = 9, l.cout = 17;
  l.dilation[0] = 2, l.dilation[1] = 3, l.pad_begin[0] = 2, l.pad_begin[1] = 3, l.pad_end[0] = 2, l.pad_end[1] = 3;
  check_layer(l, 4);
  Layer b2;
  b2.batch = 2, b2.stride[0] = 2, b2.h = 9, b2.w = 7;
  check_layer(b2, 5);
}

TEST(QS8ConvNhwc, StemThreeChannelsPerTensorScale) {
  Layer l;
  l.h = 16, l.w = 20, l.cin = 3, l.cout = 16, l.stride[0] = l.stride[1] = 2;
  check_layer(l, 6, /*per_tensor=*/true);
  l.kh = 5, l.kw = 1, l.pad_begin[0] = 2, l.pad_end[0] = 2, l.pad_begin[1] = l.pad_end[1] = 0;
  check_layer(l, 7);
}

TEST(QS8ConvNhwc, ReluClamp) {
  Layer l;
  l.cin = 20, l.cout = 12;
  check_layer(l, 8, false, /*y_min=*/6, /*y_max=*/127);  // Relu: y >= y_zero_point
  check_layer(l, 9, false, -40, 60);                      // Clip
}

// The cached indirection buffer follows a moved input, a second image size, and back.
TEST(QS8ConvNhwc, MovedInputAndChangedGeometry) {
  Layer a;
  a.h = 10, a.w = 6, a.cin = 16, a.cout = 8;
  Layer b = a;
  b.h = 5, b.w = 13, b.batch = 2;
  Data d = make_data(a, 10);
  QS8ConvNhwc conv;
  ASSERT_TRUE(conv.pack(a.cout, a.cin, a.kh, a.kw, d.w.data(), d.w_scale.data(), d.w_scale.size(), d.bias.data(),
                        d.quant).ok());
  for (const Layer* l : {&a, &a, &b, &a}) {
    Data dl = d;
    dl.x = random_int8(l->batch * l->h * l->w * l->cin, static_cast<uint32_t>(l->h * 100 + dl.x.size()));
    std::vector<int8_t> x(dl.x.size() + 64);  // a fresh buffer at a new place every time
    std::copy(dl.x.begin(), dl.x.end(), x.begin() + 32 + 7 * (l == &b));
    const std::vector<int8_t> want = qlinear_reference(*l, dl);
    std::vector<int8_t> y(want.size());
    ASSERT_TRUE(conv.run(l->geometry(), x.data() + 32 + 7 * (l == &b), y.data()).ok());
    ASSERT_EQ(y, want);
  }
}

TEST(QS8ConvNhwc, ThreadsGiveIdenticalResults) {
  Layer l;
  l.batch = 2, l.h = 17, l.w = 15, l.cin = 24, l.cout = 40;
  const Data d = make_data(l, 11);
  QS8ConvNhwc conv;
  ASSERT_TRUE(conv.pack(l.cout, l.cin, l.kh, l.kw, d.w.data(), d.w_scale.data(), d.w_scale.size(), d.bias.data(),
                        d.quant).ok());
  std::vector<int8_t> one(l.batch * l.h * l.w * l.cout), three(one.size());
  ASSERT_TRUE(conv.run(l.geometry(), d.x.data(), one.data()).ok());
  ThreadPool pool(3);
  {
    ThreadPoolScope scope(&pool);
    ASSERT_TRUE(conv.run(l.geometry(), d.x.data(), three.data()).ok());
  }
  EXPECT_EQ(one, three);
  EXPECT_EQ(one, qlinear_reference(l, d));
}

TEST(QS8ConvNhwc, ErrorsNameTheProblem) {
  Layer l;
  const Data d = make_data(l, 12);
  QS8ConvNhwc conv;
  std::vector<int8_t> y(l.h * l.w * l.cout);
  Status st = conv.run(l.geometry(), d.x.data(), y.data());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("before a successful pack"), std::string::npos) << st.message();

  QS8ConvQuant bad = d.quant;
  bad.y_scale = 0.f;
  st = conv.pack(l.cout, l.cin, 3, 3, d.w.data(), d.w_scale.data(), d.w_scale.size(), nullptr, bad);
  EXPECT_NE(st.message().find("y_scale"), std::string::npos) << st.message();
  bad = d.quant;
  bad.x_zero_point = 200;
  st = conv.pack(l.cout, l.cin, 3, 3, d.w.data(), d.w_scale.data(), d.w_scale.size(), nullptr, bad);
  EXPECT_NE(st.message().find("x_zero_point"), std::string::npos) << st.message();
  st = conv.pack(l.cout, l.cin, 3, 3, d.w.data(), d.w_scale.data(), 2, nullptr, d.quant);
  EXPECT_NE(st.message().find("w_scale has 2 values"), std::string::npos) << st.message();
  std::vector<float> neg = d.w_scale;
  neg[3] = -1.f;
  st = conv.pack(l.cout, l.cin, 3, 3, d.w.data(), neg.data(), neg.size(), nullptr, d.quant);
  EXPECT_NE(st.message().find("w_scale[3]"), std::string::npos) << st.message();
  EXPECT_FALSE(conv.packed());

  ASSERT_TRUE(conv.pack(l.cout, l.cin, 3, 3, d.w.data(), d.w_scale.data(), d.w_scale.size(), nullptr, d.quant).ok());
  ConvGeometry g = l.geometry();
  g.group_in = l.cin + 1;
  st = conv.run(g, d.x.data(), y.data());
  EXPECT_NE(st.message().find("does not match the packed"), std::string::npos) << st.message();
  g = l.geometry();
  g.groups = 2;
  st = conv.run(g, d.x.data(), y.data());
  EXPECT_EQ(st.code(), Code::kUnsupported) << st.message();
}

}  // namespace
}  // namespace kiln
