// LSTM cell (ONNX gate order i, o, f, c; peepholes i, o, f):
//   i = f(Wi x + Ri h + Pi.c + b),  f = f(Wf x + Rf h + Pf.c + b)  (or 1 - i),
//   c' = f.c + i.g(Wc x + Rc h + b),  o = f(Wo x + Ro h + Po.c' + b),  h' = o.h(c').
#include "kernels/reference/recurrent_driver.h"

namespace kiln {

size_t recurrent_workspace_size(const RecurrentGeometry& g, size_t gates) {
  return 2 * g.batch * g.hidden + 2 * gates * g.hidden;
}

void f32_lstm_reference(const RecurrentGeometry& g, const RecurrentActivation act[3], bool input_forget,
                        const float* x, const float* w, const float* r, const float* bias, const float* peephole,
                        const float* h0, const float* c0, float* y, float* h_out, float* c_out, float* workspace) {
  using recurrent::clip;
  using recurrent::dot;
  const size_t H = g.hidden, I = g.input;
  auto cell = [&](const float* xt, float* h, float* c, float* gates) {
    for (size_t row = 0; row < 4 * H; ++row)
      gates[row] = dot(w + row * I, xt, I) + dot(r + row * H, h, H) + (bias ? bias[row] + bias[4 * H + row] : 0.f);
    for (size_t j = 0; j < H; ++j) {
      float gi = gates[j], go = gates[H + j], gf = gates[2 * H + j], gc = gates[3 * H + j];
      if (peephole) {
        gi += peephole[j] * c[j];
        gf += peephole[2 * H + j] * c[j];
      }
      const float it = apply_activation(act[0], clip(gi, g.clip));
      const float ft = input_forget ? 1.f - it : apply_activation(act[0], clip(gf, g.clip));
      const float ct = apply_activation(act[1], clip(gc, g.clip));
      const float c_new = ft * c[j] + it * ct;
      if (peephole) go += peephole[H + j] * c_new;
      const float ot = apply_activation(act[0], clip(go, g.clip));
      c[j] = c_new;
      h[j] = ot * apply_activation(act[2], c_new);
    }
  };
  recurrent::run(g, true, x, h0, c0, y, h_out, c_out, workspace, cell);
}

}  // namespace kiln
