// Every qs8-qc8w IGEMM microkernel of this build against the reference kernel over the same
// indirection buffer (int32 sums are exact and both requantize with the same float
// multiply and round half to even, so outputs must match bit for bit): every subtile
// 1..MR x 1..NR, kc = 1, odd, around the block of 8 and large, ks = 1 / 3 / 9 / 25, padding
// taps on the zero row (filled with the A zero point), A zero points -128..127, a_offset
// forwards and backwards, output zero points and tight clamps, strided C, rows that end at
// the end of their allocation (the kernels read exactly kc bytes), several panels and
// 64 KiB blocks through the driver. Plus: the packing with one tap is the qs8 GEMM's, the
// reference with one tap is the qs8 GEMM reference, and a padded convolution through the
// indirection buffer equals direct int32 loops. Runs natively (ctest) and in WASM
// (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace kiln {

void PrintTo(const QS8IgemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<int8_t> random_int8(size_t count, uint32_t seed, int lo = -128, int hi = 127) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(count);
  for (int8_t& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

// Multipliers that spread the outputs over the int8 range: acc has a spread of about
// 5500 * sqrt(K) for uniform int8 data; `gain` > 1 pushes most outputs into saturation.
std::vector<float> spread_scales(size_t n, size_t k, uint32_t seed, float gain) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.5f, 2.f);
  std::vector<float> s(n);
  for (float& x : s) x = dist(rng) * gain / (80.f * std::sqrt(static_cast<float>(k)));
  return s;
}

// Builder-style: QS8IgemmTester().m(3).n(17).kc(23).ks(9).Test(kernel).
class QS8IgemmTester {
 public:
  QS8IgemmTester& m(size_t v) { m_ = v; return *this; }
  QS8IgemmTester& n(size_t v) { n_ = v; return *this; }
  QS8IgemmTester& kc(size_t v) { kc_ = v; return *this; }
  QS8IgemmTester& ks(size_t v) { ks_ = v; return *this; }
  QS8IgemmTester& c_stride(size_t v) { c_stride_ = v; return *this; }
  QS8IgemmTester& padding(bool v) { padding_ = v; return *this; }  // some taps on the zero row
  QS8IgemmTester& a_offset(ptrdiff_t v) { a_offset_ = v; return *this; }
  QS8IgemmTester& a_zero_point(int v) { a_zp_ = v; return *this; }
  QS8IgemmTester& output(int zp, int lo, int hi) { out_zp_ = zp, out_min_ = lo, out_max_ = hi; return *this; }
  QS8IgemmTester& gain(float v) { gain_ = v; return *this; }
  QS8IgemmTester& bias(bool v) { bias_ = v; return *this; }
  QS8IgemmTester& extremes(bool v) { extremes_ = v; return *this; }  // only -128 / 127 data
  QS8IgemmTester& use_driver(bool v) { driver_ = v; return *this; }

