// Window walking shared by the max and average pooling reference kernels (internal to
// src/kernels/reference).
#pragma once
#include "kernels/reference/index_util.h"
#include "kernels/reference/reference.h"

namespace kiln {
namespace refk {

// For each output position, clips the window to the taps inside the input (count[d] taps
// per dim, the first at offset `base`) and stores reduce(xp, base, count, taps,
// padded_taps, in_stride), padded_taps counting the taps inside the padded extent.
template <class Reduce>
void pool(const PoolGeometry& g, const float* x, float* y, Reduce reduce) {
  const size_t r = g.rank;
  const int64_t in_plane = product(g.in, r), out_plane = product(g.out, r);
  int64_t in_stride[kMaxSpatialDims];
  in_stride[r - 1] = 1;
  for (size_t d = r - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * g.in[d + 1];
  if (out_plane == 0) return;
  for (size_t p = 0; p < g.planes; ++p) {
    const float* xp = x + static_cast<int64_t>(p) * in_plane;
    float* yp = y + static_cast<int64_t>(p) * out_plane;
    int64_t oidx[kMaxSpatialDims] = {};
    int64_t o = 0;
    do {
      int64_t count[kMaxSpatialDims], base = 0, taps = 1, padded_taps = 1;
      for (size_t d = 0; d < r; ++d) {
        const int64_t start = oidx[d] * g.stride[d] - g.pad_begin[d];
        int64_t l, h, pl, ph;
        valid_range(g.in[d], g.kernel[d], g.dilation[d], start, &l, &h);
        valid_range(g.in[d] + g.pad_begin[d] + g.pad_end[d], g.kernel[d], g.dilation[d], start + g.pad_begin[d],
                    &pl, &ph);
        count[d] = h - l;
        taps *= h - l;
        padded_taps *= ph - pl;
        base += (start + l * g.dilation[d]) * in_stride[d];
      }
      yp[o] = reduce(xp, base, count, taps, padded_taps, in_stride);
      ++o;
    } while (next_index(oidx, g.out, r));
  }
}

// Walks the clipped window (count[d] taps per dim, dilation apart) and folds f over it.
template <class F>
void for_each_tap(const PoolGeometry& g, const float* xp, int64_t base, const int64_t* count,
                  const int64_t* in_stride, F f) {
  const size_t r = g.rank;
  int64_t kidx[kMaxSpatialDims] = {};
  do {
    int64_t off = base;
    for (size_t d = 0; d < r; ++d) off += kidx[d] * g.dilation[d] * in_stride[d];
    f(xp[off]);
  } while (next_index(kidx, count, r));
}

}  // namespace refk
}  // namespace kiln
