// Relu: y = max(x, 0). Sample of the op file shape: factory validates, infer, run.
#include "ops/op.h"

namespace kiln {
namespace {

class ReluOp final : public Op {
 public:
  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32}, "input X"));
    out[0].dtype = in[0].dtype;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }
  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const float* x = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    for (int64_t i = 0, n = in[0].size(); i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
    return Status::Ok();
  }
};

}  // namespace

Result<std::unique_ptr<Op>> create_relu(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new ReluOp());
}

}  // namespace kiln