  void Test(const QS8IgemmKernel& kern) const {
    const size_t cs = std::max(c_stride_, n_);
    SCOPED_TRACE(std::string(kern.name) + " m=" + std::to_string(m_) + " n=" + std::to_string(n_) + " kc=" +
                 std::to_string(kc_) + " ks=" + std::to_string(ks_) + " a_offset=" + std::to_string(a_offset_) +
                 " a_zp=" + std::to_string(a_zp_) + " out_zp=" + std::to_string(out_zp_) + " [" +
                 std::to_string(out_min_) + ", " + std::to_string(out_max_) + "]" + (padding_ ? " padded" : ""));
    const uint32_t seed = static_cast<uint32_t>(m_ * 1000003 + n_ * 1009 + kc_ * 31 + ks_ + a_zp_ * 7);
    // Input "pixels": rows of kc int8 packed tightly, the last one ending where the buffer
    // ends (past the guard for negative offsets), so a read past kc would leave the buffer.
    const size_t pixels = 2 * m_ + 3, row_stride = kc_;
    const size_t guard = static_cast<size_t>(std::abs(a_offset_));
    std::vector<int8_t> buf = random_int8(guard + pixels * row_stride, seed);
    if (extremes_)
      for (int8_t& x : buf) x = x < 0 ? -128 : 127;
    const int8_t* data = buf.data() + (a_offset_ < 0 ? 0 : guard);  // where the kernel reads
    const int8_t* base = data - a_offset_;                           // where the indirection points
    std::vector<int8_t> zero(kc_, static_cast<int8_t>(a_zp_));
    const size_t tiles = (m_ + kern.mr - 1) / kern.mr;
    std::vector<const int8_t*> ind(tiles * ks_ * kern.mr);
    std::mt19937 rng(seed + 7);
    for (size_t t = 0; t < tiles; ++t)
      for (size_t s = 0; s < ks_; ++s)
        for (size_t i = 0; i < kern.mr; ++i) {
          const bool pad = padding_ && rng() % 4 == 0;
          // Every test uses the last pixel somewhere: the one that ends at the buffer's end.
          const size_t px = (t == 0 && s == 0 && i == 0) ? pixels - 1 : rng() % pixels;
          ind[(t * ks_ + s) * kern.mr + i] = pad ? zero.data() : base + px * row_stride;
        }
    std::vector<int8_t> w = random_int8(n_ * kc_ * ks_, seed + 1);
    if (extremes_)
      for (int8_t& x : w) x = x < 0 ? -128 : 127;
    const std::vector<float> scale = spread_scales(n_, kc_ * ks_, seed + 2, gain_);
    std::vector<int32_t> bias(n_);
    std::uniform_int_distribution<int32_t> bd(-3000, 3000);
    for (int32_t& b : bias) b = bd(rng);
    const int32_t* bp = bias_ ? bias.data() : nullptr;
    const QS8RequantParams params{out_zp_, static_cast<int8_t>(out_min_), static_cast<int8_t>(out_max_)};
    const size_t offset = static_cast<size_t>(a_offset_);  // two's complement: wraps backwards

    constexpr int8_t kSentinel = 0x5A;
    std::vector<int8_t> expected(m_ * cs, kSentinel), c(m_ * cs, kSentinel);
    qs8_qc8w_igemm_reference(m_, n_, kc_, ks_, kern.mr, ind.data(), offset, zero.data(), a_zp_, w.data(),
                             scale.data(), bp, expected.data(), cs, params);
    std::vector<int32_t> packed((qs8_igemm_packed_size(kern.nr, n_, kc_, ks_) + 3) / 4);
    qs8_igemm_pack(kern.nr, n_, kc_, ks_, a_zp_, w.data(), scale.data(), bp, packed.data());
    if (driver_) {
      QS8IgemmArgs args;
      args.m = m_, args.n = n_, args.kc = kc_, args.ks = ks_, args.indirection = ind.data();
      args.a_offset = offset, args.zero = zero.data(), args.packed_w = packed.data();
      args.c = c.data(), args.c_stride = cs, args.params = params;
      qs8_igemm(kern, args);
    } else {
      ASSERT_LE(m_, kern.mr);
      kern.fn(m_, n_, kc_, ks_, ind.data(), packed.data(), c.data(), cs, offset, zero.data(), &params);
    }
    size_t inside = 0;
    for (size_t i = 0; i < m_; ++i)
      for (size_t j = 0; j < cs; ++j) {
        ASSERT_EQ(int{c[i * cs + j]}, int{expected[i * cs + j]}) << "at pixel " << i << " channel " << j;
        if (j < n_) inside += c[i * cs + j] > out_min_ && c[i * cs + j] < out_max_;
      }
    // Unless the case saturates on purpose, some outputs are inside the clamp: the
    // comparison covers the rounding, not only the saturation.
    if (gain_ <= 1.f && !extremes_ && m_ * n_ >= 16) EXPECT_GT(inside, 0u);
  }

 private:
  size_t m_ = 1, n_ = 1, kc_ = 1, ks_ = 1, c_stride_ = 0;
  ptrdiff_t a_offset_ = 0;
  int a_zp_ = -3, out_zp_ = 5, out_min_ = -128, out_max_ = 127;
  float gain_ = 1.f;
  bool padding_ = false, bias_ = true, extremes_ = false, driver_ = false;
};

class QS8Igemm : public ::testing::TestWithParam<QS8IgemmKernel> {};

TEST_P(QS8Igemm, EverySubtile) {
  const QS8IgemmKernel& kern = GetParam();
  for (size_t m = 1; m <= kern.mr; ++m)
    for (size_t n = 1; n <= kern.nr; ++n)
      for (size_t kc : {1, 3, 8, 9, 17})
        for (size_t ks : {1, 3}) QS8IgemmTester().m(m).n(n).kc(kc).ks(ks).padding(true).Test(kern);
}

