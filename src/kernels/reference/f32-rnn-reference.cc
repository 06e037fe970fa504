// Simple RNN cell: h' = f(Wi x + Ri h + Wbi + Rbi).
#include "kernels/reference/recurrent_driver.h"

namespace kiln {

void f32_rnn_reference(const RecurrentGeometry& g, const RecurrentActivation& act, const float* x, const float* w,
                       const float* r, const float* bias, const float* h0, float* y, float* h_out, float* workspace) {
  using recurrent::clip;
  using recurrent::dot;
  const size_t H = g.hidden, I = g.input;
  auto cell = [&](const float* xt, float* h, float*, float* pre) {
    for (size_t j = 0; j < H; ++j)
      pre[j] = dot(w + j * I, xt, I) + dot(r + j * H, h, H) + (bias ? bias[j] + bias[H + j] : 0.f);
    for (size_t j = 0; j < H; ++j) h[j] = apply_activation(act, clip(pre[j], g.clip));
  };
  recurrent::run(g, false, x, h0, nullptr, y, h_out, nullptr, workspace, cell);
}

}  // namespace kiln
