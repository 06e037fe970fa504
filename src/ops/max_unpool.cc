// MaxUnpool: scatters X [N, C, d1..dk] into a zero tensor at the flat positions given by
// I (MaxPool's second output, indices into the whole output tensor). The output spatial
// size is (in - 1) * stride - pad_begin - pad_end + kernel, or the output_shape input; with
// the latter, indices still count positions in the default-size output (the pooled
// input's shape), and each lands at the same spatial coordinates in the larger output.
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class MaxUnpoolOp final : public Op {
 public:
  MaxUnpoolOp(std::string who, std::vector<int64_t> kernel, std::vector<int64_t> pads, std::vector<int64_t> strides)
      : who_(std::move(who)), kernel_(std::move(kernel)), pads_(std::move(pads)), strides_(std::move(strides)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs X and I are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64}, who_ + ": I"));
    const Dims& x = in[0].dims;
    const size_t k = kernel_.size();
    if (x.size() != k + 2 || in[1].dims != x)
      return invalid_argument(who_ + ": X " + dims_to_string(x) + " and I " + dims_to_string(in[1].dims) +
                              " must both be [N, C] plus " + std::to_string(k) + " spatial dims");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported X dtype");
    Dims o = x;
    if (has_in(in, 2)) {
      if (!in[2].value) return needs_value(2);
      KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, read_ints(*in[2].value, who_ + ": output_shape"));
      if (shape.size() != x.size()) return invalid_argument(who_ + ": output_shape must have " + std::to_string(x.size()) + " values");
      o = Dims(shape.begin(), shape.end());
    } else {
      for (size_t i = 0; i < k; ++i)
        o[i + 2] = (x[i + 2] - 1) * strides_[i] - pads_[i] - pads_[i + k] + kernel_[i];
    }
    KILN_RETURN_IF_ERROR(checked_num_elements(o, who_).status());
    out[0] = {in[0].dtype, o, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const size_t es = dtype_size(in[0].dtype());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    std::memset(y, 0, out[0].bytes());
    const uint8_t* x = static_cast<const uint8_t*>(in[0].raw());
    const int64_t* idx = in[1].data<int64_t>();
    const Dims& xd = in[0].dims();
    const Dims& od = out[0].dims();
    const size_t k = kernel_.size();
    std::vector<int64_t> def(k);  // default spatial output size
    int64_t def_plane = 1, out_plane = 1;
    for (size_t i = 0; i < k; ++i) {
      def[i] = (xd[i + 2] - 1) * strides_[i] - pads_[i] - pads_[i + k] + kernel_[i];
      def_plane *= def[i];
      out_plane *= od[i + 2];
    }
    const int64_t planes = od[0] * od[1];
    for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
      const int64_t p = def_plane > 0 ? idx[i] / def_plane : 0;
      int64_t rem = def_plane > 0 ? idx[i] % def_plane : 0, pos = 0, scale = 1;
      bool ok = idx[i] >= 0 && p < planes;
      for (size_t d = k; d-- > 0 && ok;) {
        const int64_t c = rem % def[d];
        rem /= def[d];
        ok = c < od[d + 2];
        pos += c * scale;
        scale *= od[d + 2];
      }
      if (!ok)
        return out_of_range(who_ + ": index " + std::to_string(idx[i]) + " is outside the output " + dims_to_string(od));
      std::memcpy(y + static_cast<size_t>(p * out_plane + pos) * es, x + static_cast<size_t>(i) * es, es);
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  std::vector<int64_t> kernel_, pads_, strides_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_max_unpool(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, ctx.node.attr_ints("kernel_shape"));
  const size_t k = kernel.size();
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> pads, ctx.node.attr_ints("pads", std::vector<int64_t>(2 * k, 0)));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ctx.node.attr_ints("strides", std::vector<int64_t>(k, 1)));
  if (k == 0 || pads.size() != 2 * k || strides.size() != k)
    return invalid_model(ctx.node.describe() + ": kernel_shape, pads and strides disagree in length");
  return std::unique_ptr<Op>(new MaxUnpoolOp(ctx.node.describe(), std::move(kernel), std::move(pads), std::move(strides)));
}

}  // namespace kiln