TEST_P(QS8Igemm, KcAroundTheBlockAndTaps) {
  const QS8IgemmKernel& kern = GetParam();
  for (size_t kc : {2, 5, 7, 15, 16, 23, 24, 31, 33, 64, 131})
    QS8IgemmTester().m(kern.mr).n(kern.nr + 1).kc(kc).ks(9).padding(true).Test(kern);
  for (size_t ks : {2, 4, 9, 25})
    QS8IgemmTester().m(kern.mr).n(2 * kern.nr - 1).kc(13).ks(ks).padding(true).Test(kern);
}

TEST_P(QS8Igemm, ZeroPointsOffsetsNoBias) {
  const QS8IgemmKernel& kern = GetParam();
  for (int zp : {-128, -1, 0, 77, 127})
    QS8IgemmTester().m(kern.mr).n(kern.nr).kc(19).ks(9).padding(true).a_zero_point(zp).Test(kern);
  for (ptrdiff_t off : {ptrdiff_t{96}, ptrdiff_t{-40}, ptrdiff_t{3}})
    QS8IgemmTester().m(kern.mr).n(kern.nr + 3).kc(11).ks(4).padding(true).a_offset(off).Test(kern);
  QS8IgemmTester().m(kern.mr - 1 > 0 ? kern.mr - 1 : 1).n(kern.nr).kc(21).ks(3).bias(false).Test(kern);
}

TEST_P(QS8Igemm, ClampingSaturationExtremes) {
  const QS8IgemmKernel& kern = GetParam();
  QS8IgemmTester().m(kern.mr).n(kern.nr + 1).kc(17).ks(9).padding(true).output(10, -20, 30).Test(kern);
  QS8IgemmTester().m(kern.mr).n(kern.nr).kc(9).ks(3).output(-128, -128, 0).Test(kern);  // "Relu" at zp -128
  QS8IgemmTester().m(kern.mr).n(kern.nr + 1).kc(25).ks(3).gain(64.f).Test(kern);       // saturate both ways
  QS8IgemmTester().m(kern.mr).n(kern.nr - 1).kc(40).ks(9).a_zero_point(-128).extremes(true).Test(kern);
  QS8IgemmTester().m(kern.mr).n(kern.nr).kc(64).ks(25).a_zero_point(127).extremes(true).bias(false).Test(kern);
}

TEST_P(QS8Igemm, DriverStridesPanels) {
  const QS8IgemmKernel& kern = GetParam();
  QS8IgemmTester().m(3 * kern.mr + 1).n(3 * kern.nr + 5).kc(37).ks(9).padding(true).c_stride(3 * kern.nr + 9)
      .use_driver(true).Test(kern);
  QS8IgemmTester().m(1).n(1).kc(1).ks(1).use_driver(true).Test(kern);
  // Panels of 9 taps x 64 channels: more than 64 KiB of packed panels, several blocks.
  QS8IgemmTester().m(2 * kern.mr + 3).n(16 * kern.nr + 3).kc(64).ks(9).padding(true).use_driver(true).Test(kern);
}

