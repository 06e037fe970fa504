// Every f32-qc8w depthwise microkernel of this build (and the scalar reference) against the
// float reference convolution over the dequantized weights (q * scale): channels 1, CT-1, CT, CT+1, large and not a
// multiple of the vector width; 3x3 / 5x5 / 3x1 / 1x9 / 7x7 / 1x1 kernels as the kernel's
// tap count allows; stride 1 and 2, dilation 2, asymmetric pads, batch 2, clamping, a
// pixel-range split, and one indirection buffer reused after the input moved. Runs
// natively and in WASM (kiln_kernel_tests_wasm); also the packer and the config.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "conv_nhwc_oracle.h"
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"
#include "kernels/f32-igemm/conv-indirection.h"

namespace kiln {

void PrintTo(const F32QC8WDwconvKernel& k, std::ostream* os) { *os << k.name; }

namespace {

using testing_nhwc::clamp_to_quartiles;
using testing_nhwc::conv2d;
using testing_nhwc::conv_nhwc_oracle;
using testing_nhwc::random_floats;

// Builder-style: QC8WDwconvTester().channels(17).size(6, 7).kernel(3, 3).stride(2).Test(kern).
class QC8WDwconvTester {
 public:
  QC8WDwconvTester& batch(size_t v) { batch_ = v; return *this; }
  QC8WDwconvTester& channels(size_t v) { c_ = v; return *this; }
  QC8WDwconvTester& size(size_t h, size_t w) { h_ = h, w_ = w; return *this; }
  QC8WDwconvTester& kernel(size_t kh, size_t kw) { kh_ = kh, kw_ = kw; return *this; }
  QC8WDwconvTester& stride(size_t v) { stride_ = v; return *this; }
  QC8WDwconvTester& dilation(size_t v) { dilation_ = v; return *this; }
  QC8WDwconvTester& pad(size_t top, size_t left, size_t bottom, size_t right) {
    pt_ = top, pl_ = left, pb_ = bottom, pr_ = right;
    return *this;
  }
  QC8WDwconvTester& clamp(bool v) { clamp_ = v; return *this; }
  QC8WDwconvTester& split(bool v) { split_ = v; return *this; }

