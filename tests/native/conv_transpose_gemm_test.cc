// ConvTransposeGemm (GEMM + col2im) against the reference scatter loop: the DB head's
// 2x2 stride-2 layers, strides 1..3, kernels 1..4, asymmetric pads, output_padding,
// dilation, groups, batch 2, one channel, channel counts off the GEMM tile, with and
// without bias, rank 1, clamping, and the same output for 1 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/reference/reference.h"
#include "ops/conv_transpose_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {
namespace {

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Case {
  const char* name;
  size_t batch, groups, group_in, group_out;
  int64_t ih, iw, kh, kw, sh, sw, dh, dw;
  int64_t pad_top, pad_left, pad_bottom, pad_right, adj_h, adj_w;
  bool bias;
  int rank = 2;
};

ConvGeometry geometry(const Case& c) {
  ConvGeometry g;
  g.batch = c.batch, g.groups = c.groups, g.group_in = c.group_in, g.group_out = c.group_out;
  const int64_t in[2] = {c.ih, c.iw}, k[2] = {c.kh, c.kw}, s[2] = {c.sh, c.sw}, d[2] = {c.dh, c.dw};
  const int64_t pb[2] = {c.pad_top, c.pad_left}, pe[2] = {c.pad_bottom, c.pad_right}, adj[2] = {c.adj_h, c.adj_w};
  g.rank = static_cast<size_t>(c.rank);
  const size_t first = c.rank == 2 ? 0 : 1;  // rank 1: the W dim only
  for (size_t i = first; i < 2; ++i) {
    const size_t o = i - first;
    g.in[o] = in[i], g.kernel[o] = k[i], g.stride[o] = s[i], g.dilation[o] = d[i], g.pad_begin[o] = pb[i];
    g.out[o] = s[i] * (in[i] - 1) + adj[i] + (k[i] - 1) * d[i] + 1 - pb[i] - pe[i];
  }
  return g;
}

size_t product(const int64_t* v, size_t n) {
  size_t p = 1;
  for (size_t i = 0; i < n; ++i) p *= static_cast<size_t>(v[i]);
  return p;
}

void check(const Case& c, F32MinMax minmax = F32MinMax(), uint32_t seed = 7) {
  SCOPED_TRACE(c.name);
  const ConvGeometry g = geometry(c);
  const size_t cin = c.groups * c.group_in, cout = c.groups * c.group_out;
  const size_t kk = static_cast<size_t>(c.kh * c.kw);
  const std::vector<float> x = random_floats(c.batch * cin * product(g.in, g.rank), seed);
  const std::vector<float> w = random_floats(cin * c.group_out * kk, seed + 1);
  const std::vector<float> bias = random_floats(cout, seed + 2);
  const float* b = c.bias ? bias.data() : nullptr;
  std::vector<float> want(c.batch * cout * product(g.out, g.rank));
  f32_conv_transpose_reference(g, x.data(), w.data(), b, want.data());
  for (float& v : want) v = std::min(std::max(v, minmax.min), minmax.max);

  ConvTransposeGemm fast;
  fast.pack(c.groups, c.group_in, c.group_out, c.rank == 2 ? static_cast<size_t>(c.kh) : 1,
            static_cast<size_t>(c.kw), w.data(), b);
  ASSERT_TRUE(fast.packed());
  ASSERT_TRUE(fast.covers(g));
  std::vector<float> got(want.size(), std::nanf(""));
  fast.run(g, x.data(), got.data(), minmax);
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5f * (1.f + std::abs(want[i]) + static_cast<float>(c.group_in * kk))) << "at " << i;

  // Three threads give the same bits as one (each plane is written by one thread).
  ThreadPool pool(3);
  ThreadPoolScope scope(&pool);
  std::vector<float> threaded(want.size(), std::nanf(""));
  fast.run(g, x.data(), threaded.data(), minmax);
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(threaded[i], got[i]) << "threaded, at " << i;
}

TEST(ConvTransposeGemm, DetectorHeadLayers) {
  // PP-OCRv4 DB head: 2x2 stride 2, no pads (24 -> 24 channels, then 24 -> 1).
  check({"db head 24->24", 1, 1, 24, 24, 20, 20, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, true});
  check({"db head 24->1", 1, 1, 24, 1, 40, 40, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, true});
  check({"db head no bias", 1, 1, 24, 24, 9, 13, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, false});
}

