// One softmax / log-softmax row through the three passes (f32-softmax.h).
#include <cmath>

#include "kernels/f32-softmax/f32-softmax.h"

namespace kiln {

void f32_softmax_row(const F32SoftmaxKernels& k, size_t n, const float* x, float* y, bool log) {
  if (n == 0) return;
  float max, sum;
  k.rmax->fn(n, x, &max);
  k.raddstoreexpminusmax->fn(n, x, max, y, &sum);
  if (log) {
    // (x - max) - log(sum) in two rounding steps, as the reference: folding max and log(sum)
    // into one constant loses log(sum) entirely when |max| is large.
    k.vaddc->fn(n, x, -max, y);
    k.vaddc->fn(n, y, -std::log(sum), y);
  } else {
    k.vmulc->fn(n, y, 1.f / sum, y);
  }
}

}  // namespace kiln
