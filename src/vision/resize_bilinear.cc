#include "vision/resize_bilinear.h"

#include <cmath>
#include <vector>

namespace kiln::vision {
namespace {

struct Tap {
  int64_t i0, i1;  // source indices
  double f;        // weight of i1
};

// The two source indices and the weight for output coordinate d along one axis.
Tap axis_tap(int64_t d, double scale, int64_t size) {
  double f = (static_cast<double>(d) + 0.5) * scale - 0.5;
  int64_t i = static_cast<int64_t>(std::floor(f));
  f -= static_cast<double>(i);
  if (i < 0) i = 0, f = 0;
  if (i >= size - 1) i = size - 1, f = 0;
  return {i, i + 1 < size ? i + 1 : size - 1, f};
}

}  // namespace

template <class T>
void resize_bilinear(const T* src, int64_t sw, int64_t sh, int64_t ch, float* dst, int64_t dw, int64_t dh,
                     bool round_to_int) {
  // Scales as the JS computed them (sw / dw in double), so taps land on the same pixels.
  const double sx = static_cast<double>(sw) / static_cast<double>(dw);
  const double sy = static_cast<double>(sh) / static_cast<double>(dh);
  std::vector<Tap> xs(static_cast<size_t>(dw));
  for (int64_t x = 0; x < dw; ++x) xs[x] = axis_tap(x, sx, sw);
  for (int64_t y = 0; y < dh; ++y) {
    const Tap ty = axis_tap(y, sy, sh);
    const T* row0 = src + ty.i0 * sw * ch;
    const T* row1 = src + ty.i1 * sw * ch;
    float* out = dst + y * dw * ch;
    for (int64_t x = 0; x < dw; ++x) {
      const Tap& tx = xs[x];
      for (int64_t c = 0; c < ch; ++c) {
        const double p00 = row0[tx.i0 * ch + c], p01 = row0[tx.i1 * ch + c];
        const double p10 = row1[tx.i0 * ch + c], p11 = row1[tx.i1 * ch + c];
        const double top = p00 + (p01 - p00) * tx.f, bottom = p10 + (p11 - p10) * tx.f;
        const double v = top + (bottom - top) * ty.f;
        out[x * ch + c] = static_cast<float>(round_to_int ? std::floor(v + 0.5) : v);
      }
    }
  }
}

template void resize_bilinear<uint8_t>(const uint8_t*, int64_t, int64_t, int64_t, float*, int64_t, int64_t, bool);
template void resize_bilinear<float>(const float*, int64_t, int64_t, int64_t, float*, int64_t, int64_t, bool);

}  // namespace kiln::vision
