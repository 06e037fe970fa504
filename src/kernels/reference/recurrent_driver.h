// The time loop shared by the LSTM / GRU / RNN reference kernels: state set-up, step
// order (forward, reverse, per-sequence lengths), writing Y and the final states. The
// cell functor computes one step of one sequence in place on its state rows.
#pragma once
#include <algorithm>
#include <cstring>

#include "kernels/reference/reference.h"

namespace kiln::recurrent {

inline float dot(const float* a, const float* b, size_t n) {
  float s = 0.f;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline ptrdiff_t at(size_t i, ptrdiff_t stride) { return static_cast<ptrdiff_t>(i) * stride; }

inline float clip(float v, float c) { return c > 0.f ? std::clamp(v, -c, c) : v; }

// cell(x_row, h_row, c_row, scratch): c_row is null when has_cell is false.
template <class Cell>
void run(const RecurrentGeometry& g, bool has_cell, const float* x, const float* h0, const float* c0, float* y, float* h_out,
         float* c_out, float* workspace, Cell cell) {
  const size_t H = g.hidden, B = g.batch;
  float* h = workspace;
  float* c = workspace + B * H;
  float* scratch = c + B * H;
  for (size_t b = 0; b < B; ++b) {
    float* hb = h + b * H;
    float* cb = c + b * H;
    if (h0) std::memcpy(hb, h0 + at(b, g.state_stride_b), H * sizeof(float));
    else std::fill(hb, hb + H, 0.f);
    if (has_cell && c0) std::memcpy(cb, c0 + at(b, g.state_stride_b), H * sizeof(float));
    else if (has_cell) std::fill(cb, cb + H, 0.f);
  }
  auto length = [&](size_t b) {
    if (!g.seq_lens) return g.seq;
    return static_cast<size_t>(std::clamp<int64_t>(g.seq_lens[b], 0, static_cast<int64_t>(g.seq)));
  };
  if (y)
    for (size_t b = 0; b < B; ++b)
      for (size_t t = length(b); t < g.seq; ++t) std::fill_n(y + at(t, g.y_stride_t) + at(b, g.y_stride_b), H, 0.f);
  for (size_t s = 0; s < g.seq; ++s) {
    for (size_t b = 0; b < B; ++b) {
      const size_t len = length(b);
      if (s >= len) continue;
      const size_t t = g.reverse ? len - 1 - s : s;
      float* hb = h + b * H;
      cell(x + at(t, g.x_stride_t) + at(b, g.x_stride_b), hb, has_cell ? c + b * H : nullptr, scratch);
      if (y) std::memcpy(y + at(t, g.y_stride_t) + at(b, g.y_stride_b), hb, H * sizeof(float));
    }
  }
  for (size_t b = 0; b < B; ++b) {
    if (h_out) std::memcpy(h_out + at(b, g.state_stride_b), h + b * H, H * sizeof(float));
    if (has_cell && c_out) std::memcpy(c_out + at(b, g.state_stride_b), c + b * H, H * sizeof(float));
  }
}

}  // namespace kiln::recurrent
