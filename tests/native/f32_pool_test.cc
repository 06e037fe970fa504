// Every f32 max / average pooling microkernel of this build against the channels-last
// reference kernels: channels 1, lanes-1, CT-1, CT, CT+1, large and odd; window sizes from
// 1 tap through one pass (9), one pass plus one tap (10), whole extra passes (25 = 9 + 8 + 8)
// and partial ones (12, 20, 49); stride 2, dilation 2, asymmetric pads, ceil_mode windows,
// count_include_pad both ways, batch 2, clamping, strided output rows, a pixel-range split
// and one indirection buffer reused after the input moved. Then the op-level driver
// (NhwcPoolKernels) with 1 and 3 threads. Runs natively and in WASM (kiln_kernel_tests_wasm).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/reference/reference.h"
#include "ops/nhwc_pool_kernels.h"
#include "platform/thread_pool.h"

namespace kiln {

void PrintTo(const F32MaxPoolKernel& k, std::ostream* os) { *os << k.name; }
void PrintTo(const F32AvgPoolKernel& k, std::ostream* os) { *os << k.name; }

namespace {

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Builder-style: PoolTester().channels(17).size(6, 7).kernel(3, 3).stride(2).Test(kern).
class PoolTester {
 public:
  PoolTester& batch(size_t v) { batch_ = v; return *this; }
  PoolTester& channels(size_t v) { c_ = v; return *this; }
  PoolTester& size(size_t h, size_t w) { h_ = h, w_ = w; return *this; }
  PoolTester& kernel(size_t kh, size_t kw) { kh_ = kh, kw_ = kw; return *this; }
  PoolTester& stride(size_t v) { stride_ = v; return *this; }
  PoolTester& dilation(size_t v) { dilation_ = v; return *this; }
  PoolTester& pad(size_t top, size_t left, size_t bottom, size_t right) {
    pt_ = top, pl_ = left, pb_ = bottom, pr_ = right;
    return *this;
  }
  PoolTester& ceil(bool v) { ceil_ = v; return *this; }
  PoolTester& count_include_pad(bool v) { cip_ = v; return *this; }
  PoolTester& clamp(bool v) { clamp_ = v; return *this; }
  PoolTester& split(bool v) { split_ = v; return *this; }
  PoolTester& out_stride(size_t extra) { extra_ = extra; return *this; }
  bool includes_pad() const { return cip_; }

  PoolGeometry geometry() const {
    PoolGeometry g;
    g.planes = batch_, g.rank = 2;
    const size_t in[2] = {h_, w_}, k[2] = {kh_, kw_}, pb[2] = {pt_, pl_}, pe[2] = {pb_, pr_};
    for (size_t d = 0; d < 2; ++d) {
      g.in[d] = static_cast<int64_t>(in[d]), g.kernel[d] = static_cast<int64_t>(k[d]);
      g.stride[d] = static_cast<int64_t>(stride_), g.dilation[d] = static_cast<int64_t>(dilation_);
      g.pad_begin[d] = static_cast<int64_t>(pb[d]), g.pad_end[d] = static_cast<int64_t>(pe[d]);
      const int64_t span = g.in[d] + g.pad_begin[d] + g.pad_end[d] - (g.kernel[d] - 1) * g.dilation[d] - 1;
      g.out[d] = (ceil_ ? (span + g.stride[d] - 1) / g.stride[d] : span / g.stride[d]) + 1;
      // ONNX ceil_mode: the last window must start inside the input or the begin padding.
      if (ceil_ && (g.out[d] - 1) * g.stride[d] >= g.in[d] + g.pad_begin[d]) --g.out[d];
    }
    return g;
  }

