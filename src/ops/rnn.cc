// RNN (opsets 7..22): inputs X, W, R, B, sequence_lens, initial_h; outputs Y, Y_h.
// Attributes: hidden_size, direction, layout, activations (one per direction; default
// Tanh) with activation_alpha/beta, clip. Shared front end in ops/recurrent.h, math in
// f32-rnn-reference.cc.
#include "ops/recurrent.h"

namespace kiln {
namespace {

class RnnOp final : public Op {
 public:
  explicit RnnOp(RecurrentAttrs a) : a_(std::move(a)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    return infer_recurrent(a_, in, out);
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    return run_recurrent(a_, in, out, [&](const RecurrentDirection& d) {
      f32_rnn_reference(d.geometry, d.acts[0], d.x, d.w, d.r, d.bias, d.h0, d.y, d.h_out, d.workspace);
    });
  }

 private:
  RecurrentAttrs a_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_rnn(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 6));
  if (ctx.node.outputs.size() > 2) return invalid_model(ctx.node.describe() + ": RNN has at most 2 outputs");
  KILN_ASSIGN_OR_RETURN(RecurrentAttrs a, parse_recurrent_attrs(ctx, 1, {"Tanh"}));
  return std::unique_ptr<Op>(new RnnOp(std::move(a)));
}

}  // namespace kiln
