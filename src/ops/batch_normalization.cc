// BatchNormalization, inference form (opsets 1..15): y = (x - mean) / sqrt(var + eps)
// * scale + B per channel, folded into one scale and shift per channel at run time.
// Opsets < 9 with spatial=0 normalize per activation (parameters shaped like X[1:]).
// Training mode and its extra outputs are rejected.
#include <cmath>

#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class BatchNormOp final : public Op {
 public:
  BatchNormOp(std::string who, float epsilon, bool spatial) : who_(std::move(who)), epsilon_(epsilon), spatial_(spatial) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 5, out.size(), 1, who_));
    static const char* kNames[] = {"X", "scale", "B", "input_mean", "input_var"};
    for (size_t i = 0; i < 5; ++i) KILN_RETURN_IF_ERROR(expect_f32(in, i, who_, kNames[i]));
    KILN_RETURN_IF_ERROR(check_shapes(in[0].dims, {in[1].dims, in[2].dims, in[3].dims, in[4].dims}));
    out[0].dtype = DType::kF32;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 5, out.size(), 1, who_));
    const Dims& x = in[0].dims();
    KILN_RETURN_IF_ERROR(check_shapes(x, {in[1].dims(), in[2].dims(), in[3].dims(), in[4].dims()}));
    KILN_RETURN_IF_ERROR(check_output(out[0], x, who_));
    if (in[0].size() == 0) return Status::Ok();
    const size_t channels = static_cast<size_t>(in[1].size());
    const size_t outer = static_cast<size_t>(x[0]);
    const size_t inner = static_cast<size_t>(in[0].size() / x[0] / static_cast<int64_t>(channels));
    std::vector<float> scale(channels), shift(channels);
    const float *s = in[1].data<float>(), *b = in[2].data<float>(), *mean = in[3].data<float>(),
                *var = in[4].data<float>();
    for (size_t c = 0; c < channels; ++c) {
      const double a = s[c] / std::sqrt(static_cast<double>(var[c]) + epsilon_);
      scale[c] = static_cast<float>(a);
      shift[c] = static_cast<float>(b[c] - mean[c] * a);
    }
    f32_channel_affine_reference(outer, channels, inner, in[0].data<float>(), scale.data(), shift.data(),
                                 out[0].mutable_data<float>());
    return Status::Ok();
  }

 private:
  Status check_shapes(const Dims& x, std::initializer_list<Dims> params) const {
    if (x.size() < 2)
      return invalid_argument(who_ + "input X must have rank >= 2 (N, C, ...), got " + dims_to_string(x));
    // Per channel: [C]. Per activation (spatial=0): X's dims after the batch.
    const Dims want = spatial_ ? Dims{x[1]} : dims_slice(x, 1, x.size());
    static const char* kNames[] = {"scale", "B", "input_mean", "input_var"};
    size_t i = 0;
    for (const Dims& p : params) {
      if (p != want)
        return invalid_argument(who_ + kNames[i] + " must have shape " + dims_to_string(want) + " for X " +
                                dims_to_string(x) + ", got " + dims_to_string(p));
      ++i;
    }
    return Status::Ok();
  }

  std::string who_;
  float epsilon_;
  bool spatial_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_batch_normalization(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 5, 5));
  const std::string who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(float epsilon, ctx.node.attr_float("epsilon", 1e-5f));
  KILN_ASSIGN_OR_RETURN(int64_t training, ctx.node.attr_int("training_mode", 0));
  if (training != 0) return unsupported(who + "training_mode=1 is not supported (inference only)");
  for (size_t i = 1; i < ctx.node.outputs.size(); ++i)
    if (output_wanted(ctx.node, i))
      return unsupported(who + "training outputs (running mean/var, saved mean/var) are not supported");
  int64_t spatial = 1;
  if (ctx.opset < 9) {
    KILN_ASSIGN_OR_RETURN(spatial, ctx.node.attr_int("spatial", 1));
  }
  if (!(epsilon >= 0.f)) return invalid_model(who + "epsilon must be non-negative, got " + std::to_string(epsilon));
  return std::unique_ptr<Op>(new BatchNormOp(who, epsilon, spatial != 0));
}

}  // namespace kiln
