// GlobalAveragePool and GlobalMaxPool (opsets 1..22): one value per (batch, channel) over
// all spatial dims; output [N, C, 1, ...]. Each (n, c) plane is one contiguous row: the
// f32-rsum / f32-rmax row kernels (src/kernels/f32-reduce), planes split over the threads.
#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class GlobalPoolOp final : public Op {
 public:
  GlobalPoolOp(std::string who, bool max) : who_(std::move(who)), max_(max) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(check_rank(in[0].dims));
    out[0].dtype = DType::kF32;
    out[0].dims = output_dims(in[0].dims);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 1, out.size(), 1, who_));
    const Dims& x = in[0].dims();
    KILN_RETURN_IF_ERROR(check_rank(x));
    KILN_RETURN_IF_ERROR(check_output(out[0], output_dims(x), who_));
    const int64_t planes = x[0] * x[1];
    const int64_t plane_size = planes ? in[0].size() / planes : 0;
    const size_t n = static_cast<size_t>(plane_size);
    const float* xp = in[0].data<float>();
    float* yp = out[0].mutable_data<float>();
    if (use_reference_kernels()) {
      (max_ ? f32_global_maxpool_reference : f32_global_avgpool_reference)(static_cast<size_t>(planes), n, xp, yp);
      return Status::Ok();
    }
    if (max_) {
      const F32RmaxKernel& k = f32_rmax_default_kernel();
      parallel_for(static_cast<size_t>(planes), [&](size_t begin, size_t end) {
        for (size_t p = begin; p < end; ++p) k.fn(n, xp + p * n, yp + p);
      });
    } else {
      const F32RsumKernel& k = f32_rsum_default_kernel();
      const float scale = n ? 1.f / static_cast<float>(n) : 0.f;
      parallel_for(static_cast<size_t>(planes), [&](size_t begin, size_t end) {
        for (size_t p = begin; p < end; ++p) k.fn(n, xp + p * n, yp + p, scale);
      });
    }
    return Status::Ok();
  }

 private:
  Status check_rank(const Dims& x) const {
    if (x.size() < 2)
      return invalid_argument(who_ + "input X must have rank >= 2 (N, C, spatial...), got " + dims_to_string(x));
    return Status::Ok();
  }
  static Dims output_dims(const Dims& x) {
    Dims d(x.size(), 1);
    d[0] = x[0];
    d[1] = x[1];
    return d;
  }
  std::string who_;
  bool max_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_global_average_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new GlobalPoolOp(prefix(ctx.node), false));
}

Result<std::unique_ptr<Op>> create_global_max_pool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new GlobalPoolOp(prefix(ctx.node), true));
}

}  // namespace kiln