// With one tap the packing is the qs8 GEMM's packing of the same weights.
TEST_P(QS8Igemm, OneTapPackingIsTheGemmPacking) {
  const QS8IgemmKernel& kern = GetParam();
  for (size_t kc : {1, 7, 8, 19}) {
    const size_t n = kern.nr + 3;
    const std::vector<int8_t> w = random_int8(n * kc, 5);
    const std::vector<float> scale = spread_scales(n, kc, 6, 1.f);
    std::vector<int32_t> bias(n);
    for (size_t j = 0; j < n; ++j) bias[j] = static_cast<int32_t>(j * 37) - 200;
    std::vector<uint8_t> a(qs8_igemm_packed_size(kern.nr, n, kc, 1)), b(qs8_gemm_packed_size(kern.nr, n, kc));
    ASSERT_EQ(a.size(), b.size());
    qs8_igemm_pack(kern.nr, n, kc, 1, -9, w.data(), scale.data(), bias.data(), a.data());
    // w[n][kc] is the GEMM's w[k][n] with stride_k 1, stride_n kc.
    qs8_gemm_pack(kern.nr, n, kc, -9, w.data(), 1, static_cast<ptrdiff_t>(kc), scale.data(), bias.data(), b.data());
    EXPECT_EQ(a, b) << "kc=" << kc;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, QS8Igemm, ::testing::ValuesIn(qs8_igemm_kernels()),
                         [](const auto& info) { return std::string(info.param.name); });

// The IGEMM reference with one tap and consecutive rows is the qs8 GEMM reference.
TEST(QS8IgemmReference, OneTapIsTheGemmReference) {
  const size_t m = 7, n = 5, kc = 13;
  const std::vector<int8_t> a = random_int8(m * kc, 1), w = random_int8(n * kc, 2);
  const std::vector<float> scale = spread_scales(n, kc, 3, 1.f);
  const std::vector<int32_t> bias = {5, -100, 0, 77, 1000};
  std::vector<const int8_t*> ind(m);
  for (size_t i = 0; i < m; ++i) ind[i] = a.data() + i * kc;
  const QS8RequantParams params{-7, -100, 120};
  std::vector<int8_t> c(m * n), ref(m * n);
  const int8_t zero[1] = {0};
  qs8_qc8w_igemm_reference(m, n, kc, 1, 1, ind.data(), 0, zero, 11, w.data(), scale.data(), bias.data(), c.data(), n,
                           params);
  qs8_gemm_reference(m, n, kc, a.data(), kc, 11, w.data(), 1, static_cast<ptrdiff_t>(kc), scale.data(), bias.data(),
                     ref.data(), n, params);
  EXPECT_EQ(c, ref);
}

// A padded, strided, dilated convolution through the real indirection buffer and the
// default kernel equals direct int32 loops over the image (padding = the zero point).
TEST(QS8IgemmConvolution, IndirectionBufferAgainstDirectLoops) {
  const QS8IgemmKernel& kern = qs8_igemm_default_kernel();
  NhwcConv2dShape s;
  s.in_h = 9, s.in_w = 11, s.kernel_h = 3, s.kernel_w = 2, s.stride_h = 2, s.stride_w = 1;
  s.dilation_h = 1, s.dilation_w = 2, s.pad_top = 1, s.pad_left = 2;
  s.out_h = (s.in_h + 2 - 3) / 2 + 1, s.out_w = (s.in_w + 3 - 3) / 1 + 1;  // bottom pad 1, right pad 1
  const size_t kc = 10, n = kern.nr + 5, ks = 6, m = s.out_h * s.out_w;
  s.pixel_stride = kc;
  const int32_t zp = 17;
  const std::vector<int8_t> x = random_int8(s.in_h * s.in_w * kc, 8), w = random_int8(n * kc * ks, 9);
  const std::vector<float> scale = spread_scales(n, kc * ks, 10, 1.f);
  std::vector<int32_t> bias(n, 250);
  const std::vector<int8_t> zero(kc, static_cast<int8_t>(zp));
  std::vector<const int8_t*> ind(nhwc_conv_indirection_size(s, kern.mr));
  nhwc_conv_indirection_init(s, kern.mr, x.data(), zero.data(), ind.data());
  std::vector<int32_t> packed((qs8_igemm_packed_size(kern.nr, n, kc, ks) + 3) / 4);
  qs8_igemm_pack(kern.nr, n, kc, ks, zp, w.data(), scale.data(), bias.data(), packed.data());
  const QS8RequantParams params{3, -128, 127};
  std::vector<int8_t> y(m * n);
  QS8IgemmArgs args;
  args.m = m, args.n = n, args.kc = kc, args.ks = ks, args.indirection = ind.data(), args.zero = zero.data();
  args.packed_w = packed.data(), args.c = y.data(), args.c_stride = n, args.params = params;
  qs8_igemm(kern, args);
  for (size_t oy = 0; oy < s.out_h; ++oy)
    for (size_t ox = 0; ox < s.out_w; ++ox)
      for (size_t j = 0; j < n; ++j) {
        int32_t acc = bias[j];
        for (size_t ky = 0; ky < s.kernel_h; ++ky)
          for (size_t kx = 0; kx < s.kernel_w; ++kx) {
            const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * s.stride_h + ky * s.dilation_h) - s.pad_top;
            const ptrdiff_t ix = static_cast<ptrdiff_t>(ox * s.stride_w + kx * s.dilation_w) - s.pad_left;
            if (iy < 0 || ix < 0 || iy >= static_cast<ptrdiff_t>(s.in_h) || ix >= static_cast<ptrdiff_t>(s.in_w)) continue;
            for (size_t c = 0; c < kc; ++c)
              acc += (x[(static_cast<size_t>(iy) * s.in_w + static_cast<size_t>(ix)) * kc + c] - zp) *
                     w[(j * kc + c) * ks + ky * s.kernel_w + kx];
          }
        ASSERT_EQ(int{y[(oy * s.out_w + ox) * n + j]}, int{qs8_requantize(acc, scale[j], params)})
            << "pixel " << oy << "," << ox << " channel " << j;
      }
}

}  // namespace
}  // namespace kiln
