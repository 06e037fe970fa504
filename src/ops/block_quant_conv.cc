// kiln.BlockQuantConv (graph/kiln_extensions.h): a channels-last convolution (group 1) with
// int4 block-quantized weights. Each output pixel's window is gathered into a row of
// kh * kw * C floats (im2col, zeros in the padding; k ordered (tap row, tap column,
// channel)), rows are quantized to int8 one pixel at a time, and the qd8-f32-qb4w GEMM
// multiplies them by the packed weights: the block scales stay exact along K, which an
// int4 -> int8 per-channel unpack at load would lose. Written by `kiln compress --int4`.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"
#include "ops/conv_util.h"
#include "ops/fused_activation.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "ops/qb4w_rows.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h, ops/conv_util.h)
namespace {

class BlockQuantConvOp final : public Op {
 public:
  BlockQuantConvOp(std::string who, NhwcConvAttrs attrs, FusedActivation act, bool min)
      : who_(std::move(who)), attrs_(std::move(attrs)), act_(act), min_(min), kern_(qb4w_layer_gemm_kernel(min)) {
    act_ = split_clamp(act_, &minmax_.min, &minmax_.max);
  }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kU8}, who_ + "input W"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[2], {DType::kF16}, who_ + "input W_scale"));
    const bool has_bias = input_present(in, 3);
    if (has_bias) KILN_RETURN_IF_ERROR(expect_f32(in, 3, who_, "bias"));
    if (input_present(in, 4) != min_) return invalid_argument(who_ + "W_min must stay present or absent as at create");
    if (min_) {
      KILN_RETURN_IF_ERROR(expect_dtype(in[4], {DType::kF16}, who_ + "input W_min"));
      if (in[4].dims != in[2].dims)
        return invalid_argument(who_ + "W_min must have W_scale's shape " + dims_to_string(in[2].dims) + ", got " +
                                dims_to_string(in[4].dims));
    }
    KILN_ASSIGN_OR_RETURN(ConvGeometry g, geometry(in[0].dims, in[1].dims, in[2].dims, has_bias ? &in[3].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = nhwc_conv_output_dims(g);
    return Status::Ok();
  }

  void pack_constant(const Tensor& w, const Tensor& scale, const Tensor* bias, const Tensor* min) {
    packed_ = pack_qb4w(kern_, w, scale, bias, min);
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 3, out.size(), 1, who_));
    const bool has_bias = input_present(in, 3);
    KILN_ASSIGN_OR_RETURN(ConvGeometry g,
                          geometry(in[0].dims(), in[1].dims(), in[2].dims(), has_bias ? &in[3].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], nhwc_conv_output_dims(g), who_));
    const size_t c = g.group_in, m = g.group_out, kh = static_cast<size_t>(g.kernel[0]),
                 kw = static_cast<size_t>(g.kernel[1]);
    const size_t k = kh * kw * c;
    const size_t pixels = static_cast<size_t>(g.out[0] * g.out[1]);
    if (pixels == 0 || m == 0) return Status::Ok();
    const Tensor* bias = has_bias ? &in[3] : nullptr;
    if (input_present(in, 4) != min_) return invalid_argument(who_ + "W_min must stay present or absent as at create");
    if (min_ && (in[4].dtype() != DType::kF16 || in[4].dims() != in[2].dims()))
      return invalid_argument(who_ + "W_min must be float16 with W_scale's shape " + dims_to_string(in[2].dims()) +
                              ", got " + dims_to_string(in[4].dims()));
    const Tensor* min = min_ ? &in[4] : nullptr;
    const bool reference = use_reference_kernels();
    std::vector<int32_t> run_packed;  // weights computed at run time: packed per run
    if (!reference && packed_.empty()) run_packed = pack_qb4w(kern_, in[1], in[2], bias, min);
    const int32_t* packed = packed_.empty() ? run_packed.data() : packed_.data();
    std::vector<float> rows(pixels * k);
    const float* x = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    const int64_t ih = g.in[0], iw = g.in[1];
    for (size_t b = 0; b < g.batch; ++b) {
      // im2col: row (oy, ox), k = (i * kw + j) * C + channel; zeros where the tap is padding.
      for (int64_t oy = 0; oy < g.out[0]; ++oy)
        for (int64_t ox = 0; ox < g.out[1]; ++ox) {
          float* row = rows.data() + static_cast<size_t>(oy * g.out[1] + ox) * k;
          for (size_t i = 0; i < kh; ++i)
            for (size_t j = 0; j < kw; ++j) {
              const int64_t yy = oy * g.stride[0] - g.pad_begin[0] + static_cast<int64_t>(i) * g.dilation[0];
              const int64_t xx = ox * g.stride[1] - g.pad_begin[1] + static_cast<int64_t>(j) * g.dilation[1];
              float* dst = row + (i * kw + j) * c;
              if (yy < 0 || yy >= ih || xx < 0 || xx >= iw)
                std::fill(dst, dst + c, 0.f);
              else
                std::memcpy(dst, x + ((static_cast<int64_t>(b) * ih + yy) * iw + xx) * static_cast<int64_t>(c),
                            c * sizeof(float));
            }
        }
      qb4w_rows(pixels, k, rows.data(), in[1], in[2], bias, kern_, packed, minmax_, y + b * pixels * m, reference,
                min);
    }
    apply_fused_activation(act_, y, out[0].size());
    return Status::Ok();
  }

 private:
  // The weights' [M, C, kh, kw] come from X's channels and kernel_shape (required here).
  Result<ConvGeometry> geometry(const Dims& x, const Dims& w, const Dims& scale, const Dims* bias) const {
    if (x.size() != 4) return invalid_argument(who_ + "input X must be 4-D [N, H, W, C], got " + dims_to_string(x));
    if (w.size() != 2) return invalid_argument(who_ + "W must be 2-D [M, ceil(kH*kW*C/32)*16], got " + dims_to_string(w));
    const std::vector<int64_t>& ks = attrs_.window.kernel_shape;
    const int64_t k = ks[0] * ks[1] * x[3];
    if (static_cast<int64_t>(qb4w_row_bytes(static_cast<size_t>(k))) != w[1])
      return invalid_argument(who_ + "X " + dims_to_string(x) + " with kernel " + dims_to_string(ks) +
                              " needs W rows of ceil(kH*kW*C/32)*16 = " + std::to_string(qb4w_row_bytes(static_cast<size_t>(k))) +
                              " bytes, W is " + dims_to_string(w));
    if (scale != Dims{w[0], w[1] / 16})
      return invalid_argument(who_ + "W_scale must have shape [" + std::to_string(w[0]) + ", " +
                              std::to_string(w[1] / 16) + "], got " + dims_to_string(scale));
    return nhwc_conv_geometry(attrs_, x, Dims{w[0], x[3], ks[0], ks[1]}, {{"bias B", bias}}, who_);
  }

  std::string who_;
  NhwcConvAttrs attrs_;
  FusedActivation act_;
  F32MinMax minmax_;
  bool min_;  // the asymmetric form (input 4, W_min)
  const QB4WGemmKernel& kern_;
  std::vector<int32_t> packed_;  // constant weights, packed at create
};

}  // namespace

