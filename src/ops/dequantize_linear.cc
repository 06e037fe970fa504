// DequantizeLinear (opsets 10..21): y = (x - zero_point) * scale, per tensor, per axis
// (13+) or blocked (21+); x int8/uint8/int16/uint16/int32, scale float32.
#include "ops/elementwise.h"
#include "ops/quant_util.h"

namespace kiln {
namespace {

class DequantizeLinearOp final : public Op {
 public:
  DequantizeLinearOp(std::string who, int64_t axis, int64_t block_size)
      : who_(std::move(who)), axis_(axis), block_size_(block_size) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": x and x_scale are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kI8, DType::kU8, DType::kI16, DType::kU16, DType::kI32}, who_ + " input x"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kF32}, who_ + " input x_scale"));
    const bool zp = has_in(in, 2);
    if (zp && in[2].dtype != in[0].dtype)
      return invalid_model(who_ + ": zero point dtype " + dtype_name(in[2].dtype) + " differs from x's " +
                           dtype_name(in[0].dtype));
    KILN_RETURN_IF_ERROR(make_quant_plan(in[0].dims, in[1].dims, zp ? &in[2].dims : nullptr, axis_, block_size_, who_).status());
    out[0].dtype = DType::kF32;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const bool zp = has_in(in, 2);
    KILN_ASSIGN_OR_RETURN(QuantPlan p, make_quant_plan(in[0].dims(), in[1].dims(), zp ? &in[2].dims() : nullptr,
                                                       axis_, block_size_, who_));
    const float* scale = in[1].data<float>();
    float* y = out[0].mutable_data<float>();
    if (in[0].dtype() == DType::kI8 && in[1].size() == 1 && (!zp || in[2].size() == 1)) {
      // Per-tensor int8 (static int8 activations): the same formula without the index math.
      const int8_t* x = in[0].data<int8_t>();
      const int32_t z = zp ? in[2].data<int8_t>()[0] : 0;
      const float s = scale[0];
      const int64_t n = in[0].size();
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] - z) * s;
      return Status::Ok();
    }
    for (int64_t i = 0; i < in[0].size(); ++i) {
      const int64_t s = p.scale_index(i);
      const int64_t z = zp ? in[2].get_i64(s) : 0;
      // The difference is exact in int64; one rounding to float, as in ONNX's reference.
      y[i] = static_cast<float>(in[0].get_i64(i) - z) * scale[s];
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_, block_size_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_dequantize_linear(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 1));
  KILN_ASSIGN_OR_RETURN(int64_t block_size, ctx.node.attr_int("block_size", 0));
  if (block_size < 0) return invalid_model(ctx.node.describe() + ": block_size must be >= 0");
  return std::unique_ptr<Op>(new DequantizeLinearOp(ctx.node.describe(), axis, block_size));
}

}  // namespace kiln