TEST(ConvTransposeGemm, StridesKernelsAndPads) {
  const Case cases[] = {
      {"1x1 s1", 1, 1, 5, 7, 6, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, true},
      {"3x3 s1 pad 1", 1, 1, 3, 9, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, true},
      {"3x3 s2 pads output_padding", 2, 1, 3, 2, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, true},
      {"4x4 s2 pad 1", 1, 1, 8, 17, 5, 6, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, false},
      {"3x3 s3 disjoint", 1, 1, 9, 15, 4, 3, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0, true},
      {"3x3 s3 disjoint, pads crop both edges", 2, 1, 5, 6, 5, 7, 3, 3, 3, 3, 1, 1, 2, 1, 1, 2, 0, 0, true},
      {"2x2 s2 pads 1 (edge windows half out)", 1, 1, 3, 4, 4, 6, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, false},
      {"2x2 s3 gaps", 1, 1, 4, 3, 5, 4, 2, 2, 3, 3, 1, 1, 0, 0, 0, 0, 2, 1, true},
      {"2x2 s2 output_padding", 2, 1, 7, 5, 3, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, true},
      {"2x2 s2 asymmetric pads", 1, 1, 6, 9, 5, 5, 2, 2, 2, 2, 1, 1, 1, 0, 0, 1, 0, 0, true},
      {"1x4 s(1,3) asymmetric", 1, 1, 5, 3, 4, 6, 1, 4, 1, 3, 1, 1, 0, 2, 0, 1, 0, 2, false},
      {"3x2 dilated", 2, 1, 3, 4, 5, 6, 3, 2, 1, 2, 2, 3, 1, 0, 2, 1, 0, 1, true},
      {"2x2 s2 dilation 2 (overlap)", 1, 1, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, true},
      {"2x2 s3 dilation 2 (disjoint, gaps)", 1, 1, 4, 4, 4, 4, 2, 2, 3, 3, 2, 2, 0, 1, 1, 0, 0, 0, true},
      {"one channel", 1, 1, 1, 1, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, true},
      {"one input pixel", 2, 1, 6, 5, 1, 1, 3, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, true},
      {"wide output", 1, 1, 13, 33, 7, 9, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, true},
      {"large", 1, 1, 32, 48, 24, 20, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, true},
  };
  uint32_t seed = 30;
  for (const Case& c : cases) check(c, F32MinMax(), seed += 5);
}

TEST(ConvTransposeGemm, Groups) {
  check({"2 groups 3x3 s2", 1, 2, 3, 5, 5, 4, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1, 1, 0, true});
  check({"depthwise 4x4 s2", 2, 6, 1, 1, 6, 7, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, true});
  check({"3 groups, multiplier 2, dilated", 1, 3, 2, 2, 4, 5, 2, 3, 1, 2, 2, 1, 0, 1, 1, 0, 0, 1, false});
}

TEST(ConvTransposeGemm, Rank1) {
  Case c{"1-D k4 s3 pads output_padding", 2, 1, 5, 3, 1, 11, 1, 4, 1, 3, 1, 1, 0, 1, 0, 2, 0, 2, true};
  c.rank = 1;
  check(c);
  Case d{"1-D grouped dilated", 1, 2, 3, 2, 1, 9, 1, 3, 1, 2, 1, 2, 0, 2, 0, 0, 0, 1, false};
  d.rank = 1;
  check(d);
}

TEST(ConvTransposeGemm, Clamp) {
  F32MinMax relu;
  relu.min = 0.f;
  check({"relu, disjoint", 1, 1, 8, 6, 5, 6, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, true}, relu);
  F32MinMax clip;
  clip.min = -0.25f, clip.max = 0.5f;
  check({"clip, overlapping", 2, 1, 4, 5, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, true}, clip);
}

TEST(ConvTransposeGemm, CoversOnlyThePackedLayer) {
  const std::vector<float> w = random_floats(4 * 3 * 2 * 2, 1);
  ConvTransposeGemm fast;
  EXPECT_FALSE(fast.packed());
  fast.pack(1, 4, 3, 2, 2, w.data(), nullptr);
  ConvGeometry g = geometry({"", 1, 1, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, false});
  EXPECT_TRUE(fast.covers(g));
  ConvGeometry other = g;
  other.group_in = 5;
  EXPECT_FALSE(fast.covers(other));
  other = g;
  other.kernel[1] = 3;
  EXPECT_FALSE(fast.covers(other));
  other = g;
  other.rank = 3;
  EXPECT_FALSE(fast.covers(other));
}

}  // namespace
}  // namespace kiln
