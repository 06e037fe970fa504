// LSTM (opsets 7..22): inputs X, W, R, B, sequence_lens, initial_h, initial_c, P;
// outputs Y, Y_h, Y_c. Attributes: hidden_size, direction, layout, activations (f, g, h
// per direction; default Sigmoid, Tanh, Tanh) with activation_alpha/beta, clip,
// input_forget. Shared front end in ops/recurrent.h, math in f32-lstm-reference.cc.
//
// With constant W and R (the usual case) both are packed once per direction for the f32
// GEMM microkernels, B folded in as the bias of W: a run projects every time step's input
// with one GEMM over the T*B rows of X, then per step multiplies the hidden state by R
// and applies the gates. Weights computed at run time (or KILN_REFERENCE_KERNELS=1) run
// the reference kernel.
#include <algorithm>
#include <vector>

#include "kernels/reference/recurrent_activation.h"
#include "kernels/reference/recurrent_driver.h"
#include "ops/packed_gemm.h"
#include "ops/recurrent.h"

namespace kiln {
namespace {

class LstmOp final : public Op {
 public:
  LstmOp(RecurrentAttrs a, bool input_forget) : a_(std::move(a)), input_forget_(input_forget) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    return infer_recurrent(a_, in, out);
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    return run_recurrent(a_, in, out, [&](const RecurrentDirection& d) {
      if (packed_for(d))
        run_packed(d);
      else
        f32_lstm_reference(d.geometry, d.acts, input_forget_, d.x, d.w, d.r, d.bias, d.peephole, d.h0, d.c0, d.y,
                           d.h_out, d.c_out, d.workspace);
    });
  }

  // W [D, 4H, I], R [D, 4H, H], B [D, 8H] (optional): per direction W^T with bias Wb + Rb,
  // and R^T, in the GEMM's packed layout. Shapes that do not fit leave the op unpacked.
  void pack(const Tensor& w, const Tensor& r, const Tensor* b) {
    if (use_reference_kernels() || w.dtype() != DType::kF32 || r.dtype() != DType::kF32 || w.rank() != 3 ||
        r.rank() != 3)
      return;
    const int64_t dirs = w.dim(0), gates = w.dim(1), input = w.dim(2), hidden = r.dim(2);
    if (dirs != static_cast<int64_t>(a_.directions) || r.dim(0) != dirs || r.dim(1) != gates || gates != 4 * hidden ||
        (a_.hidden > 0 && a_.hidden != hidden) || input <= 0 || hidden <= 0)
      return;
    if (b && (b->dtype() != DType::kF32 || b->dims() != Dims{dirs, 8 * hidden})) return;
    const size_t H = static_cast<size_t>(hidden), I = static_cast<size_t>(input);
    std::vector<float> bias(4 * H, 0.f);
    packed_w_.resize(static_cast<size_t>(dirs));
    packed_r_.resize(static_cast<size_t>(dirs));
    for (size_t dir = 0; dir < packed_w_.size(); ++dir) {
      if (b) {
        const float* bd = b->data<float>() + dir * 8 * H;
        for (size_t j = 0; j < 4 * H; ++j) bias[j] = bd[j] + bd[4 * H + j];
      }
      packed_w_[dir].pack(4 * H, I, w.data<float>() + dir * 4 * H * I, 1, static_cast<ptrdiff_t>(I), 1.f,
                          bias.data(), 1);
      packed_r_[dir].pack(4 * H, H, r.data<float>() + dir * 4 * H * H, 1, static_cast<ptrdiff_t>(H));
    }
  }

 private:
  bool packed_for(const RecurrentDirection& d) const {
    if (use_reference_kernels() || d.index >= packed_w_.size()) return false;
    const RecurrentGeometry& g = d.geometry;
    return packed_w_[d.index].n() == 4 * g.hidden && packed_w_[d.index].k() == g.input &&
           packed_r_[d.index].k() == g.hidden;
  }

  // One direction on the packed weights; the time loop (step order, sequence lengths,
  // states, Y) is the reference kernels' driver, so only the gate inputs differ.
  void run_packed(const RecurrentDirection& d) {
    const RecurrentGeometry& g = d.geometry;
    const size_t H = g.hidden, I = g.input;
    const PackedGemmWeights& w = packed_w_[d.index];
    const PackedGemmWeights& r = packed_r_[d.index];
    // X is [T*B, I] row-major in both layouts: row (t, b) starts at t*x_stride_t + b*x_stride_b.
    x_gates_.resize(g.seq * g.batch * 4 * H);
    w.multiply(g.seq * g.batch, d.x, I, x_gates_.data(), 4 * H);
    const RecurrentActivation* act = d.acts;
    const float* peep = d.peephole;
    const float clip = g.clip;
    auto clipped = [clip](float v) { return recurrent::clip(v, clip); };
    auto cell = [&](const float* xt, float* h, float* c, float* gates) {
      const float* xg = x_gates_.data() + static_cast<size_t>(xt - d.x) / I * 4 * H;
      r.multiply(1, h, H, gates, 4 * H);  // reads h before the loop below overwrites it
      for (size_t j = 0; j < H; ++j) {
        float gi = gates[j] + xg[j], go = gates[H + j] + xg[H + j];
        float gf = gates[2 * H + j] + xg[2 * H + j];
        const float gc = gates[3 * H + j] + xg[3 * H + j];
        if (peep) {
          gi += peep[j] * c[j];
          gf += peep[2 * H + j] * c[j];
        }
        const float it = apply_activation(act[0], clipped(gi));
        const float ft = input_forget_ ? 1.f - it : apply_activation(act[0], clipped(gf));
        const float ct = apply_activation(act[1], clipped(gc));
        const float c_new = ft * c[j] + it * ct;
        if (peep) go += peep[H + j] * c_new;
        const float ot = apply_activation(act[0], clipped(go));
        c[j] = c_new;
        h[j] = ot * apply_activation(act[2], c_new);
      }
    };
    recurrent::run(g, true, d.x, d.h0, d.c0, d.y, d.h_out, d.c_out, d.workspace, cell);
  }

  RecurrentAttrs a_;
  bool input_forget_;
  std::vector<PackedGemmWeights> packed_w_, packed_r_;  // per direction; empty: reference only
  std::vector<float> x_gates_;  // X W^T + B for every step; the op is not run concurrently
};

}  // namespace

Result<std::unique_ptr<Op>> create_lstm(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 8));
  if (ctx.node.outputs.size() > 3) return invalid_model(ctx.node.describe() + ": LSTM has at most 3 outputs");
  KILN_ASSIGN_OR_RETURN(RecurrentAttrs a, parse_recurrent_attrs(ctx, 4, {"Sigmoid", "Tanh", "Tanh"}));
  KILN_ASSIGN_OR_RETURN(int64_t input_forget, ctx.node.attr_int("input_forget", 0));
  auto op = std::make_unique<LstmOp>(std::move(a), input_forget != 0);
  const Tensor *w = ctx.constant_input(1), *r = ctx.constant_input(2), *b = ctx.constant_input(3);
  if (w && r && (b || !ctx.has_input(3))) op->pack(*w, *r, b);
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
