// QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger, DynamicQuantizeLinear against
// straightforward loops written here (direct 2-D convolution with explicit bounds checks,
// triple-loop matmul, requantization written out) on random uint8 / int8 data with zero
// points, per-channel weight scales, padding, strides, dilations and groups.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ops_tensor_testing.h"

namespace kiln {
namespace {

using namespace kiln::testing;

Tensor i8(const std::vector<int8_t>& v, Dims d) { return make_tensor(DType::kI8, v, std::move(d)); }

// Random 8-bit tensor of dtype dt (kU8 or kI8) as both a Tensor and int values.
struct Q8 {
  Tensor t;
  std::vector<int> v;
};
Q8 random_q8(std::mt19937& rng, DType dt, Dims d) {
  const int lo = dt == DType::kU8 ? 0 : -128, hi = dt == DType::kU8 ? 255 : 127;
  std::uniform_int_distribution<int> dist(lo, hi);
  Q8 q;
  q.v.resize(static_cast<size_t>(num_elements(d)));
  for (int& x : q.v) x = dist(rng);
  if (dt == DType::kU8)
    q.t = u8(std::vector<uint8_t>(q.v.begin(), q.v.end()), d);
  else
    q.t = i8(std::vector<int8_t>(q.v.begin(), q.v.end()), d);
  return q;
}
Tensor q8_scalar(DType dt, int v, Dims d = {}) {
  return dt == DType::kU8 ? u8({static_cast<uint8_t>(v)}, d) : i8({static_cast<int8_t>(v)}, d);
}
Tensor q8_vec(DType dt, const std::vector<int>& v) {
  const Dims d = {static_cast<int64_t>(v.size())};
  if (dt == DType::kU8) return u8(std::vector<uint8_t>(v.begin(), v.end()), d);
  return i8(std::vector<int8_t>(v.begin(), v.end()), d);
}
std::vector<int> ints_of(const Tensor& t) {
  std::vector<int> r;
  for (int64_t i = 0; i < t.size(); ++i) r.push_back(static_cast<int>(t.get_i64(i)));
  return r;
}
int requant(int64_t acc, float multiplier, int zp, DType dt) {
  const int lo = dt == DType::kU8 ? 0 : -128, hi = dt == DType::kU8 ? 255 : 127;
  const double q = std::nearbyint(static_cast<float>(acc) * multiplier) + zp;
  return static_cast<int>(std::min<double>(std::max<double>(q, lo), hi));
}

struct ConvCase {
  DType xt, wt, yt;
  int n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
  bool per_channel, bias;
};

// Direct convolution of zero-centered ints: returns int64 accumulators [n, m, oh, ow].
std::vector<int64_t> conv_ref(const ConvCase& k, const std::vector<int>& x, int xzp, const std::vector<int>& w,
                              const std::vector<int>& wzp, const std::vector<int>& bias, int* oh, int* ow) {
  *oh = (k.h + k.pt + k.pb - (k.dh * (k.kh - 1) + 1)) / k.sh + 1;
  *ow = (k.w + k.pl + k.pr - (k.dw * (k.kw - 1) + 1)) / k.sw + 1;
  const int cg = k.c / k.group, mg = k.m / k.group;
  std::vector<int64_t> y;
  for (int b = 0; b < k.n; ++b)
    for (int o = 0; o < k.m; ++o)
      for (int i = 0; i < *oh; ++i)
        for (int j = 0; j < *ow; ++j) {
          int64_t acc = bias.empty() ? 0 : bias[static_cast<size_t>(o)];
          const int g = o / mg, z = wzp.size() == 1 ? wzp[0] : wzp[static_cast<size_t>(o)];
          for (int ci = 0; ci < cg; ++ci)
            for (int u = 0; u < k.kh; ++u)
              for (int v = 0; v < k.kw; ++v) {
                const int yy = i * k.sh - k.pt + u * k.dh, xx = j * k.sw - k.pl + v * k.dw;
                if (yy < 0 || yy >= k.h || xx < 0 || xx >= k.w) continue;
                const int xv = x[static_cast<size_t>(((b * k.c + g * cg + ci) * k.h + yy) * k.w + xx)] - xzp;
                const int wv = w[static_cast<size_t>(((o * cg + ci) * k.kh + u) * k.kw + v)] - z;
                acc += static_cast<int64_t>(xv) * wv;
              }
          y.push_back(acc);
        }
  return y;
}

const ConvCase kConvCases[] = {
    // xt, wt, yt, n c h w m kh kw group sh sw dh dw pads(t l b r), per_channel, bias
    {DType::kU8, DType::kU8, DType::kU8, 1, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false, true},
    {DType::kI8, DType::kI8, DType::kI8, 2, 4, 7, 5, 6, 3, 2, 2, 2, 1, 1, 2, 0, 1, 2, 0, true, true},
    {DType::kU8, DType::kI8, DType::kI8, 1, 8, 9, 9, 8, 3, 3, 8, 2, 2, 1, 1, 1, 1, 1, 1, true, false},  // depthwise
    {DType::kI8, DType::kU8, DType::kU8, 1, 5, 4, 11, 7, 1, 1, 1, 1, 3, 1, 1, 0, 0, 0, 0, true, true},  // pointwise
    {DType::kU8, DType::kU8, DType::kI8, 3, 2, 1, 1, 17, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, true},  // 1x1 image
    {DType::kI8, DType::kI8, DType::kU8, 1, 6, 10, 8, 9, 2, 3, 3, 3, 2, 2, 1, 1, 2, 0, 3, true, true},
    // larger: k = 24 * 9 (several blocks of 8), 40 outputs (panels of 8 / 16 plus a tail), 13x11 pixels
    {DType::kU8, DType::kI8, DType::kU8, 1, 24, 13, 11, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, true},
};

// sym: weight zero points 0 (int8) / 128 (uint8), the packed int8-kernel path; otherwise
// asymmetric zero points, the reference loops. Both are checked against the loops here.
TEST(QLinearConv, MatchesDirectLoopsOnRandomData) {
  std::mt19937 rng(7);
  for (bool sym : {false, true})
  for (const ConvCase& k : kConvCases) {
    SCOPED_TRACE("case c=" + std::to_string(k.c) + " m=" + std::to_string(k.m) + " group=" + std::to_string(k.group) +
                 (sym ? " symmetric" : ""));
    Q8 x = random_q8(rng, k.xt, {k.n, k.c, k.h, k.w});
    Q8 w = random_q8(rng, k.wt, {k.m, k.c / k.group, k.kh, k.kw});
    const int xzp = k.xt == DType::kU8 ? 131 : -7, yzp = k.yt == DType::kU8 ? 120 : 3;
    std::vector<int> wzp = {k.wt == DType::kU8 ? 125 : 2};
    std::vector<float> ws = {0.011f};
    if (k.per_channel) {
      wzp.clear(), ws.clear();
      for (int o = 0; o < k.m; ++o) wzp.push_back((k.wt == DType::kU8 ? 120 : -3) + o), ws.push_back(0.004f + 0.003f * o);
    }
    if (sym) wzp.assign(wzp.size(), k.wt == DType::kU8 ? 128 : 0);
    std::vector<int> bias;
    if (k.bias)
      for (int o = 0; o < k.m; ++o) bias.push_back(o * 997 - 3000);
    const float xs = 0.05f, ys = 0.9f;
    OpTester t("QLinearConv", 10);
    t.input(x.t).constant(f32s(xs)).constant(q8_scalar(k.xt, xzp)).constant(w.t);
    t.constant(f32(ws, {static_cast<int64_t>(ws.size())}))
        .constant(q8_vec(k.wt, wzp))
        .constant(f32s(ys))
        .constant(q8_scalar(k.yt, yzp));
    if (k.bias) t.constant(i32(std::vector<int32_t>(bias.begin(), bias.end()), {k.m}));
    t.attr("group", static_cast<int64_t>(k.group))
        .attr("strides", std::vector<int64_t>{k.sh, k.sw})
        .attr("dilations", std::vector<int64_t>{k.dh, k.dw})
        .attr("pads", std::vector<int64_t>{k.pt, k.pl, k.pb, k.pr});
    Tensor y = t.run1();
    int oh = 0, ow = 0;
    const std::vector<int64_t> acc = conv_ref(k, x.v, xzp, w.v, wzp, bias, &oh, &ow);
    ASSERT_EQ(y.dims(), (Dims{k.n, k.m, oh, ow}));
    ASSERT_EQ(y.dtype(), k.yt);
    const std::vector<int> got = ints_of(y);
    const int64_t plane = static_cast<int64_t>(oh) * ow;
    int mismatches = 0;
    for (size_t i = 0; i < acc.size(); ++i) {
      const size_t o = static_cast<size_t>((static_cast<int64_t>(i) / plane) % k.m);
      const float mult = xs * ws[ws.size() == 1 ? 0 : o] / ys;
      mismatches += got[i] != requant(acc[i], mult, yzp, k.yt);
    }
    EXPECT_EQ(mismatches, 0);
    // The test must be able to fail: the outputs are not all saturated.
    int interior = 0;
    for (int v : got) interior += v != (k.yt == DType::kU8 ? 0 : -128) && v != (k.yt == DType::kU8 ? 255 : 127);
    EXPECT_GT(interior, static_cast<int>(got.size()) / 4);
  }
}

TEST(ConvInteger, MatchesDirectLoopsWithPerChannelZeroPoints) {
  std::mt19937 rng(11);
  for (bool sym : {false, true})
  for (const ConvCase& k : kConvCases) {
    Q8 x = random_q8(rng, k.xt, {k.n, k.c, k.h, k.w});
    Q8 w = random_q8(rng, k.wt, {k.m, k.c / k.group, k.kh, k.kw});
    const int xzp = k.xt == DType::kU8 ? 100 : -20;
    std::vector<int> wzp;
    for (int o = 0; o < (k.per_channel ? k.m : 1); ++o) wzp.push_back(o % 5 - 2 + (k.wt == DType::kU8 ? 3 : 0));
    if (sym) wzp.assign(wzp.size(), k.wt == DType::kU8 ? 128 : 0);
    OpTester t("ConvInteger", 10);
    t.input(x.t).constant(w.t).constant(q8_scalar(k.xt, xzp)).constant(q8_vec(k.wt, wzp));
    t.attr("group", static_cast<int64_t>(k.group))
        .attr("strides", std::vector<int64_t>{k.sh, k.sw})
        .attr("dilations", std::vector<int64_t>{k.dh, k.dw})
        .attr("pads", std::vector<int64_t>{k.pt, k.pl, k.pb, k.pr});
    Tensor y = t.run1();
    int oh = 0, ow = 0;
    const std::vector<int64_t> acc = conv_ref(k, x.v, xzp, w.v, wzp, {}, &oh, &ow);
    ASSERT_EQ(y.dtype(), DType::kI32);
    ASSERT_EQ(y.dims(), (Dims{k.n, k.m, oh, ow}));
    EXPECT_EQ(values<int32_t>(y), std::vector<int32_t>(acc.begin(), acc.end()));
  }
}

TEST(ConvInteger, WithoutZeroPointsAndAutoPad) {
  // x 1x1x3x3 = 1..9 (uint8), w 1x1x2x2 of ones, SAME_UPPER: sums of 2x2 windows padded at the end.
  OpTester t("ConvInteger", 10);
  t.input(u8({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3})).constant(u8({1, 1, 1, 1}, {1, 1, 2, 2}));
  t.attr("auto_pad", "SAME_UPPER");
  Tensor y = t.run1();
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{12, 16, 9, 24, 28, 15, 15, 17, 9}));
}

