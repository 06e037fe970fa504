// GRU (opsets 7..22): inputs X, W, R, B, sequence_lens, initial_h; outputs Y, Y_h.
// Attributes: hidden_size, direction, layout, activations (f, g per direction; default
// Sigmoid, Tanh) with activation_alpha/beta, clip, linear_before_reset. Shared front end
// in ops/recurrent.h, math in f32-gru-reference.cc.
#include "ops/recurrent.h"

namespace kiln {
namespace {

class GruOp final : public Op {
 public:
  GruOp(RecurrentAttrs a, bool linear_before_reset) : a_(std::move(a)), linear_before_reset_(linear_before_reset) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    return infer_recurrent(a_, in, out);
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    return run_recurrent(a_, in, out, [&](const RecurrentDirection& d) {
      f32_gru_reference(d.geometry, d.acts, linear_before_reset_, d.x, d.w, d.r, d.bias, d.h0, d.y, d.h_out,
                        d.workspace);
    });
  }

 private:
  RecurrentAttrs a_;
  bool linear_before_reset_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_gru(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 6));
  if (ctx.node.outputs.size() > 2) return invalid_model(ctx.node.describe() + ": GRU has at most 2 outputs");
  KILN_ASSIGN_OR_RETURN(RecurrentAttrs a, parse_recurrent_attrs(ctx, 3, {"Sigmoid", "Tanh"}));
  KILN_ASSIGN_OR_RETURN(int64_t lbr, ctx.node.attr_int("linear_before_reset", 0));
  return std::unique_ptr<Op>(new GruOp(std::move(a), lbr != 0));
}

}  // namespace kiln
