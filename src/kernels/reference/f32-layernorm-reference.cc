// Reference LayerNormalization over contiguous rows.
#include "kernels/reference/norm_moments.h"
#include "kernels/reference/reference.h"

namespace kiln {

void f32_layernorm_reference(size_t rows, size_t n, const float* x, const float* scale, const float* bias,
                             float epsilon, float* y, float* mean, float* inv_std_dev) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double m, inv;
    refk::moments(xr, n, epsilon, &m, &inv);
    for (size_t j = 0; j < n; ++j) {
      const double v = (xr[j] - m) * inv * scale[j] + (bias ? bias[j] : 0.f);
      yr[j] = static_cast<float>(v);
    }
    if (mean) mean[r] = static_cast<float>(m);
    if (inv_std_dev) inv_std_dev[r] = static_cast<float>(inv);
  }
}

}  // namespace kiln
