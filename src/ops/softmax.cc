// Softmax and LogSoftmax: one computation, so one file. Before opset 13 the input is
// coerced to 2-D at `axis` (default 1) and normalized over the flattened trailing dims;
// from opset 13 it is normalized along the single dim `axis` (default -1).
// Rows run through the f32-softmax kernels (rmax, raddstoreexpminusmax, vmulc / vaddc),
// split over the session's threads; a non-last axis gathers each column into a row first.
#include <vector>

#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

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
    if (outer == 0 || n == 0 || inner == 0) return Status::Ok();
    const float* x = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    if (use_reference_kernels()) {
      f32_softmax_reference(outer, n, inner, x, y, log_);
      return Status::Ok();
    }
    const F32SoftmaxKernels& k = f32_softmax_default_kernels();
    if (inner == 1) {
      parallel_for(outer, [&](size_t begin, size_t end) {
        for (size_t o = begin; o < end; ++o) f32_softmax_row(k, n, x + o * n, y + o * n, log_);
      });
      return Status::Ok();
    }
    // Column (o, i) of [outer, n, inner]: gathered into a contiguous row, normalized there
    // and scattered back (one scratch row pair per task, not per column).
    parallel_for(outer * inner, [&](size_t begin, size_t end) {
      std::vector<float> row(2 * n);
      for (size_t c = begin; c < end; ++c) {
        const size_t base = (c / inner) * n * inner + c % inner;
        for (size_t j = 0; j < n; ++j) row[j] = x[base + j * inner];
        f32_softmax_row(k, n, row.data(), row.data() + n, log_);
        for (size_t j = 0; j < n; ++j) y[base + j * inner] = row[n + j];
      }
    });
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
