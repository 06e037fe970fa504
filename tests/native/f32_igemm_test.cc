// Every f32 IGEMM microkernel of this build against the NCHW reference convolution (over
// transposed data): 1x1 / 3x3 / 5x5 / 3x1 kernels, channels 1, NR-1, NR+1 and larger,
// stride 1 and 2, dilation 2, asymmetric pads, batch 2, groups, every MR subtile, clamping
// on and off, the driver's (pixel tile x panel) units, and one indirection buffer reused
// after the input moved (a_offset). Runs natively (ctest) and in WASM
// (kiln_kernel_tests_wasm); also the indirection builder and the packer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "conv_nhwc_oracle.h"
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-igemm/f32-igemm.h"

namespace kiln {

void PrintTo(const F32IgemmKernel& k, std::ostream* os) { *os << k.name; }

namespace {

using testing_nhwc::clamp_to_quartiles;
using testing_nhwc::conv2d;
using testing_nhwc::conv_nhwc_oracle;
using testing_nhwc::random_floats;

// Builder-style: IgemmTester().kc(3).n(17).size(5, 7).kernel(3, 3).pad(1, 1, 1, 1).Test(kern).
class IgemmTester {
 public:
  IgemmTester& batch(size_t v) { batch_ = v; return *this; }
  IgemmTester& groups(size_t v) { groups_ = v; return *this; }
  IgemmTester& kc(size_t v) { kc_ = v; return *this; }  // input channels per group
  IgemmTester& n(size_t v) { n_ = v; return *this; }    // output channels per group
  IgemmTester& size(size_t h, size_t w) { h_ = h, w_ = w; return *this; }
  IgemmTester& kernel(size_t kh, size_t kw) { kh_ = kh, kw_ = kw; return *this; }
  IgemmTester& stride(size_t v) { stride_ = v; return *this; }
  IgemmTester& dilation(size_t v) { dilation_ = v; return *this; }
  IgemmTester& pad(size_t top, size_t left, size_t bottom, size_t right) {
    pt_ = top, pl_ = left, pb_ = bottom, pr_ = right;
    return *this;
  }
  IgemmTester& clamp(bool v) { clamp_ = v; return *this; }
  // Run the driver as 2 x 2 (pixel tiles x panels) units instead of f32_igemm.
  IgemmTester& split(bool v) { split_ = v; return *this; }