  void Test(const F32QC8WDwconvKernel& kern) const {
    const size_t ks = kh_ * kw_;
    if (kern.taps != 0 && kern.taps != ks) return;  // fixed-tap kernels only take their size
    const ConvGeometry g = conv2d(batch_, c_, 1, 1, h_, w_, kh_, kw_, stride_, dilation_, pt_, pl_, pb_, pr_);
    const size_t hw = h_ * w_, ohw = static_cast<size_t>(g.out[0] * g.out[1]);
    SCOPED_TRACE(std::string(kern.name) + " batch=" + std::to_string(batch_) + " channels=" + std::to_string(c_) +
                 " in=" + std::to_string(h_) + "x" + std::to_string(w_) + " kernel=" + std::to_string(kh_) + "x" +
                 std::to_string(kw_) + " stride=" + std::to_string(stride_) + " dilation=" +
                 std::to_string(dilation_) + " pads=" + std::to_string(pt_) + "," + std::to_string(pl_) + "," +
                 std::to_string(pb_) + "," + std::to_string(pr_) + (clamp_ ? " clamped" : "") +
                 (split_ ? " split" : ""));
    ASSERT_GT(ohw, 0u);
    const uint32_t seed = static_cast<uint32_t>(c_ * 7919 + h_ * 17 + w_ + ks * 3 + stride_);
    const std::vector<float> x = random_floats(batch_ * hw * c_, seed);
    // int8 taps over the whole range (incl. -128 and 127) and per-channel scales that differ.
    const std::vector<float> r = random_floats(c_ * ks, seed + 1), bias = random_floats(c_, seed + 2);
    const std::vector<float> sr = random_floats(c_, seed + 3);
    std::vector<int8_t> q(c_ * ks);
    std::vector<float> scale(c_), w(c_ * ks);
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(std::clamp(r[i] * 128.f, -128.f, 127.f));
    q.front() = -128;  // c_ * ks >= 1
    q.back() = 127;
    for (size_t c = 0; c < c_; ++c) scale[c] = (1.5f + sr[c]) / 127.f;
    for (size_t i = 0; i < q.size(); ++i) w[i] = static_cast<float>(q[i]) * scale[i / ks];
    std::vector<float> expected = conv_nhwc_oracle(g, x.data(), w.data(), bias.data());
    F32MinMax mm;
    if (clamp_) clamp_to_quartiles(expected, &mm.min, &mm.max);

    std::vector<int32_t> packed(f32_qc8w_dwconv_packed_size(kern.ct, c_, ks) / 4);
    f32_qc8w_dwconv_pack(kern.ct, c_, ks, q.data(), scale.data(), bias.data(), packed.data());
    std::vector<float> buf(x.size() + 64);
    std::copy(x.begin(), x.end(), buf.begin() + 64);
    NhwcConv2dShape s;
    s.in_h = h_, s.in_w = w_, s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
    s.kernel_h = kh_, s.kernel_w = kw_, s.stride_h = s.stride_w = stride_, s.dilation_h = s.dilation_w = dilation_;
    s.pad_top = static_cast<ptrdiff_t>(pt_), s.pad_left = static_cast<ptrdiff_t>(pl_), s.pixel_stride = c_;
    const std::vector<float> zero(c_, 0.f);
    std::vector<const float*> ind(nhwc_conv_indirection_size(s, 1));
    nhwc_conv_indirection_init(s, 1, buf.data() + 64, zero.data(), ind.data());

    const float sentinel = 12345.f;
    std::vector<float> y(batch_ * ohw * c_ + 5);
    auto run = [&](const float* input) {
      std::fill(y.begin(), y.end(), sentinel);
      const size_t moved = reinterpret_cast<uintptr_t>(input) - reinterpret_cast<uintptr_t>(buf.data() + 64);
      for (size_t b = 0; b < batch_; ++b) {
        F32QC8WDwconvArgs args;
        args.pixels = ohw, args.channels = c_, args.ks = ks, args.indirection = ind.data();
        args.a_offset = moved + b * hw * c_ * sizeof(float), args.zero = zero.data();
        args.packed_w = packed.data(), args.out = y.data() + b * ohw * c_, args.out_stride = c_, args.minmax = mm;
        if (split_) {
          f32_qc8w_dwconv_pixels(kern, args, 0, ohw / 3);
          f32_qc8w_dwconv_pixels(kern, args, ohw / 3, ohw);
        } else {
          f32_qc8w_dwconv(kern, args);
        }
      }
    };
    const float tol = 4e-5f * (1.f + static_cast<float>(ks));  // sum(x q) s vs sum(x (q s))
    auto check = [&](const char* what) {
      SCOPED_TRACE(what);
      for (size_t i = 0; i < expected.size(); ++i) ASSERT_NEAR(y[i], expected[i], tol) << "at " << i;
      for (size_t i = expected.size(); i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past the output";
    };
    run(buf.data() + 64);
    check("built-for input");
    std::memmove(buf.data() + 3, buf.data() + 64, x.size() * sizeof(float));
    std::fill(buf.begin() + 3 + static_cast<ptrdiff_t>(x.size()), buf.end(), 1e9f);
    run(buf.data() + 3);
    check("input moved back");
  }

 private:
  size_t batch_ = 1, c_ = 1, h_ = 5, w_ = 5, kh_ = 3, kw_ = 3;
  size_t stride_ = 1, dilation_ = 1, pt_ = 0, pl_ = 0, pb_ = 0, pr_ = 0;
  bool clamp_ = false, split_ = false;
};

class F32QC8WDwconv : public ::testing::TestWithParam<F32QC8WDwconvKernel> {};

// Kernel sizes with the kernel's tap count (all of them for the generic kernel).
std::vector<std::pair<size_t, size_t>> kernel_sizes(const F32QC8WDwconvKernel& kern) {
  if (kern.taps == 9) return {{3, 3}, {1, 9}};
  if (kern.taps == 25) return {{5, 5}};
  return {{3, 3}, {5, 5}, {3, 1}, {1, 1}, {7, 7}};
}

std::vector<size_t> channel_counts(const F32QC8WDwconvKernel& kern) {
  return {1, 2, kern.ct - 1, kern.ct, kern.ct + 1, kern.ct + 3, 2 * kern.ct + 5, 67};
}

TEST_P(F32QC8WDwconv, ChannelsAndKernels) {
  const F32QC8WDwconvKernel& kern = GetParam();
  for (auto [kh, kw] : kernel_sizes(kern))
    for (size_t c : channel_counts(kern))
      QC8WDwconvTester().channels(c).size(kh + 4, kw + 3).kernel(kh, kw).pad(kh / 2, kw / 2, kh / 2, kw / 2).Test(kern);
}

TEST_P(F32QC8WDwconv, Stride2) {
  const F32QC8WDwconvKernel& kern = GetParam();
  for (auto [kh, kw] : kernel_sizes(kern))
    for (size_t c : {size_t{1}, kern.ct + 1, 2 * kern.ct})
      QC8WDwconvTester().channels(c).size(kh + 6, kw + 5).kernel(kh, kw).stride(2).pad(kh / 2, kw / 2, kh / 2, kw / 2)
          .Test(kern);
}

TEST_P(F32QC8WDwconv, DilationAndAsymmetricPads) {
  const F32QC8WDwconvKernel& kern = GetParam();
  for (auto [kh, kw] : kernel_sizes(kern)) {
    QC8WDwconvTester().channels(kern.ct + 2).size(kh * 2 + 3, kw * 2 + 3).kernel(kh, kw).dilation(2).Test(kern);
    QC8WDwconvTester().channels(kern.ct - 1).size(kh + 4, kw + 4).kernel(kh, kw).pad(0, kw - 1, kh - 1, 0).Test(kern);
    QC8WDwconvTester().channels(5).size(kh + 5, kw + 6).kernel(kh, kw).stride(2).dilation(2).pad(kh, 0, 0, kw).Test(kern);
  }
}

TEST_P(F32QC8WDwconv, BatchClampSplit) {
  const F32QC8WDwconvKernel& kern = GetParam();
  for (auto [kh, kw] : kernel_sizes(kern)) {
    QC8WDwconvTester().batch(2).channels(2 * kern.ct + 3).size(kh + 3, kw + 4).kernel(kh, kw).pad(1, 1, 1, 1)
        .clamp(true).Test(kern);
    QC8WDwconvTester().batch(2).channels(kern.ct + 1).size(kh + 5, kw + 2).kernel(kh, kw).stride(2).split(true)
        .Test(kern);
  }
}

// More output pixels than one block of the kernels' weight widening (64), with a split
// inside a block, and 5x5 (the generic kernels' widened path up to 25 taps).
TEST_P(F32QC8WDwconv, ManyPixelBlocks) {
  const F32QC8WDwconvKernel& kern = GetParam();
  for (auto [kh, kw] : kernel_sizes(kern)) {
    QC8WDwconvTester().channels(kern.ct + 1).size(13, 11).kernel(kh, kw).pad(kh / 2, kw / 2, kh / 2, kw / 2)
        .split(true).Test(kern);
    QC8WDwconvTester().batch(2).channels(2 * kern.ct).size(12, 12).kernel(kh, kw).pad(kh / 2, kw / 2, kh / 2, kw / 2)
        .clamp(true).Test(kern);
  }
}

std::string kernel_name(const ::testing::TestParamInfo<F32QC8WDwconvKernel>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

INSTANTIATE_TEST_SUITE_P(Kernels, F32QC8WDwconv,
                         ::testing::ValuesIn(f32_qc8w_dwconv_kernels().begin(), f32_qc8w_dwconv_kernels().end()), kernel_name);

TEST(F32QC8WDwconvPack, LayoutIsBiasScaleThenTaps) {
  // 3 channels, 2 taps, ct = 4: W[c][s] = 10 c + s.
  const int8_t q[] = {0, 1, 10, 11, 20, 21};
  const float scale[] = {0.5f, 0.25f, 2.f}, bias[] = {-1, -2, -3};
  ASSERT_EQ(f32_qc8w_dwconv_packed_size(4, 3, 2), 4 * 8 + 2 * 4u);
  std::vector<int32_t> packed(f32_qc8w_dwconv_packed_size(4, 3, 2) / 4, -1);
  f32_qc8w_dwconv_pack(4, 3, 2, q, scale, bias, packed.data());
  std::vector<float> f(8);
  std::memcpy(f.data(), packed.data(), 32);
  EXPECT_EQ(f, (std::vector<float>{-1, -2, -3, 0, 0.5f, 0.25f, 2.f, 0}));
  std::vector<int8_t> t(8);
  std::memcpy(t.data(), reinterpret_cast<const char*>(packed.data()) + 32, 8);
  EXPECT_EQ(t, (std::vector<int8_t>{0, 10, 20, 0, 1, 11, 21, 0}));
  // 5 channels, 3 taps, ct = 4: two tiles of 32 + 12 bytes, rounded to whole words.
  EXPECT_EQ(f32_qc8w_dwconv_packed_size(4, 5, 3), 88u);
  EXPECT_EQ(f32_qc8w_dwconv_packed_size(8, 3, 9), 136u);
}

TEST(F32QC8WDwconvConfig, DefaultsTakeTheirTapCount) {
  for (size_t ks : {9, 25, 49}) {
    const F32QC8WDwconvKernel& k = f32_qc8w_dwconv_default_kernel(ks);
    EXPECT_TRUE(k.taps == ks || k.taps == 0) << k.name << " for " << ks << " taps";
    EXPECT_NE(std::string(k.name), "f32_qc8w_dwconv_reference");
  }
  EXPECT_EQ(f32_qc8w_dwconv_default_kernel(49).taps, 0u);
  QC8WDwconvTester().batch(2).channels(37).size(9, 9).kernel(3, 3).stride(2).pad(1, 1, 1, 1).Test(f32_qc8w_dwconv_default_kernel(9));
  QC8WDwconvTester().channels(21).size(9, 9).kernel(5, 5).pad(2, 2, 2, 2).Test(f32_qc8w_dwconv_default_kernel(25));
  QC8WDwconvTester().channels(19).size(8, 8).kernel(7, 7).pad(3, 3, 3, 3).Test(f32_qc8w_dwconv_default_kernel(49));
}

}  // namespace
}  // namespace kiln
