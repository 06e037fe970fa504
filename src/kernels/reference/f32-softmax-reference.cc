// Softmax / log-softmax along the middle axis of [outer, n, inner], max-subtracted so
// large inputs do not overflow.
#include <cmath>
#include <limits>

#include "kernels/reference/reference.h"

namespace kiln {

void f32_softmax_reference(size_t outer, size_t n, size_t inner, const float* x, float* y, bool log) {
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      const float* xs = x + o * n * inner + i;
      float* ys = y + o * n * inner + i;
      float mx = -std::numeric_limits<float>::infinity();
      for (size_t j = 0; j < n; ++j) mx = std::fmax(mx, xs[j * inner]);
      double sum = 0;
      for (size_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(xs[j * inner] - mx));
      if (log) {
        const float lse = static_cast<float>(std::log(sum));
        for (size_t j = 0; j < n; ++j) ys[j * inner] = xs[j * inner] - mx - lse;
      } else {
        const double inv = 1.0 / sum;
        for (size_t j = 0; j < n; ++j) ys[j * inner] = static_cast<float>(std::exp(static_cast<double>(xs[j * inner] - mx)) * inv);
      }
    }
}

}  // namespace kiln
