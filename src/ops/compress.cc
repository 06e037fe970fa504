// Compress: keeps the slices along `axis` (or the elements of the flattened input when
// axis is absent) whose condition entry is true. A condition shorter than the axis drops
// the rest; a longer one is an error unless its extra entries are false, as ONNX allows.
#include <algorithm>
#include <cstring>
#include <optional>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class CompressOp final : public Op {
 public:
  CompressOp(std::string who, std::optional<int64_t> axis) : who_(std::move(who)), axis_(axis) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs input and condition are required");
    if (in[1].dims.size() != 1) return invalid_argument(who_ + ": condition must be 1-D, got " + dims_to_string(in[1].dims));
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported input dtype");
    if (!in[1].value) return needs_value(1);
    const Dims& x = in[0].dims;
    int64_t extent = num_elements(x);
    Dims o{0};
    if (axis_) {
      KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(*axis_, static_cast<int64_t>(x.size()), who_));
      extent = x[static_cast<size_t>(a)];
      o = x;
      o[static_cast<size_t>(a)] = 0;
    }
    int64_t kept = 0;
    const Tensor& c = *in[1].value;
    for (int64_t i = 0; i < c.size(); ++i) {
      if (c.get_f64(i) == 0) continue;
      if (i >= extent)
        return invalid_argument(who_ + ": condition selects index " + std::to_string(i) + " of an axis of " +
                                std::to_string(extent));
      ++kept;
    }
    if (axis_) {
      KILN_ASSIGN_OR_RETURN(int64_t a, normalize_axis(*axis_, static_cast<int64_t>(x.size()), who_));
      o[static_cast<size_t>(a)] = kept;
    } else {
      o[0] = kept;
    }
    out[0] = {in[0].dtype, o, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const Dims& x = in[0].dims();
    int64_t outer = 1, extent = num_elements(x), inner = 1;
    if (axis_) {
      const int64_t a = *axis_ < 0 ? *axis_ + static_cast<int64_t>(x.size()) : *axis_;
      outer = 1, inner = 1;
      for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i)
        if (i < a) outer *= x[static_cast<size_t>(i)];
        else if (i > a) inner *= x[static_cast<size_t>(i)];
      extent = x[static_cast<size_t>(a)];
    }
    const size_t es = dtype_size(in[0].dtype());
    const size_t run = static_cast<size_t>(inner) * es;
    const uint8_t* src = static_cast<const uint8_t*>(in[0].raw());
    uint8_t* dst = static_cast<uint8_t*>(out[0].mutable_raw());
    const int64_t cn = std::min(extent, in[1].size());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < cn; ++k)
        if (in[1].get_f64(k) != 0) {
          std::memcpy(dst, src + static_cast<size_t>(o * extent + k) * run, run);
          dst += run;
        }
    return Status::Ok();
  }

 private:
  std::string who_;
  std::optional<int64_t> axis_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_compress(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  std::optional<int64_t> axis;
  if (ctx.node.has_attr("axis")) {
    KILN_ASSIGN_OR_RETURN(int64_t a, ctx.node.attr_int("axis"));
    axis = a;
  }
  return std::unique_ptr<Op>(new CompressOp(ctx.node.describe(), axis));
}

}  // namespace kiln