// Triple-loop batched matmul of centered ints; zero points / scales per row of A, per column of B.
TEST(QLinearMatMul, TwoDAndBatchedWithPerColumnScales) {
  std::mt19937 rng(3);
  struct Case { DType at, bt, yt; Dims a, b; bool per_col; };
  const Case cases[] = {
      {DType::kU8, DType::kU8, DType::kU8, {2, 4}, {4, 3}, false},
      {DType::kI8, DType::kI8, DType::kI8, {3, 5, 17}, {17, 9}, true},
      {DType::kU8, DType::kI8, DType::kI8, {2, 1, 6, 8}, {3, 8, 5}, true},
      {DType::kI8, DType::kU8, DType::kU8, {1, 33}, {33, 1}, false},
      {DType::kU8, DType::kI8, DType::kU8, {37, 70}, {70, 19}, true},
  };
  for (bool sym : {false, true})
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("A ") + dims_to_string(c.a) + " B " + dims_to_string(c.b) + (sym ? " symmetric" : ""));
    Q8 a = random_q8(rng, c.at, c.a), b = random_q8(rng, c.bt, c.b);
    const int64_t m = c.a[c.a.size() - 2], k = c.a.back(), n = c.b.back();
    const int azp = c.at == DType::kU8 ? 128 : 1, yzp = c.yt == DType::kU8 ? 128 : -2;
    std::vector<int> bzp = {c.bt == DType::kU8 ? 127 : 0};
    std::vector<float> bs = {0.02f};
    if (c.per_col) {
      bzp.clear(), bs.clear();
      for (int64_t j = 0; j < n; ++j) bzp.push_back(static_cast<int>(j % 3) - 1), bs.push_back(0.01f + 0.002f * j);
    }
    if (sym) bzp.assign(bzp.size(), c.bt == DType::kU8 ? 128 : 0);
    const float as = 0.03f, ys = 0.2f + 0.05f * static_cast<float>(k);
    OpTester t("QLinearMatMul", 10);
    t.input(a.t).constant(f32s(as)).constant(q8_scalar(c.at, azp)).constant(b.t);
    t.constant(f32(bs, {static_cast<int64_t>(bs.size())})).constant(q8_vec(c.bt, bzp)).constant(f32s(ys));
    t.constant(q8_scalar(c.yt, yzp));
    Tensor y = t.run1();
    ASSERT_EQ(y.dtype(), c.yt);
    // Batch dims broadcast: A's batch [.., D, 1] against B's [E]: the test shapes use batch
    // indices i (of A, cycling) and j (of B) of the output batch.
    const Dims& yd = y.dims();
    const int64_t batches = y.size() / (m * n);
    const int64_t a_batches = a.t.size() / (m * k), b_batches = b.t.size() / (k * n);
    const std::vector<int> got = ints_of(y);
    int mismatches = 0;
    for (int64_t bt = 0; bt < batches; ++bt) {
      // Only shapes where one side is unbatched or both broadcast as [D,1]x[E] are used.
      const int64_t ai = b_batches <= 1 ? bt % a_batches : bt / b_batches % a_batches;
      const int64_t bi = b_batches <= 1 ? 0 : bt % b_batches;
      for (int64_t r = 0; r < m; ++r)
        for (int64_t col = 0; col < n; ++col) {
          int64_t acc = 0;
          const int z = bzp.size() == 1 ? bzp[0] : bzp[static_cast<size_t>(col)];
          for (int64_t t2 = 0; t2 < k; ++t2)
            acc += static_cast<int64_t>(a.v[static_cast<size_t>((ai * m + r) * k + t2)] - azp) *
                   (b.v[static_cast<size_t>((bi * k + t2) * n + col)] - z);
          const float mult = as * bs[bs.size() == 1 ? 0 : static_cast<size_t>(col)] / ys;
          mismatches += got[static_cast<size_t>((bt * m + r) * n + col)] != requant(acc, mult, yzp, c.yt);
        }
    }
    EXPECT_EQ(mismatches, 0) << "output dims " << dims_to_string(yd);
  }
}