  void Test(const F32IgemmKernel& kern) const {
    const ConvGeometry g = conv2d(batch_, groups_, kc_, n_, h_, w_, kh_, kw_, stride_, dilation_, pt_, pl_, pb_, pr_);
    const size_t cin = groups_ * kc_, cout = groups_ * n_, ks = kh_ * kw_;
    const size_t hw = h_ * w_, ohw = static_cast<size_t>(g.out[0] * g.out[1]);
    SCOPED_TRACE(std::string(kern.name) + " batch=" + std::to_string(batch_) + " groups=" + std::to_string(groups_) +
                 " kc=" + std::to_string(kc_) + " n=" + std::to_string(n_) + " in=" + std::to_string(h_) + "x" +
                 std::to_string(w_) + " kernel=" + std::to_string(kh_) + "x" + std::to_string(kw_) +
                 " stride=" + std::to_string(stride_) + " dilation=" + std::to_string(dilation_) + " pads=" +
                 std::to_string(pt_) + "," + std::to_string(pl_) + "," + std::to_string(pb_) + "," +
                 std::to_string(pr_) + (clamp_ ? " clamped" : "") + (split_ ? " split" : ""));
    ASSERT_GT(ohw, 0u);
    const uint32_t seed = static_cast<uint32_t>(kc_ * 7919 + n_ * 131 + h_ * 17 + w_ + ks * 3 + stride_);
    const std::vector<float> x = random_floats(batch_ * hw * cin, seed);
    const std::vector<float> w = random_floats(cout * kc_ * ks, seed + 1), bias = random_floats(cout, seed + 2);
    std::vector<float> expected = conv_nhwc_oracle(g, x.data(), w.data(), bias.data());
    F32MinMax mm;
    if (clamp_) clamp_to_quartiles(expected, &mm.min, &mm.max);

    const size_t group_packed = f32_igemm_packed_size(kern.nr, n_, kc_, ks);
    std::vector<float> packed(groups_ * group_packed);
    for (size_t grp = 0; grp < groups_; ++grp)
      f32_igemm_pack(kern.nr, n_, kc_, ks, w.data() + grp * n_ * kc_ * ks, bias.data() + grp * n_,
                     packed.data() + grp * group_packed);

    // The input lives at offset 64 of a larger buffer when the indirection is built.
    std::vector<float> buf(x.size() + 64);
    std::copy(x.begin(), x.end(), buf.begin() + 64);
    NhwcConv2dShape s;
    s.in_h = h_, s.in_w = w_, s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
    s.kernel_h = kh_, s.kernel_w = kw_, s.stride_h = s.stride_w = stride_, s.dilation_h = s.dilation_w = dilation_;
    s.pad_top = static_cast<ptrdiff_t>(pt_), s.pad_left = static_cast<ptrdiff_t>(pl_), s.pixel_stride = cin;
    const std::vector<float> zero(kc_, 0.f);
    std::vector<const float*> ind(nhwc_conv_indirection_size(s, kern.mr));
    nhwc_conv_indirection_init(s, kern.mr, buf.data() + 64, zero.data(), ind.data());

    const float sentinel = 12345.f;
    std::vector<float> y(batch_ * ohw * cout + 5);
    auto run = [&](const float* input) {
      std::fill(y.begin(), y.end(), sentinel);
      const size_t moved = reinterpret_cast<uintptr_t>(input) - reinterpret_cast<uintptr_t>(buf.data() + 64);
      for (size_t b = 0; b < batch_; ++b)
        for (size_t grp = 0; grp < groups_; ++grp) {
          F32IgemmArgs args;
          args.m = ohw, args.n = n_, args.kc = kc_, args.ks = ks, args.indirection = ind.data();
          args.a_offset = moved + (b * hw * cin + grp * kc_) * sizeof(float);
          args.zero = zero.data(), args.packed_w = packed.data() + grp * group_packed;
          args.c = y.data() + b * ohw * cout + grp * n_, args.c_stride = cout, args.minmax = mm;
          if (split_) {
            const size_t tiles = f32_igemm_pixel_tiles(kern, ohw), panels = f32_igemm_col_panels(kern, n_);
            for (size_t t : {size_t{0}, tiles / 2})
              for (size_t p : {size_t{0}, panels / 2})
                f32_igemm_tiles(kern, args, t, t == 0 ? tiles / 2 : tiles, p, p == 0 ? panels / 2 : panels);
          } else {
            f32_igemm(kern, args);
          }
        }
    };
    const float tol = 1e-5f * (1.f + static_cast<float>(kc_ * ks));
    auto check = [&](const char* what) {
      SCOPED_TRACE(what);
      for (size_t i = 0; i < expected.size(); ++i) ASSERT_NEAR(y[i], expected[i], tol) << "at " << i;
      for (size_t i = expected.size(); i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past the output";
    };
    run(buf.data() + 64);
    check("built-for input");
    // The same indirection buffer after the input moved back to offset 3 (a_offset wraps)...
    std::memmove(buf.data() + 3, buf.data() + 64, x.size() * sizeof(float));
    std::fill(buf.begin() + 3 + static_cast<ptrdiff_t>(x.size()), buf.end(), 1e9f);  // stale copy must not be read
    run(buf.data() + 3);
    check("input moved back");
    // ... and to another allocation.
    const std::vector<float> other = x;
    std::fill(buf.begin(), buf.end(), 1e9f);
    run(other.data());
    check("input in another buffer");
  }

 private:
  size_t batch_ = 1, groups_ = 1, kc_ = 1, n_ = 1, h_ = 3, w_ = 3, kh_ = 1, kw_ = 1;
  size_t stride_ = 1, dilation_ = 1, pt_ = 0, pl_ = 0, pb_ = 0, pr_ = 0;
  bool clamp_ = false, split_ = false;
};

class F32Igemm : public ::testing::TestWithParam<F32IgemmKernel> {};

TEST_P(F32Igemm, Pointwise) {
  const F32IgemmKernel& kern = GetParam();
  for (size_t kc : {1, 3, 8, 17})
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr, kern.nr + 1, 2 * kern.nr + 3})
      IgemmTester().kc(kc).n(n).size(3, 5).Test(kern);
}

TEST_P(F32Igemm, EveryPixelSubtile) {
  const F32IgemmKernel& kern = GetParam();
  for (size_t w = 1; w <= 2 * kern.mr + 1; ++w)
    IgemmTester().kc(5).n(kern.nr + 1).size(1, w).kernel(3, 3).pad(1, 1, 1, 1).Test(kern);
}

TEST_P(F32Igemm, Kernel3x3) {
  const F32IgemmKernel& kern = GetParam();
  for (size_t kc : {1, 4, 7})
    for (size_t n : {size_t{1}, kern.nr - 1, kern.nr + 1})
      for (size_t stride : {1, 2}) IgemmTester().kc(kc).n(n).size(6, 7).kernel(3, 3).stride(stride).pad(1, 1, 1, 1).Test(kern);
}

TEST_P(F32Igemm, Kernel5x5And3x1) {
  const F32IgemmKernel& kern = GetParam();
  IgemmTester().kc(3).n(kern.nr + 2).size(9, 8).kernel(5, 5).pad(2, 2, 2, 2).Test(kern);
  IgemmTester().kc(3).n(kern.nr + 2).size(9, 8).kernel(5, 5).stride(2).Test(kern);
  IgemmTester().kc(6).n(kern.nr - 1).size(7, 4).kernel(3, 1).pad(1, 0, 1, 0).Test(kern);
}

TEST_P(F32Igemm, DilationAndAsymmetricPads) {
  const F32IgemmKernel& kern = GetParam();
  IgemmTester().kc(4).n(kern.nr).size(9, 10).kernel(3, 3).dilation(2).pad(2, 2, 2, 2).Test(kern);
  IgemmTester().kc(4).n(kern.nr + 3).size(8, 9).kernel(3, 3).pad(0, 2, 1, 0).Test(kern);
  IgemmTester().kc(2).n(3).size(7, 7).kernel(3, 3).stride(2).dilation(2).pad(3, 0, 0, 3).Test(kern);
}

TEST_P(F32Igemm, BatchGroupsClampSplit) {
  const F32IgemmKernel& kern = GetParam();
  IgemmTester().batch(2).groups(3).kc(3).n(kern.nr + 1).size(5, 6).kernel(3, 3).pad(1, 1, 1, 1).Test(kern);
  IgemmTester().batch(2).kc(9).n(2 * kern.nr + 1).size(6, 6).kernel(3, 3).pad(1, 1, 1, 1).clamp(true).Test(kern);
  IgemmTester().batch(2).groups(2).kc(5).n(3 * kern.nr - 1).size(9, 11).kernel(3, 3).stride(2).pad(1, 1, 0, 0)
      .clamp(true).split(true).Test(kern);
}

TEST_P(F32Igemm, LargeChannels) {
  const F32IgemmKernel& kern = GetParam();
  // More than one 128 KiB block of packed panels: 64 x 9 x 4 B x NR per panel.
  IgemmTester().kc(64).n(8 * kern.nr + 5).size(5, 5).kernel(3, 3).pad(1, 1, 1, 1).split(true).Test(kern);
}

std::string kernel_name(const ::testing::TestParamInfo<F32IgemmKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32Igemm,
                         ::testing::ValuesIn(f32_igemm_kernels().begin(), f32_igemm_kernels().end()), kernel_name);

TEST(ConvIndirection, PointersAndZeroRow) {
  // 3x3 input, 2 channels per pixel, 2x2 kernel, pad 1 top/left, stride 2: output 2x2.
  NhwcConv2dShape s;
  s.in_h = 3, s.in_w = 3, s.out_h = 2, s.out_w = 2, s.kernel_h = 2, s.kernel_w = 2;
  s.stride_h = s.stride_w = 2, s.pad_top = 1, s.pad_left = 1, s.pixel_stride = 2;
  float x[18] = {}, zero[2] = {};
  const size_t mr = 3;  // 4 pixels -> 2 tiles of 3; the last tile repeats pixel 3
  std::vector<const float*> ind(nhwc_conv_indirection_size(s, mr));
  ASSERT_EQ(ind.size(), 2u * 4u * 3u);
  nhwc_conv_indirection_init(s, mr, x, zero, ind.data());
  auto at = [&](size_t pixel, size_t tap) { return ind[(pixel / mr * 4 + tap) * mr + pixel % mr]; };
  // Pixel 0 (0,0): taps read (-1,-1) (-1,0) (0,-1) (0,0).
  EXPECT_EQ(at(0, 0), zero);
  EXPECT_EQ(at(0, 1), zero);
  EXPECT_EQ(at(0, 2), zero);
  EXPECT_EQ(at(0, 3), x);
  // Pixel 3 (1,1): taps read (1,1) (1,2) (2,1) (2,2).
  EXPECT_EQ(at(3, 0), x + (1 * 3 + 1) * 2);
  EXPECT_EQ(at(3, 3), x + (2 * 3 + 2) * 2);
  for (size_t tap = 0; tap < 4; ++tap) {
    EXPECT_EQ(ind[(1 * 4 + tap) * mr + 1], at(3, tap)) << "padding pixel repeats the last";
    EXPECT_EQ(ind[(1 * 4 + tap) * mr + 2], at(3, tap));
  }
}

TEST(F32IgemmPack, LayoutIsBiasThenTapsThenChannels) {
  // n = 3 outputs, kc = 2 channels, ks = 2 taps, nr = 2: W[j][p][s] = 100 j + 10 p + s.
  std::vector<float> w(3 * 2 * 2);
  for (size_t j = 0; j < 3; ++j)
    for (size_t p = 0; p < 2; ++p)
      for (size_t s = 0; s < 2; ++s) w[(j * 2 + p) * 2 + s] = static_cast<float>(100 * j + 10 * p + s);
  const float bias[] = {-1, -2, -3};
  std::vector<float> packed(f32_igemm_packed_size(2, 3, 2, 2));
  ASSERT_EQ(packed.size(), 2u * 2u * 5u);
  f32_igemm_pack(2, 3, 2, 2, w.data(), bias, packed.data());
  const std::vector<float> expected = {-1, -2, 0, 100, 10, 110, 1, 101, 11, 111,  // panel 0: tap 0 rows, tap 1 rows
                                       -3, 0, 200, 0, 210, 0, 201, 0, 211, 0};
  EXPECT_EQ(packed, expected);
}

TEST(F32IgemmConfig, DefaultMatchesTheGemmTile) {
  const F32IgemmKernel& def = f32_igemm_default_kernel();
  EXPECT_EQ(def.mr, f32_gemm_default_kernel().mr) << def.name;
  EXPECT_EQ(def.nr, f32_gemm_default_kernel().nr) << def.name;
  IgemmTester().batch(2).kc(7).n(def.nr * 2 + 3).size(7, 7).kernel(3, 3).pad(1, 1, 1, 1).Test(def);
}

}  // namespace
}  // namespace kiln