  std::string trace(const char* name) const {
    return std::string(name) + " batch=" + std::to_string(batch_) + " channels=" + std::to_string(c_) + " in=" +
           std::to_string(h_) + "x" + std::to_string(w_) + " kernel=" + std::to_string(kh_) + "x" +
           std::to_string(kw_) + " stride=" + std::to_string(stride_) + " dilation=" + std::to_string(dilation_) +
           " pads=" + std::to_string(pt_) + "," + std::to_string(pl_) + "," + std::to_string(pb_) + "," +
           std::to_string(pr_) + (ceil_ ? " ceil" : "") + (cip_ ? " count_include_pad" : "") +
           (clamp_ ? " clamped" : "") + (split_ ? " split" : "") + " out_stride+" + std::to_string(extra_);
  }

  void Test(const F32MaxPoolKernel& kern) const { run(kern.name, &kern, nullptr); }
  void Test(const F32AvgPoolKernel& kern) const { run(kern.name, nullptr, &kern); }

 private:
  void run(const char* name, const F32MaxPoolKernel* maxk, const F32AvgPoolKernel* avgk) const {
    const PoolGeometry g = geometry();
    SCOPED_TRACE(trace(name));
    const size_t ohw = static_cast<size_t>(g.out[0] * g.out[1]), hw = h_ * w_, ks = kh_ * kw_;
    ASSERT_GT(ohw, 0u);
    const uint32_t seed = static_cast<uint32_t>(c_ * 7919 + h_ * 17 + w_ + ks * 3 + stride_ + (avgk ? 1 : 0));
    const std::vector<float> x = random_floats(batch_ * hw * c_, seed);
    std::vector<float> expected(batch_ * ohw * c_);
    if (maxk) f32_maxpool_nhwc_reference(g, c_, x.data(), expected.data());
    else f32_avgpool_nhwc_reference(g, c_, cip_, x.data(), expected.data());
    F32MinMax mm;
    if (clamp_) {
      std::vector<float> sorted = expected;
      std::sort(sorted.begin(), sorted.end());
      mm.min = sorted[sorted.size() / 4], mm.max = sorted[sorted.size() * 3 / 4];
      for (float& v : expected) v = std::min(std::max(v, mm.min), mm.max);
    }
    // The divisor per output pixel, counted by brute force over the window.
    std::vector<float> multiplier(ohw);
    for (int64_t oy = 0; oy < g.out[0]; ++oy)
      for (int64_t ox = 0; ox < g.out[1]; ++ox) {
        int64_t inside = 0, padded = 0;
        for (int64_t ky = 0; ky < g.kernel[0]; ++ky)
          for (int64_t kx = 0; kx < g.kernel[1]; ++kx) {
            const int64_t iy = oy * g.stride[0] - g.pad_begin[0] + ky * g.dilation[0];
            const int64_t ix = ox * g.stride[1] - g.pad_begin[1] + kx * g.dilation[1];
            inside += iy >= 0 && iy < g.in[0] && ix >= 0 && ix < g.in[1];
            padded += iy < g.in[0] + g.pad_end[0] && ix < g.in[1] + g.pad_end[1];
          }
        multiplier[static_cast<size_t>(oy * g.out[1] + ox)] =
            inside == 0 ? 0.f : 1.f / static_cast<float>(cip_ ? padded : inside);
      }

    std::vector<float> buf(x.size() + 64);
    std::copy(x.begin(), x.end(), buf.begin() + 64);
    NhwcConv2dShape s;
    s.in_h = h_, s.in_w = w_, s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
    s.kernel_h = kh_, s.kernel_w = kw_, s.stride_h = s.stride_w = stride_, s.dilation_h = s.dilation_w = dilation_;
    s.pad_top = static_cast<ptrdiff_t>(pt_), s.pad_left = static_cast<ptrdiff_t>(pl_), s.pixel_stride = c_;
    const std::vector<float> pad(c_, maxk ? -std::numeric_limits<float>::infinity() : 0.f);
    std::vector<const float*> ind(nhwc_conv_indirection_size(s, 1));
    nhwc_conv_indirection_init(s, 1, buf.data() + 64, pad.data(), ind.data());

    const float sentinel = 12345.f;
    const size_t ostride = c_ + extra_;
    std::vector<float> y(batch_ * ohw * ostride + 5);
    auto run_kernel = [&](const float* input) {
      std::fill(y.begin(), y.end(), sentinel);
      const size_t moved = reinterpret_cast<uintptr_t>(input) - reinterpret_cast<uintptr_t>(buf.data() + 64);
      for (size_t b = 0; b < batch_; ++b) {
        F32PoolArgs args;
        args.pixels = ohw, args.channels = c_, args.ks = ks, args.indirection = ind.data();
        args.a_offset = moved + b * hw * c_ * sizeof(float), args.pad = pad.data();
        args.multiplier = multiplier.data(), args.out = y.data() + b * ohw * ostride, args.out_stride = ostride;
        args.minmax = mm;
        const size_t cut = split_ ? ohw / 3 : ohw;
        if (maxk) {
          f32_maxpool_pixels(*maxk, args, 0, cut);
          f32_maxpool_pixels(*maxk, args, cut, ohw);
        } else {
          f32_avgpool_pixels(*avgk, args, 0, cut);
          f32_avgpool_pixels(*avgk, args, cut, ohw);
        }
      }
    };
    auto check = [&](const char* what) {
      SCOPED_TRACE(what);
      for (size_t p = 0; p < batch_ * ohw; ++p) {
        for (size_t c = 0; c < c_; ++c) {
          const float want = expected[p * c_ + c], got = y[p * ostride + c];
          if (maxk) ASSERT_EQ(got, want) << "pixel " << p << " channel " << c;  // a max is exact
          else ASSERT_NEAR(got, want, 2e-6f * (1.f + static_cast<float>(ks))) << "pixel " << p << " channel " << c;
        }
        for (size_t c = c_; c < ostride; ++c) ASSERT_EQ(y[p * ostride + c], sentinel) << "wrote between rows";
      }
      for (size_t i = batch_ * ohw * ostride; i < y.size(); ++i) ASSERT_EQ(y[i], sentinel) << "wrote past the output";
    };
    run_kernel(buf.data() + 64);
    check("built-for input");
    std::memmove(buf.data() + 3, buf.data() + 64, x.size() * sizeof(float));
    std::fill(buf.begin() + 3 + static_cast<ptrdiff_t>(x.size()), buf.end(), 1e9f);
    run_kernel(buf.data() + 3);
    check("input moved back");
  }

