// Expand (numpy broadcast to a shape given as input) and Tile (repeat along each axis),
// any dtype.
#include "ops/elementwise.h"

namespace kiln {
namespace {

class ExpandOp final : public Op {
 public:
  explicit ExpandOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs input and shape are required");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    if (!in[1].value) return needs_value(1);
    auto shape = read_ints(*in[1].value, who_ + ": shape");
    if (!shape.ok()) return shape.status();
    for (int64_t s : shape.value())
      if (s < 0) return invalid_argument(who_ + ": shape " + dims_to_string(shape.value()) + " has a negative size");
    auto d = broadcast_dims(in[0].dims, shape.value());
    if (!d.ok()) return d.status().with_context(who_);
    KILN_RETURN_IF_ERROR(checked_num_elements(d.value(), who_).status());
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(d).value();
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    broadcast_copy(make_broadcast_plan(out[0].dims(), {&in[0].dims()}), in[0].raw(), out[0].mutable_raw(),
                   dtype_size(in[0].dtype()));
    return Status::Ok();
  }

 private:
  std::string who_;
};

class TileOp final : public Op {
 public:
  explicit TileOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs input and repeats are required");
    if (dtype_size(in[0].dtype) == 0) return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[0].dtype));
    if (!in[1].value) return needs_value(1);
    auto rep = read_ints(*in[1].value, who_ + ": repeats");
    if (!rep.ok()) return rep.status();
    const Dims& d = in[0].dims;
    if (rep.value().size() != d.size())
      return invalid_argument(who_ + ": repeats has " + std::to_string(rep.value().size()) +
                              " entries for an input of rank " + std::to_string(d.size()));
    Dims o(d.size());
    for (size_t i = 0; i < d.size(); ++i) {
      if (rep.value()[i] < 0)
        return invalid_argument(who_ + ": repeats " + dims_to_string(rep.value()) + " has a negative entry");
      const int64_t r = rep.value()[i];
      if (r > 0 && d[i] > static_cast<int64_t>(kMaxTensorBytes) / r)
        return out_of_range(who_ + ": repeats " + dims_to_string(rep.value()) + " make the output too large");
      o[i] = d[i] * r;
    }
    KILN_RETURN_IF_ERROR(checked_num_elements(o, who_).status());
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(o);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    // The output is the input viewed as [r0, d0, r1, d1, ...] with stride 0 on each r.
    const Dims& d = in[0].dims();
    Dims size;
    std::vector<int64_t> stride;
    int64_t s = in[0].size();
    for (size_t i = 0; i < d.size(); ++i) {
      s = d[i] ? s / d[i] : 0;
      size.push_back(out[0].dim(static_cast<int64_t>(i)) / (d[i] ? d[i] : 1));
      stride.push_back(0);
      size.push_back(d[i]);
      stride.push_back(s);
    }
    copy_strided(static_cast<const uint8_t*>(in[0].raw()), size, stride, static_cast<uint8_t*>(out[0].mutable_raw()),
                 dtype_size(in[0].dtype()));
    return Status::Ok();
  }

 private:
  std::string who_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_expand(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new ExpandOp(ctx.node.describe()));
}

Result<std::unique_ptr<Op>> create_tile(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new TileOp(ctx.node.describe()));
}

}  // namespace kiln
