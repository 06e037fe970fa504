// Reference global pooling: one mean / max per contiguous plane.
#include <limits>

#include "kernels/reference/reference.h"

namespace kiln {

void f32_global_avgpool_reference(size_t planes, size_t plane_size, const float* x, float* y) {
  for (size_t p = 0; p < planes; ++p) {
    const float* xp = x + p * plane_size;
    float sum = 0.f;
    for (size_t i = 0; i < plane_size; ++i) sum += xp[i];
    y[p] = plane_size ? sum / static_cast<float>(plane_size) : 0.f;
  }
}

void f32_global_maxpool_reference(size_t planes, size_t plane_size, const float* x, float* y) {
  for (size_t p = 0; p < planes; ++p) {
    const float* xp = x + p * plane_size;
    float m = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < plane_size; ++i)
      if (xp[i] > m || xp[i] != xp[i]) m = xp[i];
    y[p] = m;
  }
}

}  // namespace kiln