TEST(MatMulInteger, PerRowAndPerColumnZeroPointsAnd1DInput) {
  std::mt19937 rng(5);
  Q8 a = random_q8(rng, DType::kU8, {3, 7}), b = random_q8(rng, DType::kI8, {7, 4});
  const std::vector<int> azp = {10, 128, 250}, bzp = {-1, 0, 5, -128};
  OpTester t("MatMulInteger", 10);
  t.input(a.t).input(b.t).constant(q8_vec(DType::kU8, azp)).constant(q8_vec(DType::kI8, bzp));
  Tensor y = t.run1();
  ASSERT_EQ(y.dims(), (Dims{3, 4}));
  std::vector<int32_t> want;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      int32_t acc = 0;
      for (int k = 0; k < 7; ++k) acc += (a.v[static_cast<size_t>(r * 7 + k)] - azp[static_cast<size_t>(r)]) *
                                         (b.v[static_cast<size_t>(k * 4 + c)] - bzp[static_cast<size_t>(c)]);
      want.push_back(acc);
    }
  EXPECT_EQ(values<int32_t>(y), want);
  // 1-D A [7] (no zero points): y [4].
  OpTester u("MatMulInteger", 10);
  Q8 v = random_q8(rng, DType::kI8, {7});
  u.input(v.t).input(b.t);
  Tensor z = u.run1();
  ASSERT_EQ(z.dims(), (Dims{4}));
  for (int c = 0; c < 4; ++c) {
    int32_t acc = 0;
    for (int k = 0; k < 7; ++k) acc += v.v[static_cast<size_t>(k)] * b.v[static_cast<size_t>(k * 4 + c)];
    EXPECT_EQ(values<int32_t>(z)[static_cast<size_t>(c)], acc);
  }
}