Result<std::unique_ptr<Op>> create_block_quant_conv(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 5));
  KILN_ASSIGN_OR_RETURN(NhwcConvAttrs attrs, parse_nhwc_conv_attrs(ctx.node));
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  if (attrs.group != 1) return invalid_model(prefix(ctx.node) + "group must be 1, got " + std::to_string(attrs.group));
  if (attrs.window.kernel_shape.size() != 2)
    return invalid_model(prefix(ctx.node) + "kernel_shape must be given as [kH, kW]");
  const bool want_min = ctx.has_input(4);
  auto op = std::make_unique<BlockQuantConvOp>(prefix(ctx.node), std::move(attrs), act, want_min);
  const Tensor* w = ctx.constant_input(1);
  const Tensor* scale = ctx.constant_input(2);
  const Tensor* bias = ctx.constant_input(3);
  const Tensor* min = ctx.constant_input(4);
  if (w && scale && (bias || !ctx.has_input(3)) && (min || !want_min)) {
    KILN_RETURN_IF_ERROR(check_qb4w_constants(prefix(ctx.node), *w, *scale, bias, "[M, ceil(kH*kW*C/32)*16]", min));
    op->pack_constant(*w, *scale, bias, min);
  }
  return std::unique_ptr<Op>(std::move(op));
}

}  // namespace kiln