  size_t batch_ = 1, c_ = 1, h_ = 5, w_ = 5, kh_ = 3, kw_ = 3;
  size_t stride_ = 1, dilation_ = 1, pt_ = 0, pl_ = 0, pb_ = 0, pr_ = 0, extra_ = 0;
  bool ceil_ = false, cip_ = false, clamp_ = false, split_ = false;
};

// 1 tap; one pass (4, 9); one pass + 1 (10); 9 + 3 (12); 9 + 8 + 3 (20); 9 + 8 + 8 (25); 49.
const std::vector<std::pair<size_t, size_t>> kWindows = {{1, 1}, {2, 2}, {3, 3}, {1, 10}, {3, 4},
                                                         {4, 5}, {5, 5}, {7, 7}};

std::vector<size_t> channel_counts(size_t ct) { return {1, 3, ct - 1, ct, ct + 1, 2 * ct + 5, 67}; }

// The same cases for both reductions: T is F32MaxPoolKernel or F32AvgPoolKernel.
template <class T>
void windows_and_channels(const T& kern) {
  for (auto [kh, kw] : kWindows)
    for (size_t c : channel_counts(kern.ct))
      PoolTester().channels(c).size(kh + 3, kw + 2).kernel(kh, kw).pad(kh / 2, kw / 2, kh / 2, kw / 2).Test(kern);
}

template <class T>
void strides_dilation_pads(const T& kern) {
  for (auto [kh, kw] : kWindows) {
    PoolTester().channels(kern.ct + 1).size(kh + 6, kw + 5).kernel(kh, kw).stride(2).Test(kern);
    PoolTester().channels(kern.ct + 2).size(kh * 2 + 3, kw * 2 + 3).kernel(kh, kw).dilation(2).Test(kern);
    PoolTester().channels(kern.ct - 1).size(kh + 4, kw + 4).kernel(kh, kw).pad(0, kw - 1, kh - 1, 0).Test(kern);
    PoolTester().channels(5).size(kh + 5, kw + 6).kernel(kh, kw).stride(2).dilation(2).pad(kh - 1, 0, 0, kw - 1)
        .Test(kern);
  }
}

template <class T>
void ceil_batch_clamp_split(const T& kern) {
  for (auto [kh, kw] : kWindows) {
    PoolTester().channels(kern.ct + 3).size(kh + 4, kw + 5).kernel(kh, kw).stride(2).pad(kh / 2, 0, 0, kw / 2)
        .ceil(true).Test(kern);
    PoolTester().batch(2).channels(2 * kern.ct + 3).size(kh + 3, kw + 4).kernel(kh, kw).pad(1, 1, 1, 1).clamp(true)
        .out_stride(3).Test(kern);
    PoolTester().batch(2).channels(kern.ct + 1).size(kh + 5, kw + 2).kernel(kh, kw).stride(2).split(true)
        .out_stride(kern.ct).Test(kern);
  }
}

template <class T>
std::string kernel_name(const ::testing::TestParamInfo<T>& info) {
  std::string s = info.param.name;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

class F32MaxPool : public ::testing::TestWithParam<F32MaxPoolKernel> {};
TEST_P(F32MaxPool, WindowsAndChannels) { windows_and_channels(GetParam()); }
TEST_P(F32MaxPool, StridesDilationPads) { strides_dilation_pads(GetParam()); }
TEST_P(F32MaxPool, CeilBatchClampSplit) { ceil_batch_clamp_split(GetParam()); }
TEST_P(F32MaxPool, WindowWhollyInPaddingIsMinusInfinity) {
  // pads as large as the kernel: the corner windows see only padding.
  PoolTester().channels(GetParam().ct + 1).size(2, 2).kernel(2, 2).stride(2).pad(2, 2, 2, 2).Test(GetParam());
}
INSTANTIATE_TEST_SUITE_P(Kernels, F32MaxPool,
                         ::testing::ValuesIn(f32_maxpool_kernels().begin(), f32_maxpool_kernels().end()),
                         kernel_name<F32MaxPoolKernel>);

class F32AvgPool : public ::testing::TestWithParam<F32AvgPoolKernel> {};
TEST_P(F32AvgPool, WindowsAndChannels) { windows_and_channels(GetParam()); }
TEST_P(F32AvgPool, StridesDilationPads) { strides_dilation_pads(GetParam()); }
TEST_P(F32AvgPool, CeilBatchClampSplit) { ceil_batch_clamp_split(GetParam()); }
TEST_P(F32AvgPool, CountIncludePad) {
  const F32AvgPoolKernel& kern = GetParam();
  for (auto [kh, kw] : kWindows) {
    PoolTester().channels(kern.ct + 1).size(kh + 3, kw + 2).kernel(kh, kw).pad(kh / 2, kw / 2, kh / 2, kw / 2)
        .count_include_pad(true).Test(kern);
    PoolTester().channels(7).size(kh + 4, kw + 5).kernel(kh, kw).stride(2).pad(kh - 1, 0, 0, kw - 1).ceil(true)
        .count_include_pad(true).Test(kern);
  }
  PoolTester().channels(kern.ct).size(2, 2).kernel(2, 2).stride(2).pad(2, 2, 2, 2).count_include_pad(true).Test(kern);
  PoolTester().channels(kern.ct).size(2, 2).kernel(2, 2).stride(2).pad(2, 2, 2, 2).Test(kern);
}
INSTANTIATE_TEST_SUITE_P(Kernels, F32AvgPool,
                         ::testing::ValuesIn(f32_avgpool_kernels().begin(), f32_avgpool_kernels().end()),
                         kernel_name<F32AvgPoolKernel>);

// The op-level driver: same results as the reference for 1 and 3 threads (bit-identical to
// each other), and after the input moves or the shape changes.
TEST(NhwcPoolKernels, MatchesReferenceWithThreads) {
  struct Case {
    PoolTester t;
    size_t c;
  };
  const std::vector<Case> cases = {
      {PoolTester().batch(2).size(13, 11).kernel(3, 3).stride(2).pad(1, 1, 1, 1), 24},
      {PoolTester().batch(1).size(9, 9).kernel(5, 5).pad(2, 2, 2, 2).count_include_pad(true), 19},
      {PoolTester().batch(3).size(8, 10).kernel(2, 2).stride(2).pad(0, 0, 1, 1).ceil(true), 33},
      {PoolTester().batch(1).size(7, 7).kernel(7, 7), 64},
  };
  NhwcPoolKernels one, three;
  ThreadPool pool(3);
  for (bool avg : {false, true})
    for (const Case& cs : cases) {
      const PoolGeometry g = cs.t.geometry();
      SCOPED_TRACE(cs.t.trace(avg ? "average" : "max"));
      const size_t in = g.planes * static_cast<size_t>(g.in[0] * g.in[1]) * cs.c;
      const size_t out = g.planes * static_cast<size_t>(g.out[0] * g.out[1]) * cs.c;
      std::vector<float> x = random_floats(in + 8, static_cast<uint32_t>(in));
      std::vector<float> want(out), y1(out), y3(out);
      const bool cip = cs.t.includes_pad();
      for (size_t shift : {0, 8}) {  // the second run's input sits elsewhere
        const float* xs = x.data() + shift;
        if (avg) {
          f32_avgpool_nhwc_reference(g, cs.c, cip, xs, want.data());
          one.average_pool(g, cs.c, cip, xs, y1.data());
          ThreadPoolScope scope(&pool);
          three.average_pool(g, cs.c, cip, xs, y3.data());
        } else {
          f32_maxpool_nhwc_reference(g, cs.c, xs, want.data());
          one.max_pool(g, cs.c, xs, y1.data());
          ThreadPoolScope scope(&pool);
          three.max_pool(g, cs.c, xs, y3.data());
        }
        for (size_t i = 0; i < out; ++i) {
          ASSERT_NEAR(y1[i], want[i], 1e-5f) << "at " << i << " shift " << shift;
          ASSERT_EQ(std::memcmp(&y1[i], &y3[i], sizeof(float)), 0) << "threads changed output " << i;
        }
      }
    }
}

TEST(F32PoolConfig, DefaultsAreListed) {
  const F32MaxPoolKernel& mk = f32_maxpool_default_kernel();
  const F32AvgPoolKernel& ak = f32_avgpool_default_kernel();
  EXPECT_TRUE(std::any_of(f32_maxpool_kernels().begin(), f32_maxpool_kernels().end(),
                          [&](const F32MaxPoolKernel& k) { return k.fn == mk.fn; }));
  EXPECT_TRUE(std::any_of(f32_avgpool_kernels().begin(), f32_avgpool_kernels().end(),
                          [&](const F32AvgPoolKernel& k) { return k.fn == ak.fn; }));
  PoolTester().batch(2).channels(37).size(9, 9).kernel(3, 3).stride(2).pad(1, 1, 1, 1).Test(mk);
  PoolTester().batch(2).channels(37).size(9, 9).kernel(3, 3).stride(2).pad(1, 1, 1, 1).Test(ak);
}

}  // namespace
}  // namespace kiln
