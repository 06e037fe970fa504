// Reference N-D max pooling: the largest input under each window (padding is ignored,
// NaN propagates).
#include <limits>

#include "kernels/reference/pool_window.h"

namespace kiln {

void f32_maxpool_reference(const PoolGeometry& g, const float* x, float* y) {
  refk::pool(g, x, y, [&](const float* xp, int64_t base, const int64_t* count, int64_t taps, int64_t,
                          const int64_t* in_stride) {
    float m = -std::numeric_limits<float>::infinity();
    if (taps == 0) return m;
    refk::for_each_tap(g, xp, base, count, in_stride, [&](float v) {
      if (v > m || v != v) m = v;  // NaN propagates
    });
    return m;
  });
}

}  // namespace kiln
