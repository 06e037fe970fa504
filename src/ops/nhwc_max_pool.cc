// kiln.NhwcMaxPool (graph/kiln_extensions.h): 2-D MaxPool on channels-last float32 data,
// written by the nhwc_layout pass. X [N, H, W, C] -> Y [N, OH, OW, C]; attributes as
// MaxPool (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode), no Indices output.
// Runs the f32-pool microkernels (ops/nhwc_pool_kernels.h). int8 data (the fuse_qdq pass
// passes quantized activations through, max commuting with the monotone quantization)
// runs a loop with the channels innermost.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "ops/conv_util.h"
#include "ops/nhwc_pool_kernels.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class NhwcMaxPoolOp final : public Op {
 public:
  NhwcMaxPoolOp(std::string who, WindowAttrs attrs, bool ceil_mode)
      : who_(std::move(who)), attrs_(std::move(attrs)), ceil_mode_(ceil_mode) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kI8}, who_ + "input X"));
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, nhwc_pool_geometry(attrs_, in[0].dims, ceil_mode_, who_));
    out[0].dtype = in[0].dtype;
    out[0].dims = {in[0].dims[0], g.out[0], g.out[1], in[0].dims[3]};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    const Dims& x = in[0].dims();
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, nhwc_pool_geometry(attrs_, x, ceil_mode_, who_));
    if (in[0].dtype() == DType::kI8) {
      if (out[0].dtype() != DType::kI8 || out[0].dims() != Dims{x[0], g.out[0], g.out[1], x[3]})
        return internal_error(who_ + "output buffer is " + dtype_name(out[0].dtype()) + dims_to_string(out[0].dims()) +
                              ", expected int8 like X");
      s8_max_pool(g, static_cast<size_t>(x[3]), in[0].data<int8_t>(), out[0].mutable_data<int8_t>());
      return Status::Ok();
    }
    KILN_RETURN_IF_ERROR(check_output(out[0], {x[0], g.out[0], g.out[1], x[3]}, who_));
    if (use_reference_kernels()) {
      f32_maxpool_nhwc_reference(g, static_cast<size_t>(x[3]), in[0].data<float>(), out[0].mutable_data<float>());
      return Status::Ok();
    }
    kernels_.max_pool(g, static_cast<size_t>(x[3]), in[0].data<float>(), out[0].mutable_data<float>());
    return Status::Ok();
  }

 private:
  // Every window touches the input (nhwc_pool_geometry rejects pads >= kernel).
  static void s8_max_pool(const PoolGeometry& g, size_t c, const int8_t* x, int8_t* y) {
    const size_t images = g.planes;
    for (size_t b = 0; b < images; ++b)
      for (int64_t oh = 0; oh < g.out[0]; ++oh)
        for (int64_t ow = 0; ow < g.out[1]; ++ow) {
          int8_t* yp = y + ((b * static_cast<size_t>(g.out[0]) + static_cast<size_t>(oh)) * static_cast<size_t>(g.out[1]) +
                            static_cast<size_t>(ow)) * c;
          std::memset(yp, -128, c);
          for (int64_t kh = 0; kh < g.kernel[0]; ++kh) {
            const int64_t ih = oh * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
            if (ih < 0 || ih >= g.in[0]) continue;
            for (int64_t kw = 0; kw < g.kernel[1]; ++kw) {
              const int64_t iw = ow * g.stride[1] - g.pad_begin[1] + kw * g.dilation[1];
              if (iw < 0 || iw >= g.in[1]) continue;
              const int8_t* xp = x + ((b * static_cast<size_t>(g.in[0]) + static_cast<size_t>(ih)) * static_cast<size_t>(g.in[1]) +
                                      static_cast<size_t>(iw)) * c;
              for (size_t j = 0; j < c; ++j) yp[j] = std::max(yp[j], xp[j]);
            }
          }
        }
  }

  std::string who_;
  WindowAttrs attrs_;
  bool ceil_mode_;
  NhwcPoolKernels kernels_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_nhwc_max_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  const std::string who = prefix(ctx.node);
  if (ctx.node.outputs.size() != 1) return invalid_model(who + "has exactly one output (no Indices)");
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  if (attrs.kernel_shape.empty()) return invalid_model(who + "required attribute 'kernel_shape' is missing");
  KILN_ASSIGN_OR_RETURN(int64_t ceil_mode, ctx.node.attr_int("ceil_mode", 0));
  return std::unique_ptr<Op>(new NhwcMaxPoolOp(who, std::move(attrs), ceil_mode != 0));
}

}  // namespace kiln
