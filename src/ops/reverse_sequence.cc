// ReverseSequence: for each batch entry b, reverses the first sequence_lens[b] elements
// along time_axis and copies the rest. time_axis and batch_axis are 0 and 1 (either order).
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class ReverseSequenceOp final : public Op {
 public:
  ReverseSequenceOp(std::string who, int64_t time_axis, int64_t batch_axis)
      : who_(std::move(who)), time_(time_axis), batch_(batch_axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs input and sequence_lens are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kI64}, who_ + ": sequence_lens"));
    const Dims& x = in[0].dims;
    if (x.size() < 2) return invalid_argument(who_ + ": input must have rank >= 2, got " + dims_to_string(x));
    if (in[1].dims != Dims{x[static_cast<size_t>(batch_)]})
      return invalid_argument(who_ + ": sequence_lens must be [" + std::to_string(x[static_cast<size_t>(batch_)]) +
                              "], got " + dims_to_string(in[1].dims));
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported input dtype");
    out[0] = {in[0].dtype, x, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& x = in[0].dims();
    const int64_t steps = x[static_cast<size_t>(time_)], batch = x[static_cast<size_t>(batch_)];
    int64_t inner = 1;
    for (size_t i = 2; i < x.size(); ++i) inner *= x[i];
    const size_t run = static_cast<size_t>(inner) * dtype_size(in[0].dtype());
    // Offset of element (t, b) in units of `run`.
    auto at = [&](int64_t t, int64_t b) { return time_ == 0 ? t * batch + b : b * steps + t; };
    const uint8_t* src = static_cast<const uint8_t*>(in[0].raw());
    uint8_t* dst = static_cast<uint8_t*>(out[0].mutable_raw());
    const int64_t* lens = in[1].data<int64_t>();
    for (int64_t b = 0; b < batch; ++b) {
      if (lens[b] < 0 || lens[b] > steps)
        return out_of_range(who_ + ": sequence_lens[" + std::to_string(b) + "] = " + std::to_string(lens[b]) +
                            " is outside [0, " + std::to_string(steps) + "]");
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t from = t < lens[b] ? lens[b] - 1 - t : t;
        std::memcpy(dst + static_cast<size_t>(at(t, b)) * run, src + static_cast<size_t>(at(from, b)) * run, run);
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  int64_t time_, batch_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_reverse_sequence(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t time_axis, ctx.node.attr_int("time_axis", 0));
  KILN_ASSIGN_OR_RETURN(int64_t batch_axis, ctx.node.attr_int("batch_axis", 1));
  if (!((time_axis == 0 && batch_axis == 1) || (time_axis == 1 && batch_axis == 0)))
    return invalid_model(ctx.node.describe() + ": time_axis and batch_axis must be 0 and 1, got " +
                         std::to_string(time_axis) + " and " + std::to_string(batch_axis));
  return std::unique_ptr<Op>(new ReverseSequenceOp(ctx.node.describe(), time_axis, batch_axis));
}

}  // namespace kiln
