// Reference per-channel affine transform: inference BatchNormalization once mean,
// variance and epsilon are folded into one scale and shift per channel.
#include "kernels/reference/reference.h"

namespace kiln {

void f32_channel_affine_reference(size_t outer, size_t channels, size_t inner, const float* x,
                                  const float* scale, const float* bias, float* y) {
  for (size_t o = 0; o < outer; ++o)
    for (size_t c = 0; c < channels; ++c) {
      const size_t base = (o * channels + c) * inner;
      const float s = scale[c], b = bias[c];
      for (size_t i = 0; i < inner; ++i) y[base + i] = x[base + i] * s + b;
    }
}

}  // namespace kiln