TEST(MatMulInteger, ConstantSymmetricWeightsUseTheInt8Kernels) {
  // Constant int8 B without a zero point and uint8 B with zero point 128 are packed for the
  // int8 GEMM kernels; results must equal the plain loops (A batched: rows stacked).
  std::mt19937 rng(13);
  for (DType bt : {DType::kI8, DType::kU8}) {
    Q8 a = random_q8(rng, DType::kU8, {2, 9, 21}), b = random_q8(rng, bt, {21, 18});
    const int bz = bt == DType::kU8 ? 128 : 0;
    OpTester t("MatMulInteger", 10);
    t.input(a.t).constant(b.t).constant(u8({77}, {}));
    if (bt == DType::kU8) t.constant(u8({128}, {}));
    Tensor y = t.run1();
    ASSERT_EQ(y.dims(), (Dims{2, 9, 18}));
    std::vector<int32_t> want;
    for (int r = 0; r < 18; ++r)
      for (int c = 0; c < 18; ++c) {
        int32_t acc = 0;
        for (int k = 0; k < 21; ++k)
          acc += (a.v[static_cast<size_t>(r * 21 + k)] - 77) * (b.v[static_cast<size_t>(k * 18 + c)] - bz);
        want.push_back(acc);
      }
    EXPECT_EQ(values<int32_t>(y), want);
  }
}

