// Slice: starts/ends/axes as attributes before opset 10, as inputs (plus steps) from 10.
// Negative indices count from the end, out-of-range ones clamp, steps may be negative.
#include <algorithm>

#include "ops/elementwise.h"

namespace kiln {
namespace {

struct SlicePlan {
  Dims out;
  std::vector<int64_t> start, step;  // per input dim
};

class SliceOp final : public Op {
 public:
  SliceOp(std::string who, bool from_inputs, std::vector<int64_t> starts, std::vector<int64_t> ends,
          std::optional<std::vector<int64_t>> axes)
      : who_(std::move(who)), from_inputs_(from_inputs), starts_(std::move(starts)), ends_(std::move(ends)),
        axes_(std::move(axes)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_ASSIGN_OR_RETURN(SlicePlan p, plan(in));
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(p.out);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    KILN_ASSIGN_OR_RETURN(SlicePlan p, plan(info));
    TensorInfo expect{in[0].dtype(), p.out, nullptr};
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    if (out[0].size() == 0) return Status::Ok();
    const Dims& d = in[0].dims();
    const size_t r = d.size(), es = dtype_size(in[0].dtype());
    std::vector<int64_t> stride(r);
    int64_t in_stride = 1, base = 0;
    for (size_t i = r; i-- > 0;) {
      stride[i] = in_stride * p.step[i];
      base += in_stride * p.start[i];
      in_stride *= d[i];
    }
    copy_strided(static_cast<const uint8_t*>(in[0].raw()) + base * static_cast<int64_t>(es), p.out, stride,
                 static_cast<uint8_t*>(out[0].mutable_raw()), es);
    return Status::Ok();
  }

 private:
  Result<std::vector<int64_t>> ints_input(std::span<const TensorInfo> in, size_t i, const char* name) const {
    if (!in[i].value) return needs_value(i);
    return read_ints(*in[i].value, who_ + ": " + name);
  }

  Result<SlicePlan> plan(std::span<const TensorInfo> in) const {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input data is missing");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    std::vector<int64_t> starts = starts_, ends = ends_, steps;
    std::optional<std::vector<int64_t>> axes = axes_;
    if (from_inputs_) {
      if (!has_in(in, 1) || !has_in(in, 2)) return invalid_model(who_ + ": inputs starts and ends are required");
      KILN_ASSIGN_OR_RETURN(starts, ints_input(in, 1, "starts"));
      KILN_ASSIGN_OR_RETURN(ends, ints_input(in, 2, "ends"));
      if (has_in(in, 3)) {
        KILN_ASSIGN_OR_RETURN(axes, ints_input(in, 3, "axes"));
      }
      if (has_in(in, 4)) {
        KILN_ASSIGN_OR_RETURN(steps, ints_input(in, 4, "steps"));
      }
    }
    const Dims& d = in[0].dims;
    const int64_t r = static_cast<int64_t>(d.size());
    const size_t n = starts.size();
    if (ends.size() != n || (axes && axes->size() != n) || (!steps.empty() && steps.size() != n))
      return invalid_argument(who_ + ": starts, ends, axes and steps must have the same length (got " +
                              std::to_string(n) + ", " + std::to_string(ends.size()) + ", " +
                              std::to_string(axes ? axes->size() : n) + ", " +
                              std::to_string(steps.empty() ? n : steps.size()) + ")");
    std::vector<int64_t> ax;
    if (axes) {
      KILN_ASSIGN_OR_RETURN(ax, normalize_axes(*axes, r, who_ + ": axes"));
    } else {
      if (static_cast<int64_t>(n) > r)
        return invalid_argument(who_ + ": " + std::to_string(n) + " starts for an input of rank " + std::to_string(r));
      for (size_t i = 0; i < n; ++i) ax.push_back(static_cast<int64_t>(i));
    }
    SlicePlan p;
    p.out = d;
    p.start.assign(d.size(), 0);
    p.step.assign(d.size(), 1);
    for (size_t i = 0; i < n; ++i) {
      const size_t a = static_cast<size_t>(ax[i]);
      const int64_t dim = d[a], step = steps.empty() ? 1 : steps[i];
      if (step == 0) return invalid_argument(who_ + ": steps must not be 0");
      int64_t s = starts[i], e = ends[i];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      int64_t count;
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        count = e > s ? (e - s - 1) / step + 1 : 0;
      } else if (dim == 0) {
        count = 0;
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        // -step computed unsigned: step may be INT64_MIN.
        count =
            s > e
                ? static_cast<int64_t>(static_cast<uint64_t>(s - e - 1) / (uint64_t{0} - static_cast<uint64_t>(step))) +
                      1
                : 0;
      }
      p.out[a] = count;
      p.start[a] = count ? s : 0;
      p.step[a] = count > 1 ? step : 1;  // a huge step over one element would overflow strides
    }
    return p;
  }

  std::string who_;
  bool from_inputs_;
  std::vector<int64_t> starts_, ends_;
  std::optional<std::vector<int64_t>> axes_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_slice(const OpContext& ctx) {
  if (ctx.opset >= 10) {
    KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 5));
    KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
    return std::unique_ptr<Op>(new SliceOp(ctx.node.describe(), true, {}, {}, std::nullopt));
  }
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> starts, ctx.node.attr_ints("starts"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ends, ctx.node.attr_ints("ends"));
  std::optional<std::vector<int64_t>> axes;
  if (ctx.node.has_attr("axes")) {
    KILN_ASSIGN_OR_RETURN(axes, ctx.node.attr_ints("axes"));
  }
  return std::unique_ptr<Op>(
      new SliceOp(ctx.node.describe(), false, std::move(starts), std::move(ends), std::move(axes)));
}

}  // namespace kiln
