// DynamicQuantizeLinear (opset 11): uint8 quantization of x with a scale and zero point
// computed from x itself, exactly as the spec writes it, all in float32:
//   x_min = min(0, min(x)), x_max = max(0, max(x)), y_scale = (x_max - x_min) / 255,
//   y_zero_point = saturate(round(0 - x_min / y_scale)), y = saturate(round(x / y_scale) + y_zero_point),
// rounding half to even. An all-zero x (x_max == x_min) gets y_scale 1 rather than 0 (as ONNX
// Runtime does) so nothing divides by zero; NaNs are skipped by min/max and quantize to y_zero_point.
#include <cmath>

#include "ops/nn_util.h"
#include "ops/op.h"

namespace kiln {

using namespace nn;  // NOLINT: ops/nn_util.h helpers
namespace {

class DynamicQuantizeLinearOp final : public Op {
 public:
  explicit DynamicQuantizeLinearOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 3, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "x"));
    out[0].dtype = DType::kU8, out[0].dims = in[0].dims;
    out[1].dtype = DType::kF32, out[1].dims = {};
    out[2].dtype = DType::kU8, out[2].dims = {};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const float* x = in[0].data<float>();
    const int64_t n = in[0].size();
    float lo = 0.f, hi = 0.f;  // the range always includes 0, so 0 is exactly representable
    for (int64_t i = 0; i < n; ++i) {
      if (x[i] < lo) lo = x[i];
      if (x[i] > hi) hi = x[i];
    }
    float scale = (hi - lo) / 255.f;
    if (!(scale > 0.f) || std::isinf(scale)) scale = hi == lo ? 1.f : scale;
    const float zpf = std::fmin(std::fmax(std::nearbyint(0.f - lo / scale), 0.f), 255.f);
    uint8_t* y = out[0].mutable_data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) {
      const float q = std::nearbyint(x[i] / scale);
      y[i] = static_cast<uint8_t>(std::isnan(q) ? zpf : std::fmin(std::fmax(q + zpf, 0.f), 255.f));
    }
    if (out.size() > 1 && out[1].defined()) out[1].mutable_data<float>()[0] = scale;
    if (out.size() > 2 && out[2].defined()) out[2].mutable_data<uint8_t>()[0] = static_cast<uint8_t>(zpf);
    return Status::Ok();
  }

 private:
  std::string who_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_dynamic_quantize_linear(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new DynamicQuantizeLinearOp(prefix(ctx.node)));
}

}  // namespace kiln
