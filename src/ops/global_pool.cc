// GlobalAveragePool and GlobalMaxPool (opsets 1..22): one value per (batch, channel) over
// all spatial dims; output [N, C, 1, ...]. The two differ only in the reference kernel.
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

using GlobalPoolKernel = void (*)(size_t planes, size_t plane_size, const float* x, float* y);

class GlobalPoolOp final : public Op {
 public:
  GlobalPoolOp(std::string who, GlobalPoolKernel kernel) : who_(std::move(who)), kernel_(kernel) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(check_rank(in[0].dims));
    out[0].dtype = DType::kF32;
    out[0].dims = output_dims(in[0].dims);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    const Dims& x = in[0].dims();
    KILN_RETURN_IF_ERROR(check_rank(x));
    KILN_RETURN_IF_ERROR(check_output(out[0], output_dims(x), who_));
    const int64_t planes = x[0] * x[1];
    const int64_t plane_size = planes ? in[0].size() / planes : 0;
    kernel_(static_cast<size_t>(planes), static_cast<size_t>(plane_size), in[0].data<float>(),
            out[0].mutable_data<float>());
    return Status::Ok();
  }

 private:
  Status check_rank(const Dims& x) const {
    if (x.size() < 2)
      return invalid_argument(who_ + "input X must have rank >= 2 (N, C, spatial...), got " + dims_to_string(x));
    return Status::Ok();
  }
  static Dims output_dims(const Dims& x) {
    Dims d(x.size(), 1);
    d[0] = x[0];
    d[1] = x[1];
    return d;
  }
  std::string who_;
  GlobalPoolKernel kernel_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_global_average_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new GlobalPoolOp(prefix(ctx.node), &f32_global_avgpool_reference));
}

Result<std::unique_ptr<Op>> create_global_max_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new GlobalPoolOp(prefix(ctx.node), &f32_global_maxpool_reference));
}

}  // namespace kiln
