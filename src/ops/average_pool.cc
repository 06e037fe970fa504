// AveragePool (opsets 1..22): N-D, strides, pads / auto_pad, count_include_pad (7+),
// ceil_mode (10+), dilations (19+). With count_include_pad the divisor counts padding
// taps but not the part of a ceil_mode window beyond the end padding. The reference
// kernel runs on disjoint plane ranges per thread.
#include "kernels/reference/index_util.h"
#include "ops/conv_util.h"
#include "ops/op.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class AveragePoolOp final : public Op {
 public:
  AveragePoolOp(std::string who, WindowAttrs attrs, bool ceil_mode, bool count_include_pad)
      : who_(std::move(who)), attrs_(std::move(attrs)), ceil_mode_(ceil_mode), count_include_pad_(count_include_pad) {}

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
    // Planes (batch x channels) split over the session's threads.
    const int64_t in_plane = refk::product(g.in, g.rank), out_plane = refk::product(g.out, g.rank);
    const float* x = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    parallel_for(g.planes, [&](size_t begin, size_t end) {
      PoolGeometry part = g;
      part.planes = end - begin;
      f32_avgpool_reference(part, count_include_pad_, x + static_cast<int64_t>(begin) * in_plane,
                            y + static_cast<int64_t>(begin) * out_plane);
    });
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
  bool ceil_mode_, count_include_pad_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_average_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  const std::string who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(WindowAttrs attrs, parse_window_attrs(ctx.node));
  if (attrs.kernel_shape.empty()) return invalid_model(who + "required attribute 'kernel_shape' is missing");
  KILN_ASSIGN_OR_RETURN(int64_t ceil_mode, ctx.node.attr_int("ceil_mode", 0));
  KILN_ASSIGN_OR_RETURN(int64_t count_include_pad, ctx.node.attr_int("count_include_pad", 0));
  return std::unique_ptr<Op>(new AveragePoolOp(who, std::move(attrs), ceil_mode != 0, count_include_pad != 0));
}

}  // namespace kiln
