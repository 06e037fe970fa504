// MaxPool (opsets 1..22): N-D, strides, pads / auto_pad, dilations and ceil_mode (10+).
// The optional Indices output is not supported (rejected at creation).
#include "ops/conv_util.h"
#include "ops/op.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class MaxPoolOp final : public Op {
 public:
  MaxPoolOp(std::string who, WindowAttrs attrs, bool ceil_mode)
      : who_(std::move(who)), attrs_(std::move(attrs)), ceil_mode_(ceil_mode) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(attrs_, in[0].dims, ceil_mode_, who_));
    out[0].dtype = DType::kF32;
    out[0].dims = output_dims(in[0].dims, g);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(attrs_, in[0].dims(), ceil_mode_, who_));
    KILN_RETURN_IF_ERROR(check_output(out[0], output_dims(in[0].dims(), g), who_));
    f32_maxpool_reference(g, in[0].data<float>(), out[0].mutable_data<float>());
    return Status::Ok();
  }

 private:
  static Dims output_dims(const Dims& x, const PoolGeometry& g) {
    Dims d = {x[0], x[1]};
    for (size_t i = 0; i < g.rank; ++i) d.push_back(g.out[i]);
    return d;
  }
  std::string who_;
  WindowAttrs attrs_;
  bool ceil_mode_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_max_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  const std::string who = prefix(ctx.node);
  if (output_wanted(ctx.node, 1))
    return unsupported(who + "the Indices output of MaxPool is not supported");
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  if (attrs.kernel_shape.empty()) return invalid_model(who + "required attribute 'kernel_shape' is missing");
  KILN_ASSIGN_OR_RETURN(int64_t ceil_mode, ctx.node.attr_int("ceil_mode", 0));
  return std::unique_ptr<Op>(new MaxPoolOp(who, std::move(attrs), ceil_mode != 0));
}

}  // namespace kiln
