// LSTM (opsets 7..22): inputs X, W, R, B, sequence_lens, initial_h, initial_c, P;
// outputs Y, Y_h, Y_c. Attributes: hidden_size, direction, layout, activations (f, g, h
// per direction; default Sigmoid, Tanh, Tanh) with activation_alpha/beta, clip,
// input_forget. Shared front end in ops/recurrent.h, math in f32-lstm-reference.cc.
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
      f32_lstm_reference(d.geometry, d.acts, input_forget_, d.x, d.w, d.r, d.bias, d.peephole, d.h0, d.c0, d.y,
                         d.h_out, d.c_out, d.workspace);
    });
  }

 private:
  RecurrentAttrs a_;
  bool input_forget_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_lstm(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 8));
  if (ctx.node.outputs.size() > 3) return invalid_model(ctx.node.describe() + ": LSTM has at most 3 outputs");
  KILN_ASSIGN_OR_RETURN(RecurrentAttrs a, parse_recurrent_attrs(ctx, 4, {"Sigmoid", "Tanh", "Tanh"}));
  KILN_ASSIGN_OR_RETURN(int64_t input_forget, ctx.node.attr_int("input_forget", 0));
  return std::unique_ptr<Op>(new LstmOp(std::move(a), input_forget != 0));
}

}  // namespace kiln
