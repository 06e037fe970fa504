// Resize (opsets 10..19): nearest / linear (any number of axes) / cubic, the coordinate
// transformation and nearest-rounding modes of ONNX, scales or sizes (opset 18 axes and
// keep_aspect_ratio_policy too). roi is read only by tf_crop_and_resize; antialias is
// rejected at creation. The tables and shape rules live in resize_plan; the common cases
// (nearest / linear over H and W, NHWC or NCHW) run the microkernels through
// resize_kernels, the rest the reference kernel.
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/resize_kernels.h"
#include "ops/resize_plan.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class ResizeOp final : public Op {
 public:
  explicit ResizeOp(ResizeConfig c) : c_(std::move(c)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, c_.who));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, c_.who, "X"));
    const Tensor *scales = nullptr, *sizes = nullptr;
    KILN_RETURN_IF_ERROR(shape_input(in, c_.scales_input, &scales));
    KILN_RETURN_IF_ERROR(shape_input(in, c_.sizes_input, &sizes));
    KILN_ASSIGN_OR_RETURN(ResizeShape s, resize_shape(c_, in[0].dims, scales, sizes));  // roi does not change the shape
    out[0].dtype = DType::kF32;
    out[0].dims = s.out;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, c_.who));
    auto get = [&](int i) -> const Tensor* {
      return i >= 0 && input_present(in, static_cast<size_t>(i)) ? &in[static_cast<size_t>(i)] : nullptr;
    };
    const Dims& x = in[0].dims();
    KILN_ASSIGN_OR_RETURN(ResizeShape s, resize_shape(c_, x, get(c_.scales_input), get(c_.sizes_input), get(c_.roi_input)));
    KILN_RETURN_IF_ERROR(check_output(out[0], s.out, c_.who));
    if (out[0].size() == 0) return Status::Ok();
    // Tables and the fast kernels' indirection are built once per shape (and scales / roi).
    if (!planned_ok_ || x != planned_x_ || s.out != planned_.out || s.scales != planned_.scales ||
        s.roi_start != planned_.roi_start || s.roi_end != planned_.roi_end) {
      build_resize_tables(c_, x, s, &tables_);
      fast_ok_ = fast_.plan(x.size(), tables_.axes.data());
      planned_x_ = x;
      planned_ = std::move(s);
      planned_ok_ = true;
    }
    if (fast_ok_)
      fast_.run(in[0].data<float>(), out[0].mutable_data<float>(), c_.extrapolation);
    else
      f32_resize_reference(x.size(), tables_.axes.data(), in[0].data<float>(), out[0].mutable_data<float>(),
                           c_.extrapolation);
    return Status::Ok();
  }

 private:
  // The value of a scales/sizes input for infer: null when absent or empty; an empty
  // tensor's dims already say it is empty, so only non-empty ones need their data.
  static Status shape_input(std::span<const TensorInfo> in, int i, const Tensor** t) {
    *t = nullptr;
    if (i < 0 || !input_present(in, static_cast<size_t>(i))) return Status::Ok();
    const TensorInfo& info = in[static_cast<size_t>(i)];
    if (num_elements(info.dims) == 0) return Status::Ok();
    if (!info.value) return needs_value(static_cast<size_t>(i));
    *t = info.value;
    return Status::Ok();
  }

  ResizeConfig c_;
  // The last run's shape and its plan (run must not be called concurrently on one op).
  bool planned_ok_ = false, fast_ok_ = false;
  Dims planned_x_;
  ResizeShape planned_;
  ResizeTables tables_;
  ResizeKernels fast_;
};

}  // namespace

std::unique_ptr<Op> nn::make_resize_op(ResizeConfig c) { return std::unique_ptr<Op>(new ResizeOp(std::move(c))); }

Result<std::unique_ptr<Op>> create_resize(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, ctx.opset < 11 ? 2 : (ctx.opset < 13 ? 3 : 1), ctx.opset < 11 ? 2 : 4));
  KILN_ASSIGN_OR_RETURN(ResizeConfig c, parse_resize_config(ctx.node, ctx.opset));
  return make_resize_op(std::move(c));
}

}  // namespace kiln
