// NhwcConvKernels (the op-facing NHWC Conv kernels) on each of its paths against the NCHW
// reference convolution over transposed data: 1x1 GEMM, depthwise (3x3 stride 2, 5x5,
// generic 7x7), depthwise with a channel multiplier and grouped / plain IGEMM; reuse of the
// cached indirection buffer across inputs, batch sizes and geometries; rank 1; clamping;
// and the reference-kernel switch.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conv_nhwc_oracle.h"
#include "ops/conv_nhwc_kernels.h"
#include "ops/packed_gemm.h"

namespace kiln {
namespace {

using testing_nhwc::clamp_to_quartiles;
using testing_nhwc::conv2d;
using testing_nhwc::conv_nhwc_oracle;
using testing_nhwc::plane;
using testing_nhwc::random_floats;

struct Layer {
  size_t groups, group_in, group_out, kh, kw;
  std::vector<float> w, bias;
  NhwcConvKernels kernels;
  Layer(size_t groups, size_t group_in, size_t group_out, size_t kh, size_t kw, bool with_bias = true)
      : groups(groups), group_in(group_in), group_out(group_out), kh(kh), kw(kw) {
    const size_t m = groups * group_out;
    w = random_floats(m * group_in * kh * kw, static_cast<uint32_t>(m * 31 + group_in * 7 + kh * kw));
    if (with_bias) bias = random_floats(m, static_cast<uint32_t>(m + 5));
  }
  bool pack() {
    return kernels.pack(groups, group_in, group_out, kh, kw, w.data(), bias.empty() ? nullptr : bias.data());
  }
  // Runs g (whose channels and kernel must be this layer's) and compares with the oracle.
  void check(const ConvGeometry& g, bool clamp = false, uint32_t seed = 1) {
    SCOPED_TRACE("groups=" + std::to_string(groups) + " in=" + std::to_string(group_in) + " out=" +
                 std::to_string(group_out) + " kernel=" + std::to_string(kh) + "x" + std::to_string(kw) +
                 " batch=" + std::to_string(g.batch) + " stride=" + std::to_string(g.stride[0]) +
                 (clamp ? " clamped" : ""));
    const size_t cin = groups * group_in, cout = groups * group_out;
    const std::vector<float> x = random_floats(g.batch * plane(g, g.in) * cin, seed);
    std::vector<float> expected = conv_nhwc_oracle(g, x.data(), w.data(), bias.empty() ? nullptr : bias.data());
    F32MinMax mm;
    if (clamp) clamp_to_quartiles(expected, &mm.min, &mm.max);
    std::vector<float> y(g.batch * plane(g, g.out) * cout, -777.f);
    kernels.run(g, x.data(), y.data(), mm);
    const float tol = 1e-5f * (1.f + static_cast<float>(group_in * kh * kw));
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], expected[i], tol) << "at " << i;
  }
};

TEST(NhwcConvKernels, PointwiseIsAGemm) {
  Layer l(1, 24, 40, 1, 1);
  ASSERT_TRUE(l.pack());
  EXPECT_TRUE(l.kernels.packed());
  l.check(conv2d(2, 1, 24, 40, 7, 9, 1, 1, 1, 1, 0, 0, 0, 0));
  l.check(conv2d(1, 1, 24, 40, 5, 3, 1, 1, 1, 1, 0, 0, 0, 0), true);
  // The same weights through IGEMM when the 1x1 layer strides or pads.
  l.check(conv2d(2, 1, 24, 40, 7, 9, 1, 1, 2, 1, 0, 0, 0, 0));
  l.check(conv2d(1, 1, 24, 40, 4, 4, 1, 1, 1, 1, 1, 0, 0, 1));
}