TEST(DynamicQuantizeLinear, SpecExampleAndAllZeros) {
  OpTester t("DynamicQuantizeLinear", 11);
  t.input(f32({0.f, 2.f, -3.f, -2.5f, 1.34f, 0.5f}, {6})).outputs(3);
  auto r = t.run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values<uint8_t>(r.value()[0]), (std::vector<uint8_t>{153, 255, 0, 26, 221, 179}));
  EXPECT_FLOAT_EQ(values<float>(r.value()[1])[0], 5.f / 255.f);
  EXPECT_EQ(values<uint8_t>(r.value()[2])[0], 153);
  OpTester z("DynamicQuantizeLinear", 11);
  z.input(f32({0.f, 0.f}, {2})).outputs(3);
  auto rz = z.run();
  ASSERT_TRUE(rz.ok()) << rz.status().to_string();
  EXPECT_EQ(values<uint8_t>(rz.value()[0]), (std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(values<float>(rz.value()[1])[0], 1.f);
}

TEST(QLinearOps, BadInputsAreErrorsNotCrashes) {
  {  // zero point dtype differs from x's
    OpTester t("QLinearMatMul", 10);
    t.input(u8({1, 2}, {1, 2})).constant(f32s(1.f)).constant(i8({0}, {})).constant(u8({1, 2}, {2, 1}));
    t.constant(f32s(1.f)).constant(u8({0}, {})).constant(f32s(1.f)).constant(u8({0}, {}));
    EXPECT_FALSE(t.run().ok());
  }
  {  // bias of the wrong length
    OpTester t("QLinearConv", 10);
    t.input(u8({1, 2, 3, 4}, {1, 1, 2, 2})).constant(f32s(1.f)).constant(u8({0}, {})).constant(u8({1}, {1, 1, 1, 1}));
    t.constant(f32s(1.f)).constant(u8({0}, {})).constant(f32s(1.f)).constant(u8({0}, {})).constant(i32({1, 2}, {2}));
    auto r = t.run();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().to_string().find("bias B"), std::string::npos);
  }
  {  // float input to ConvInteger
    OpTester t("ConvInteger", 10);
    t.input(f32({1.f}, {1, 1, 1, 1})).constant(u8({1}, {1, 1, 1, 1}));
    EXPECT_FALSE(t.run().ok());
  }
}

}  // namespace
}  // namespace kiln
