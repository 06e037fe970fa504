// InstanceNormalization (opsets 1..22): per (batch, channel) plane,
// y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c].
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class InstanceNormOp final : public Op {
 public:
  InstanceNormOp(std::string who, float epsilon) : who_(std::move(who)), epsilon_(epsilon) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "input"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "scale"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "B"));
    KILN_RETURN_IF_ERROR(check_shapes(in[0].dims, in[1].dims, in[2].dims));
    out[0].dtype = DType::kF32;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    const Dims& x = in[0].dims();
    KILN_RETURN_IF_ERROR(check_shapes(x, in[1].dims(), in[2].dims()));
    KILN_RETURN_IF_ERROR(check_output(out[0], x, who_));
    if (in[0].size() == 0) return Status::Ok();
    const int64_t plane = in[0].size() / (x[0] * x[1]);
    f32_instancenorm_reference(static_cast<size_t>(x[0]), static_cast<size_t>(x[1]), static_cast<size_t>(plane),
                               in[0].data<float>(), in[1].data<float>(), in[2].data<float>(), epsilon_,
                               out[0].mutable_data<float>());
    return Status::Ok();
  }

 private:
  Status check_shapes(const Dims& x, const Dims& scale, const Dims& bias) const {
    if (x.size() < 3)
      return invalid_argument(who_ + "input must have rank >= 3 (N, C, spatial...), got " + dims_to_string(x));
    if (scale != Dims{x[1]} || bias != Dims{x[1]})
      return invalid_argument(who_ + "scale " + dims_to_string(scale) + " and B " + dims_to_string(bias) +
                              " must both have shape [" + std::to_string(x[1]) + "]");
    return Status::Ok();
  }
  std::string who_;
  float epsilon_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_instance_normalization(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_ASSIGN_OR_RETURN(float epsilon, ctx.node.attr_float("epsilon", 1e-5f));
  if (!(epsilon >= 0.f))
    return invalid_model(prefix(ctx.node) + "epsilon must be non-negative, got " + std::to_string(epsilon));
  return std::unique_ptr<Op>(new InstanceNormOp(prefix(ctx.node), epsilon));
}

}  // namespace kiln
