// kiln.Affine (kiln's own op, graph/kiln_extensions.h): Y = X * scale + bias with numpy
// broadcasting of all three (exactly the Mul then Add it replaces), then an optional fused
// activation. Written by the optimizer for a Mul by a constant followed by an Add of one.
#include "ops/elementwise.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class AffineOp final : public Op {
 public:
  AffineOp(std::string who, FusedActivation act) : who_(std::move(who)), act_(act) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    static const char* kNames[] = {"X", "scale", "bias"};
    for (size_t i = 0; i < 3; ++i) KILN_RETURN_IF_ERROR(expect_f32(in, i, who_, kNames[i]));
    KILN_ASSIGN_OR_RETURN(out[0].dims, broadcast_all({&in[0].dims, &in[1].dims, &in[2].dims}, who_ + "X, scale and bias"));
    out[0].dtype = DType::kF32;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    KILN_ASSIGN_OR_RETURN(Dims yd, broadcast_all({&in[0].dims(), &in[1].dims(), &in[2].dims()}, who_ + "X, scale and bias"));
    KILN_RETURN_IF_ERROR(check_output(out[0], yd, who_));
    const BroadcastPlan plan = make_broadcast_plan(yd, {&in[0].dims(), &in[1].dims(), &in[2].dims()});
    const float *x = in[0].data<float>(), *s = in[1].data<float>(), *b = in[2].data<float>();
    float* y = out[0].mutable_data<float>();
    for_each_run(plan, [&](const int64_t* off, int64_t o, int64_t n, const int64_t* st) {
      const float *xr = x + off[0], *sr = s + off[1], *br = b + off[2];
      float* yr = y + o;
      // Two roundings (multiply, then add), as the Mul and Add it replaces.
      if (st[0] == 1 && st[1] == 0 && st[2] == 0) {  // per-channel / scalar constants: the common case
        const float sv = *sr, bv = *br;
        for (int64_t i = 0; i < n; ++i) {
          const float p = xr[i] * sv;
          yr[i] = p + bv;
        }
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        const float p = xr[i * st[0]] * sr[i * st[1]];
        yr[i] = p + br[i * st[2]];
      }
    });
    apply_fused_activation(act_, y, out[0].size());
    return Status::Ok();
  }

 private:
  std::string who_;
  FusedActivation act_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_affine(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  return std::unique_ptr<Op>(new AffineOp(prefix(ctx.node), act));
}

}  // namespace kiln
