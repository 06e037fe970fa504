// LayerNormalization (opset 17+): normalizes over X's dims [axis, rank); Scale and the
// optional B broadcast (numpy, right-aligned) to those dims. The optional Mean and
// InvStdDev outputs have X's leading dims followed by ones. Rows run through the
// f32-layernorm row kernel (src/kernels/f32-layernorm), split over the session's threads.
#include "kernels/f32-layernorm/f32-layernorm.h"
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

using namespace nn;  // NOLINT: this file's helpers (ops/nn_util.h)
namespace {

class LayerNormOp final : public Op {
 public:
  LayerNormOp(std::string who, int64_t axis, float epsilon, size_t outputs)
      : who_(std::move(who)), axis_(axis), epsilon_(epsilon), outputs_(outputs) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), outputs_, who_));
    KILN_RETURN_IF_ERROR(expect_f32(in, 0, who_, "X"));
    KILN_RETURN_IF_ERROR(expect_f32(in, 1, who_, "Scale"));
    const bool has_bias = input_present(in, 2);
    if (has_bias) KILN_RETURN_IF_ERROR(expect_f32(in, 2, who_, "B"));
    KILN_ASSIGN_OR_RETURN(int64_t axis, check_shapes(in[0].dims, in[1].dims, has_bias ? &in[2].dims : nullptr));
    out[0].dtype = DType::kF32;
    out[0].dims = in[0].dims;
    for (size_t i = 1; i < outputs_; ++i) {
      out[i].dtype = DType::kF32;
      out[i].dims = stat_dims(in[0].dims, axis);
    }
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_RETURN_IF_ERROR(check_arity(in.size(), 2, out.size(), outputs_, who_));
    const Dims& x = in[0].dims();
    const bool has_bias = input_present(in, 2);
    KILN_ASSIGN_OR_RETURN(int64_t axis, check_shapes(x, in[1].dims(), has_bias ? &in[2].dims() : nullptr));
    KILN_RETURN_IF_ERROR(check_output(out[0], x, who_));
    float* stats[2] = {nullptr, nullptr};
    for (size_t i = 1; i < outputs_; ++i) {
      if (!out[i].defined()) continue;  // an omitted optional output
      KILN_RETURN_IF_ERROR(check_output(out[i], stat_dims(x, axis), who_));
      stats[i - 1] = out[i].mutable_data<float>();
    }
    const Dims norm = dims_slice(x, static_cast<size_t>(axis), x.size());
    const int64_t n = num_elements(norm), rows = num_elements(dims_slice(x, 0, static_cast<size_t>(axis)));
    if (n == 0 || rows == 0) return Status::Ok();
    std::vector<float> scale = expand(in[1], norm);
    std::vector<float> bias = has_bias ? expand(in[2], norm) : std::vector<float>{};
    if (use_reference_kernels()) {
      f32_layernorm_reference(static_cast<size_t>(rows), static_cast<size_t>(n), in[0].data<float>(), scale.data(),
                              has_bias ? bias.data() : nullptr, epsilon_, out[0].mutable_data<float>(), stats[0],
                              stats[1]);
      return Status::Ok();
    }
    const F32LayerNormKernel& k = f32_layernorm_default_kernel();
    const size_t len = static_cast<size_t>(n);
    const float* x_data = in[0].data<float>();
    float* y = out[0].mutable_data<float>();
    parallel_for(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r)
        k.fn(len, x_data + r * len, scale.data(), has_bias ? bias.data() : nullptr, epsilon_, y + r * len,
             stats[0] ? stats[0] + r : nullptr, stats[1] ? stats[1] + r : nullptr);
    });
    return Status::Ok();
  }

 private:
  Result<int64_t> check_shapes(const Dims& x, const Dims& scale, const Dims* bias) const {
    if (x.empty()) return invalid_argument(who_ + "input X must have rank >= 1");
    KILN_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(axis_, static_cast<int64_t>(x.size()), who_ + "axis"));
    const Dims norm = dims_slice(x, static_cast<size_t>(axis), x.size());
    auto fits = [&](const Dims& p) {  // unidirectional broadcast of p to norm
      if (p.size() > norm.size()) return false;
      for (size_t i = 0; i < p.size(); ++i) {
        const int64_t want = norm[norm.size() - p.size() + i];
        if (p[i] != want && p[i] != 1) return false;
      }
      return true;
    };
    if (!fits(scale))
      return invalid_argument(who_ + "Scale " + dims_to_string(scale) + " does not broadcast to the normalized dims " +
                              dims_to_string(norm));
    if (bias && !fits(*bias))
      return invalid_argument(who_ + "B " + dims_to_string(*bias) + " does not broadcast to the normalized dims " +
                              dims_to_string(norm));
    return axis;
  }

  static Dims stat_dims(const Dims& x, int64_t axis) {
    Dims d = x;
    for (size_t i = static_cast<size_t>(axis); i < d.size(); ++i) d[i] = 1;
    return d;
  }

  // Scale/B broadcast to the full normalized shape (one value per normalized element).
  static std::vector<float> expand(const Tensor& t, const Dims& norm) {
    const std::vector<int64_t> strides = broadcast_strides(t.dims(), norm);
    const int64_t n = num_elements(norm);
    std::vector<float> r(static_cast<size_t>(n));
    const float* src = t.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = norm.size(); d-- > 0;) {
        off += (rem % norm[d]) * strides[d];
        rem /= norm[d];
      }
      r[static_cast<size_t>(i)] = src[off];
    }
    return r;
  }

  std::string who_;
  int64_t axis_;
  float epsilon_;
  size_t outputs_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_layer_normalization(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  const std::string who = prefix(ctx.node);
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", -1));
  KILN_ASSIGN_OR_RETURN(float epsilon, ctx.node.attr_float("epsilon", 1e-5f));
  KILN_ASSIGN_OR_RETURN(int64_t stash_type, ctx.node.attr_int("stash_type", 1));
  if (stash_type != 1) return unsupported(who + "stash_type " + std::to_string(stash_type) + " is not supported (only 1, float)");
  if (!(epsilon >= 0.f)) return invalid_model(who + "epsilon must be non-negative, got " + std::to_string(epsilon));
  if (ctx.node.outputs.size() > 3) return invalid_model(who + "has more than 3 outputs");
  return std::unique_ptr<Op>(new LayerNormOp(who, axis, epsilon, std::max<size_t>(1, ctx.node.outputs.size())));
}

}  // namespace kiln
