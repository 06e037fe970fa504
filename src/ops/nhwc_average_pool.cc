// kiln.NhwcAveragePool (graph/kiln_extensions.h): 2-D AveragePool on channels-last float32 data,
// written by the nhwc_layout pass. X [N, H, W, C] -> Y [N, OH, OW, C]; attributes as
// AveragePool (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode,
// count_include_pad). Runs the f32-pool microkernels (ops/nhwc_pool_kernels.h).
#include "ops/conv_util.h"
#include "ops/nhwc_pool_kernels.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class NhwcAveragePoolOp final : public Op {
 public:
  NhwcAveragePoolOp(std::string who, WindowAttrs attrs, bool ceil_mode, bool count_include_pad)
      : who_(std::move(who)), attrs_(std::move(attrs)), ceil_mode_(ceil_mode), count_include_pad_(count_include_pad) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, nhwc_pool_geometry(attrs_, in[0].dims, ceil_mode_, who_));
    out[0].dtype = DType::kF32;
    out[0].dims = {in[0].dims[0], g.out[0], g.out[1], in[0].dims[3]};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    const Dims& x = in[0].dims();
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, nhwc_pool_geometry(attrs_, x, ceil_mode_, who_));
    KILN_RETURN_IF_ERROR(check_output(out[0], {x[0], g.out[0], g.out[1], x[3]}, who_));
    if (use_reference_kernels()) {
      f32_avgpool_nhwc_reference(g, static_cast<size_t>(x[3]), count_include_pad_, in[0].data<float>(),
                                 out[0].mutable_data<float>());
      return Status::Ok();
    }
    kernels_.average_pool(g, static_cast<size_t>(x[3]), count_include_pad_, in[0].data<float>(),
                          out[0].mutable_data<float>());
    return Status::Ok();
  }

 private:
  std::string who_;
  WindowAttrs attrs_;
  bool ceil_mode_, count_include_pad_;
  NhwcPoolKernels kernels_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_nhwc_average_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  const std::string who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  if (attrs.kernel_shape.empty()) return invalid_model(who + "required attribute 'kernel_shape' is missing");
  KILN_ASSIGN_OR_RETURN(int64_t ceil_mode, ctx.node.attr_int("ceil_mode", 0));
  KILN_ASSIGN_OR_RETURN(int64_t count_include_pad, ctx.node.attr_int("count_include_pad", 0));
  return std::unique_ptr<Op>(new NhwcAveragePoolOp(who, std::move(attrs), ceil_mode != 0, count_include_pad != 0));
}

}  // namespace kiln
