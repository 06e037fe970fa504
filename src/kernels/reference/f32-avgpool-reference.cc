// Reference N-D average pooling: the mean over the taps inside the input, or over the
// padded extent with count_include_pad.
#include "kernels/reference/pool_window.h"

namespace kiln {

void f32_avgpool_reference(const PoolGeometry& g, bool count_include_pad, const float* x, float* y) {
  refk::pool(g, x, y, [&](const float* xp, int64_t base, const int64_t* count, int64_t taps, int64_t padded_taps,
                          const int64_t* in_stride) {
    if (taps == 0) return 0.f;
    float sum = 0.f;
    refk::for_each_tap(g, xp, base, count, in_stride, [&](float v) { sum += v; });
    return sum / static_cast<float>(count_include_pad ? padded_taps : taps);
  });
}

}  // namespace kiln
