// Shared front end of the recurrent ops LSTM, GRU and RNN: attributes (direction, layout,
// activations with their alpha/beta, clip, hidden_size), input/output shapes for both
// layouts, and the per-direction pointers and strides handed to the reference kernels.
// Inputs: X, W, R, B, sequence_lens, initial_h (then initial_c, P for LSTM).
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "kernels/reference/reference.h"
#include "ops/op.h"

namespace kiln {

struct RecurrentAttrs {
  std::string who;      // "node 'x' (LSTM): "
  size_t gates = 1;     // rows of W per hidden unit: LSTM 4, GRU 3, RNN 1
  int64_t hidden = -1;  // hidden_size; -1 when absent (taken from R)
  size_t directions = 1;
  bool reverse = false;  // direction == "reverse"
  int64_t layout = 0;    // 0: X [seq, batch, input]; 1: X [batch, seq, input]
  float clip = 0.f;      // 0: no clipping
  size_t acts_per_direction = 1;
  std::vector<RecurrentActivation> acts;  // acts_per_direction per direction
};

// Reads the attributes; default_acts names the activations of one direction.
Result<RecurrentAttrs> parse_recurrent_attrs(const OpContext& ctx, size_t gates,
                                             const std::vector<std::string>& default_acts);

struct RecurrentDims {
  int64_t seq = 0, batch = 0, input = 0, hidden = 0;
};

// Checks every present input against X/W/R (dtype and shape) and returns the sizes.
// has_c / has_p: the op reads initial_c (input 6) and P (input 7).
Result<RecurrentDims> check_recurrent_inputs(const RecurrentAttrs& a, std::span<const TensorInfo> in);

// Output dims: Y, then each final state (Y_h, Y_c).
Dims recurrent_y_dims(const RecurrentAttrs& a, const RecurrentDims& d);
Dims recurrent_state_dims(const RecurrentAttrs& a, const RecurrentDims& d);

// infer for all three ops: Y and `states` final-state outputs, all float32.
Status infer_recurrent(const RecurrentAttrs& a, std::span<const TensorInfo> in, std::span<TensorInfo> out);

// What one direction's kernel call needs, offsets already applied.
struct RecurrentDirection {
  size_t index = 0;  // 0: forward (or the only direction), 1: the reverse half of bidirectional
  RecurrentGeometry geometry;
  const RecurrentActivation* acts = nullptr;
  const float *x = nullptr, *w = nullptr, *r = nullptr, *bias = nullptr, *peephole = nullptr;
  const float *h0 = nullptr, *c0 = nullptr;
  float *y = nullptr, *h_out = nullptr, *c_out = nullptr;
  float* workspace = nullptr;
};

// Validates the run-time inputs and outputs, then calls `kernel` once per direction.
Status run_recurrent(const RecurrentAttrs& a, std::span<const Tensor> in, std::span<Tensor> out,
                     const std::function<void(const RecurrentDirection&)>& kernel);

}  // namespace kiln
