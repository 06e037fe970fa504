// QuantizeLinear (opsets 10..21): y = saturate(round_half_even(x / scale) + zero_point),
// per tensor, per axis (13+) or blocked (21+). The output dtype is the zero point's, else
// the output_dtype attribute (21+), else uint8: int8, uint8, int16 or uint16.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"
#include "ops/elementwise.h"
#include "ops/packed_gemm.h"  // use_reference_kernels()
#include "ops/quant_util.h"

namespace kiln {
namespace {

template <class T>
void quantize(const float* x, const float* scale, const Tensor* zp, const QuantPlan& p, int64_t n, T* y) {
  constexpr double lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = p.scale_index(i);
    // Divide in float32 as the spec's reference and ONNX Runtime do (a double quotient can
    // fall just below a float .5 tie); nearbyint rounds half to even; NaN saturates to 0.
    double q = std::nearbyint(x[i] / scale[s]);
    if (std::isnan(q)) q = 0;
    q += zp ? static_cast<double>(zp->get_i64(s)) : 0.0;
    y[i] = static_cast<T>(std::min(std::max(q, lo), hi));
  }
}

class QuantizeLinearOp final : public Op {
 public:
  QuantizeLinearOp(std::string who, int64_t axis, int64_t block_size, DType out_dtype)
      : who_(std::move(who)), axis_(axis), block_size_(block_size), out_dtype_(out_dtype) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": x and y_scale are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32}, who_ + " input x"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kF32}, who_ + " input y_scale"));
    const bool zp = has_in(in, 2);
    DType dt = out_dtype_ == DType::kUndefined ? DType::kU8 : out_dtype_;
    if (zp) {
      if (out_dtype_ != DType::kUndefined && in[2].dtype != out_dtype_)
        return invalid_model(who_ + ": output_dtype " + dtype_name(out_dtype_) + " differs from the zero point's " +
                             dtype_name(in[2].dtype));
      dt = in[2].dtype;
    }
    if (dt != DType::kI8 && dt != DType::kU8 && dt != DType::kI16 && dt != DType::kU16)
      return unsupported(who_ + ": quantizing to " + dtype_name(dt) + " is not supported (int8, uint8, int16, uint16 are)");
    KILN_RETURN_IF_ERROR(make_quant_plan(in[0].dims, in[1].dims, zp ? &in[2].dims : nullptr, axis_, block_size_, who_).status());
    out[0].dtype = dt;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const bool zp = has_in(in, 2);
    KILN_ASSIGN_OR_RETURN(QuantPlan p, make_quant_plan(in[0].dims(), in[1].dims(), zp ? &in[2].dims() : nullptr,
                                                       axis_, block_size_, who_));
    const float* x = in[0].data<float>();
    const float* s = in[1].data<float>();
    const Tensor* z = zp ? &in[2] : nullptr;
    const int64_t n = in[0].size();
    if (out[0].dtype() == DType::kI8 && in[1].size() == 1 && (!z || z->size() == 1)) {
      // Per-tensor int8 (static int8 activations): the same result, clamped before an
      // inline round half to even, without the index math.
      const float sc = s[0], zero = z ? static_cast<float>(z->data<int8_t>()[0]) : 0.f;
      int8_t* y = out[0].mutable_data<int8_t>();
      if (!use_reference_kernels()) {  // the f32-qs8-vcvt kernels: the same formula, bit-exact
        f32_qs8_vcvt_default_kernel().fn(static_cast<size_t>(n), x, y, F32QS8CvtParams{sc, static_cast<int32_t>(zero)});
        return Status::Ok();
      }
      // Staged through int32 so both loops vectorize (an int8 store may alias the input).
      const float lo = -128.f - zero, hi = 127.f - zero;
      const int32_t zi = static_cast<int32_t>(zero);
      constexpr int64_t kChunk = 256;
      alignas(64) int32_t r[kChunk];
      for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
        const int64_t c = std::min(kChunk, n - i0);
        const float* __restrict xs = x + i0;
        for (int64_t j = 0; j < c; ++j) {
          // NaN (which the clamp passes through) goes to the zero point by masking the
          // rounded bits, not by a select: GCC leaves a float select scalar (no -ffast-math).
          const float q = std::min(std::max(xs[j] / sc, lo), hi);
          r[j] = round_half_even_small(q) & -static_cast<int32_t>(q == q);
        }
        int8_t* __restrict ys = y + i0;
        for (int64_t j = 0; j < c; ++j) ys[j] = static_cast<int8_t>(r[j] + zi);
      }
      return Status::Ok();
    }
    switch (out[0].dtype()) {
      case DType::kI8: quantize(x, s, z, p, n, out[0].mutable_data<int8_t>()); break;
      case DType::kU8: quantize(x, s, z, p, n, out[0].mutable_data<uint8_t>()); break;
      case DType::kI16: quantize(x, s, z, p, n, out[0].mutable_data<int16_t>()); break;
      case DType::kU16: quantize(x, s, z, p, n, out[0].mutable_data<uint16_t>()); break;
      default: return internal_error(who_ + ": unexpected output dtype");
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t axis_, block_size_;
  DType out_dtype_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_quantize_linear(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 1));
  KILN_ASSIGN_OR_RETURN(int64_t block_size, ctx.node.attr_int("block_size", 0));
  KILN_ASSIGN_OR_RETURN(int64_t saturate, ctx.node.attr_int("saturate", 1));
  (void)saturate;  // only meaningful for float8 outputs, which kiln does not produce
  KILN_ASSIGN_OR_RETURN(int64_t out_dtype, ctx.node.attr_int("output_dtype", 0));
  if (block_size < 0) return invalid_model(ctx.node.describe() + ": block_size must be >= 0");
  if (out_dtype < 0 || out_dtype > 13)
    return unsupported(ctx.node.describe() + ": output_dtype " + std::to_string(out_dtype) + " is not supported");
  return std::unique_ptr<Op>(new QuantizeLinearOp(ctx.node.describe(), axis, block_size, static_cast<DType>(out_dtype)));
}

}  // namespace kiln
