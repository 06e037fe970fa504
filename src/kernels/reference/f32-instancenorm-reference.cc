// Reference InstanceNormalization over (batch, channel) planes.
#include "kernels/reference/norm_moments.h"
#include "kernels/reference/reference.h"

namespace kiln {

void f32_instancenorm_reference(size_t batch, size_t channels, size_t plane_size, const float* x,
                                const float* scale, const float* bias, float epsilon, float* y) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t c = 0; c < channels; ++c) {
      const size_t base = (b * channels + c) * plane_size;
      double m, inv;
      refk::moments(x + base, plane_size, epsilon, &m, &inv);
      for (size_t i = 0; i < plane_size; ++i)
        y[base + i] = static_cast<float>((x[base + i] - m) * inv * scale[c] + bias[c]);
    }
}

}  // namespace kiln
