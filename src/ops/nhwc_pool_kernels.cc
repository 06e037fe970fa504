#include "ops/nhwc_pool_kernels.h"

#include <cstdint>
#include <limits>

#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/reference/index_util.h"
#include "platform/thread_pool.h"

namespace kiln {
namespace {

bool same_geometry(const PoolGeometry& a, const PoolGeometry& b) {
  for (size_t d = 0; d < 2; ++d)
    if (a.in[d] != b.in[d] || a.out[d] != b.out[d] || a.kernel[d] != b.kernel[d] || a.stride[d] != b.stride[d] ||
        a.dilation[d] != b.dilation[d] || a.pad_begin[d] != b.pad_begin[d] || a.pad_end[d] != b.pad_end[d])
      return false;
  return a.rank == b.rank;
}

}  // namespace

void NhwcPoolKernels::prepare(const PoolGeometry& g, size_t channels, Mode mode, const float* x) {
  if (mode == key_mode_ && channels == key_channels_ && same_geometry(g, key_)) return;
  NhwcConv2dShape s;
  s.in_h = static_cast<size_t>(g.in[0]), s.in_w = static_cast<size_t>(g.in[1]);
  s.out_h = static_cast<size_t>(g.out[0]), s.out_w = static_cast<size_t>(g.out[1]);
  s.kernel_h = static_cast<size_t>(g.kernel[0]), s.kernel_w = static_cast<size_t>(g.kernel[1]);
  s.stride_h = static_cast<size_t>(g.stride[0]), s.stride_w = static_cast<size_t>(g.stride[1]);
  s.dilation_h = static_cast<size_t>(g.dilation[0]), s.dilation_w = static_cast<size_t>(g.dilation[1]);
  s.pad_top = static_cast<ptrdiff_t>(g.pad_begin[0]), s.pad_left = static_cast<ptrdiff_t>(g.pad_begin[1]);
  s.pixel_stride = channels;
  // Padding taps read -inf (no effect on a max) or zeros (no effect on a sum).
  pad_.assign(std::max<size_t>(channels, 1),
              mode == Mode::kMax ? -std::numeric_limits<float>::infinity() : 0.f);
  indirection_.resize(nhwc_conv_indirection_size(s, 1));
  nhwc_conv_indirection_init(s, 1, x, pad_.data(), indirection_.data());
  multiplier_.clear();
  if (mode != Mode::kMax) {
    // 1 / (taps inside the input, or inside the padded extent: a ceil_mode window's part
    // beyond the end padding never counts); 0 for a window with no tap inside.
    multiplier_.resize(s.out_h * s.out_w);
    for (int64_t oy = 0; oy < g.out[0]; ++oy) {
      const int64_t iy0 = oy * g.stride[0] - g.pad_begin[0];
      int64_t ky_lo, ky_hi, py_lo, py_hi;
      refk::valid_range(g.in[0], g.kernel[0], g.dilation[0], iy0, &ky_lo, &ky_hi);
      refk::valid_range(g.in[0] + g.pad_begin[0] + g.pad_end[0], g.kernel[0], g.dilation[0], iy0 + g.pad_begin[0],
                        &py_lo, &py_hi);
      for (int64_t ox = 0; ox < g.out[1]; ++ox) {
        const int64_t ix0 = ox * g.stride[1] - g.pad_begin[1];
        int64_t kx_lo, kx_hi, px_lo, px_hi;
        refk::valid_range(g.in[1], g.kernel[1], g.dilation[1], ix0, &kx_lo, &kx_hi);
        refk::valid_range(g.in[1] + g.pad_begin[1] + g.pad_end[1], g.kernel[1], g.dilation[1],
                          ix0 + g.pad_begin[1], &px_lo, &px_hi);
        const int64_t taps = (ky_hi - ky_lo) * (kx_hi - kx_lo);
        const int64_t divisor = mode == Mode::kAvgIncludePad ? (py_hi - py_lo) * (px_hi - px_lo) : taps;
        multiplier_[static_cast<size_t>(oy * g.out[1] + ox)] = taps == 0 ? 0.f : 1.f / static_cast<float>(divisor);
      }
    }
  }
  base_ = x;
  key_ = g;
  key_channels_ = channels;
  key_mode_ = mode;
}

template <class Run>
void NhwcPoolKernels::run_rows(const PoolGeometry& g, size_t channels, const float* x, float* y, Run run) {
  const size_t oh = static_cast<size_t>(g.out[0]), ow = static_cast<size_t>(g.out[1]);
  const size_t in_image = static_cast<size_t>(g.in[0] * g.in[1]) * channels, out_image = oh * ow * channels;
  // Byte offset from the buffer's base to this input (wraps when x < base_).
  const size_t moved = reinterpret_cast<uintptr_t>(x) - reinterpret_cast<uintptr_t>(base_);
  F32PoolArgs args;
  args.pixels = oh * ow, args.channels = channels, args.ks = static_cast<size_t>(g.kernel[0] * g.kernel[1]);
  args.indirection = indirection_.data(), args.pad = pad_.data(), args.multiplier = multiplier_.data();
  args.out_stride = channels;
  parallel_for(g.planes * oh, [&](size_t begin, size_t end) {
    for (size_t u = begin; u < end; ++u) {
      const size_t b = u / oh, row = u % oh;
      F32PoolArgs a = args;
      a.a_offset = moved + b * in_image * sizeof(float);
      a.out = y + b * out_image;
      run(a, row * ow, (row + 1) * ow);
    }
  });
}

void NhwcPoolKernels::max_pool(const PoolGeometry& g, size_t channels, const float* x, float* y) {
  if (g.rank != 2) return f32_maxpool_nhwc_reference(g, channels, x, y);
  if (g.planes == 0 || g.out[0] == 0 || g.out[1] == 0 || channels == 0) return;
  prepare(g, channels, Mode::kMax, x);
  const F32MaxPoolKernel& k = f32_maxpool_default_kernel();
  run_rows(g, channels, x, y, [&](const F32PoolArgs& a, size_t b, size_t e) { f32_maxpool_pixels(k, a, b, e); });
}

void NhwcPoolKernels::average_pool(const PoolGeometry& g, size_t channels, bool count_include_pad, const float* x,
                                   float* y) {
  if (g.rank != 2) return f32_avgpool_nhwc_reference(g, channels, count_include_pad, x, y);
  if (g.planes == 0 || g.out[0] == 0 || g.out[1] == 0 || channels == 0) return;
  prepare(g, channels, count_include_pad ? Mode::kAvgIncludePad : Mode::kAvgExcludePad, x);
  const F32AvgPoolKernel& k = f32_avgpool_default_kernel();
  run_rows(g, channels, x, y, [&](const F32PoolArgs& a, size_t b, size_t e) { f32_avgpool_pixels(k, a, b, e); });
}

}  // namespace kiln
