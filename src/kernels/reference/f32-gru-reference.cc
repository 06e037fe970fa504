// GRU cell (ONNX gate order z, r, h):
//   z = f(Wz x + Rz h + b),  r = f(Wr x + Rr h + b),
//   h~ = g(Wh x + Rh (r.h) + Rbh + Wbh)       (linear_before_reset = 0)
//   h~ = g(Wh x + r.(Rh h + Rbh) + Wbh)        (linear_before_reset = 1)
//   h' = (1 - z).h~ + z.h
#include "kernels/reference/recurrent_driver.h"

namespace kiln {

void f32_gru_reference(const RecurrentGeometry& g, const RecurrentActivation act[2], bool linear_before_reset,
                       const float* x, const float* w, const float* r, const float* bias, const float* h0, float* y,
                       float* h_out, float* workspace) {
  using recurrent::clip;
  using recurrent::dot;
  const size_t H = g.hidden, I = g.input;
  auto wb = [&](size_t row) { return bias ? bias[row] : 0.f; };
  auto rb = [&](size_t row) { return bias ? bias[3 * H + row] : 0.f; };
  auto cell = [&](const float* xt, float* h, float*, float* scratch) {
    float* zt = scratch;        // [H] update gate
    float* rt = scratch + H;    // [H] reset gate
    float* hx = scratch + 2 * H;  // [H] Wh x + Wbh
    float* rh = scratch + 3 * H;  // [H] r.h, or the recurrent part of h~
    for (size_t j = 0; j < H; ++j) {
      zt[j] = apply_activation(
          act[0], clip(dot(w + j * I, xt, I) + dot(r + j * H, h, H) + wb(j) + rb(j), g.clip));
      const size_t jr = H + j;
      rt[j] = apply_activation(
          act[0], clip(dot(w + jr * I, xt, I) + dot(r + jr * H, h, H) + wb(jr) + rb(jr), g.clip));
      hx[j] = dot(w + (2 * H + j) * I, xt, I) + wb(2 * H + j);
    }
    if (linear_before_reset) {
      for (size_t j = 0; j < H; ++j) rh[j] = rt[j] * (dot(r + (2 * H + j) * H, h, H) + rb(2 * H + j));
    } else {
      float* gated = zt + 4 * H;  // [H] r.h, scratch beyond the four rows above
      for (size_t j = 0; j < H; ++j) gated[j] = rt[j] * h[j];
      for (size_t j = 0; j < H; ++j) rh[j] = dot(r + (2 * H + j) * H, gated, H) + rb(2 * H + j);
    }
    for (size_t j = 0; j < H; ++j) {
      const float ht = apply_activation(act[1], clip(hx[j] + rh[j], g.clip));
      h[j] = (1.f - zt[j]) * ht + zt[j] * h[j];
    }
  };
  recurrent::run(g, false, x, h0, nullptr, y, h_out, nullptr, workspace, cell);
}

}  // namespace kiln