TEST(NhwcConvKernels, Depthwise) {
  Layer dw3(32, 1, 1, 3, 3);
  ASSERT_TRUE(dw3.pack());
  dw3.check(conv2d(2, 32, 1, 1, 12, 11, 3, 3, 1, 1, 1, 1, 1, 1));
  dw3.check(conv2d(1, 32, 1, 1, 12, 11, 3, 3, 2, 1, 0, 0, 1, 1), true);  // TF-style "SAME" stride 2
  Layer dw5(19, 1, 1, 5, 5, false);
  ASSERT_TRUE(dw5.pack());
  dw5.check(conv2d(1, 19, 1, 1, 9, 8, 5, 5, 2, 1, 2, 2, 2, 2));
  Layer dw7(13, 1, 1, 7, 7);
  ASSERT_TRUE(dw7.pack());
  dw7.check(conv2d(2, 13, 1, 1, 10, 10, 7, 7, 1, 2, 6, 6, 6, 6));
}

TEST(NhwcConvKernels, DepthwiseWithChannelMultiplier) {
  Layer l(6, 1, 3, 3, 3);
  ASSERT_TRUE(l.pack());
  l.check(conv2d(2, 6, 1, 3, 8, 7, 3, 3, 1, 1, 1, 1, 1, 1));
}

TEST(NhwcConvKernels, GroupedAndPlainIgemm) {
  Layer plain(1, 5, 21, 3, 3);
  ASSERT_TRUE(plain.pack());
  plain.check(conv2d(2, 1, 5, 21, 10, 9, 3, 3, 2, 1, 1, 1, 1, 1));
  plain.check(conv2d(1, 1, 5, 21, 10, 9, 3, 3, 1, 2, 2, 0, 2, 1), true);
  Layer grouped(4, 3, 5, 3, 1);
  ASSERT_TRUE(grouped.pack());
  grouped.check(conv2d(2, 4, 3, 5, 6, 5, 3, 1, 1, 1, 1, 0, 1, 0));
}

TEST(NhwcConvKernels, CachedIndirectionFollowsInputsAndShapes) {
  Layer l(2, 4, 6, 3, 3);
  ASSERT_TRUE(l.pack());
  const ConvGeometry a = conv2d(1, 2, 4, 6, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1);
  // New input buffers (other addresses), then more images, then another image size and
  // back: every call must match the oracle.
  for (uint32_t seed : {1u, 2u, 3u}) l.check(a, false, seed);
  l.check(conv2d(3, 2, 4, 6, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1), false, 4);
  l.check(conv2d(1, 2, 4, 6, 5, 11, 3, 3, 1, 1, 1, 1, 1, 1), false, 5);
  l.check(a, false, 6);
  Layer dw(10, 1, 1, 3, 3);
  ASSERT_TRUE(dw.pack());
  for (uint32_t seed : {7u, 8u}) dw.check(conv2d(2, 10, 1, 1, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1), false, seed);
  dw.check(conv2d(1, 10, 1, 1, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1), false, 9);
}

TEST(NhwcConvKernels, RankOneIsASingleRow) {
  Layer l(1, 3, 4, 1, 5);
  ASSERT_TRUE(l.pack());
  ConvGeometry g = conv2d(2, 1, 3, 4, 1, 17, 1, 5, 2, 1, 0, 2, 0, 2);
  // The same problem described as rank 1 (W only).
  ConvGeometry r1 = g;
  r1.rank = 1;
  r1.in[0] = g.in[1], r1.out[0] = g.out[1], r1.kernel[0] = g.kernel[1], r1.stride[0] = g.stride[1];
  r1.dilation[0] = g.dilation[1], r1.pad_begin[0] = g.pad_begin[1];
  const std::vector<float> x = random_floats(2 * 17 * 3, 11);
  const std::vector<float> expected = conv_nhwc_oracle(g, x.data(), l.w.data(), l.bias.data());
  std::vector<float> y(expected.size(), -1.f);
  l.kernels.run(r1, x.data(), y.data(), F32MinMax());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], expected[i], 1e-4f) << "at " << i;
}

TEST(NhwcConvKernels, ReferenceSwitchLeavesItUnpacked) {
  Layer l(1, 4, 4, 3, 3);
  set_use_reference_kernels(true);
  const bool packed = l.pack();
  set_use_reference_kernels(false);
  EXPECT_FALSE(packed);
  EXPECT_FALSE(l.kernels.packed());
  EXPECT_TRUE(l.pack());
  EXPECT_TRUE(l.kernels.packed());
}

}  // namespace
}  // namespace kiln
