// Softmax and LogSoftmax: one computation, so one file. Before opset 13 the input is
// coerced to 2-D at `axis` (default 1) and normalized over the flattened trailing dims;
// from opset 13 it is normalized along the single dim `axis` (default -1).
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class SoftmaxOp final : public Op {
 public:
  SoftmaxOp(std::string who, int64_t axis, bool per_axis, bool log)
      : who_(std::move(who)), axis_(axis), per_axis_(per_axis), log_(log) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "input"));
    size_t outer, n, inner;
    KILN_RETURN_IF_ERROR(split(in[0].dims, &outer, &n, &inner));
    out[0].dtype = DType::kF32;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    size_t outer, n, inner;
    KILN_RETURN_IF_ERROR(split(in[0].dims(), &outer, &n, &inner));
    KILN_RETURN_IF_ERROR(check_output(out[0], in[0].dims(), who_));
    f32_softmax_reference(outer, n, inner, in[0].data<float>(), out[0].mutable_data<float>(), log_);
    return Status::Ok();
  }

 private:
  // Views X as [outer, n, inner] with the softmax taken over n.
  Status split(const Dims& x, size_t* outer, size_t* n, size_t* inner) const {
    const int64_t rank = static_cast<int64_t>(x.size());
    // The 2-D coercion allows axis == rank (everything in `outer`), the per-axis form does not.
    if (!per_axis_ && (axis_ < -rank || axis_ > rank))
      return invalid_argument(who_ + "axis " + std::to_string(axis_) + " is out of range for rank " +
                              std::to_string(rank));
    int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    if (per_axis_) {
      KILN_ASSIGN_OR_RETURN(axis, normalize_axis(axis_, rank, who_ + "input " + dims_to_string(x)));
    }
    const size_t a = static_cast<size_t>(axis);
    *outer = static_cast<size_t>(num_elements(dims_slice(x, 0, a)));
    if (per_axis_) {
      *n = static_cast<size_t>(x[a]);
      *inner = static_cast<size_t>(num_elements(dims_slice(x, a + 1, x.size())));
    } else {
      *n = static_cast<size_t>(num_elements(dims_slice(x, a, x.size())));
      *inner = 1;
    }
    return Status::Ok();
  }

  std::string who_;
  int64_t axis_;
  bool per_axis_, log_;
};

Result<std::unique_ptr<Op>> create(const OpContext& ctx, bool log) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  const bool per_axis = ctx.opset >= 13;
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", per_axis ? -1 : 1));
  return std::unique_ptr<Op>(new SoftmaxOp(prefix(ctx.node), axis, per_axis, log));
}

}  // namespace

Result<std::unique_ptr<Op>> create_softmax(const OpContext& ctx) { return create(ctx, false); }
Result<std::unique_ptr<Op>> create_log_softmax(const OpContext& ctx) { return create(ctx, true); }

}  // namespace kiln
