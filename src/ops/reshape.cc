// View ops (no copy: the output shares the input's buffer): Reshape, Flatten, Squeeze,
// Unsqueeze, Identity, and Dropout (inference: identity plus an all-true mask).
#include <algorithm>
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

// Base for ops whose output is input 0 with new dims.
class ViewOp : public Op {
 public:
  explicit ViewOp(std::string who) : who_(std::move(who)) {}
  bool is_view() const override { return true; }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input data is missing");
    KILN_ASSIGN_OR_RETURN(Dims d, out_dims(in));
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(d);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in);
    KILN_ASSIGN_OR_RETURN(Dims d, out_dims(info));
    auto t = in[0].reshaped(std::move(d));
    if (!t.ok()) return t.status().with_context(who_);
    out[0] = std::move(t).value();
    return Status::Ok();
  }

 protected:
  virtual Result<Dims> out_dims(std::span<const TensorInfo> in) = 0;
  std::string who_;
};

class IdentityOp final : public ViewOp {
 public:
  using ViewOp::ViewOp;
  Result<Dims> out_dims(std::span<const TensorInfo> in) override { return in[0].dims; }
};

class ReshapeOp final : public ViewOp {
 public:
  ReshapeOp(std::string who, bool allowzero) : ViewOp(std::move(who)), allowzero_(allowzero) {}

  Result<Dims> out_dims(std::span<const TensorInfo> in) override {
    if (!has_in(in, 1)) return invalid_model(who_ + ": input shape is missing");
    if (!in[1].value) return needs_value(1);
    auto shape = read_ints(*in[1].value, who_ + ": shape");
    if (!shape.ok()) return shape.status();
    const Dims& src = in[0].dims;
    Dims d = std::move(shape).value();
    int infer_at = -1;
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i] == -1) {
        if (infer_at >= 0) return invalid_argument(who_ + ": shape " + dims_to_string(d) + " has more than one -1");
        infer_at = static_cast<int>(i);
        continue;
      }
      if (d[i] < -1) return invalid_argument(who_ + ": shape " + dims_to_string(d) + " has a negative size");
      if (d[i] == 0 && !allowzero_) {
        if (i >= src.size())
          return invalid_argument(who_ + ": shape " + dims_to_string(d) + " copies dim " + std::to_string(i) +
                                  " (0) but the input " + dims_to_string(src) + " has rank " +
                                  std::to_string(src.size()));
        d[i] = src[i];
      }
    }
    Dims known_dims = d;
    if (infer_at >= 0) known_dims[static_cast<size_t>(infer_at)] = 1;
    KILN_ASSIGN_OR_RETURN(const int64_t known, checked_num_elements(known_dims, who_));
    const int64_t total = num_elements(src);
    if (infer_at >= 0) {
      if (known == 0 || total % known != 0)
        return invalid_argument(who_ + ": cannot reshape " + dims_to_string(src) + " to " + dims_to_string(d));
      d[static_cast<size_t>(infer_at)] = total / known;
    } else if (known != total) {
      return invalid_argument(who_ + ": cannot reshape " + dims_to_string(src) + " (" + std::to_string(total) +
                              " elements) to " + dims_to_string(d) + " (" + std::to_string(known) + ")");
    }
    return d;
  }

 private:
  bool allowzero_;
};

class FlattenOp final : public ViewOp {
 public:
  FlattenOp(std::string who, int64_t axis) : ViewOp(std::move(who)), axis_(axis) {}

  Result<Dims> out_dims(std::span<const TensorInfo> in) override {
    const int64_t r = static_cast<int64_t>(in[0].dims.size());
    if (axis_ < -r || axis_ > r)
      return invalid_argument(who_ + ": axis " + std::to_string(axis_) + " is out of range for rank " +
                              std::to_string(r));
    const int64_t a = axis_ < 0 ? axis_ + r : axis_;
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < r; ++i) (i < a ? outer : inner) *= in[0].dims[static_cast<size_t>(i)];
    return Dims{outer, inner};
  }

 private:
  int64_t axis_;
};

// Squeeze / Unsqueeze: axes from the attribute (before opset 13) or input 1.
class AxesViewOp final : public ViewOp {
 public:
  AxesViewOp(std::string who, bool unsqueeze, bool from_input, std::optional<std::vector<int64_t>> attr_axes)
      : ViewOp(std::move(who)), unsqueeze_(unsqueeze), from_input_(from_input), attr_axes_(std::move(attr_axes)) {}

  Result<Dims> out_dims(std::span<const TensorInfo> in) override {
    std::optional<std::vector<int64_t>> axes = attr_axes_;
    if (from_input_ && has_in(in, 1)) {
      if (!in[1].value) return needs_value(1);
      auto a = read_ints(*in[1].value, who_ + ": axes");
      if (!a.ok()) return a.status();
      axes = std::move(a).value();
    }
    const Dims& src = in[0].dims;
    const int64_t r = static_cast<int64_t>(src.size());
    if (unsqueeze_) {
      if (!axes) return invalid_model(who_ + ": axes are required");
      const int64_t out_rank = r + static_cast<int64_t>(axes->size());
      KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ax, normalize_axes(*axes, out_rank, who_ + ": axes"));
      std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
      for (int64_t a : ax) inserted[static_cast<size_t>(a)] = true;
      Dims d;
      size_t j = 0;
      for (int64_t i = 0; i < out_rank; ++i) d.push_back(inserted[static_cast<size_t>(i)] ? 1 : src[j++]);
      return d;
    }
    std::vector<bool> drop(src.size(), false);
    if (!axes || axes->empty()) {
      for (size_t i = 0; i < src.size(); ++i) drop[i] = src[i] == 1;
    } else {
      KILN_ASSIGN_OR_RETURN(std::vector<int64_t> ax, normalize_axes(*axes, r, who_ + ": axes"));
      for (int64_t a : ax) {
        if (src[static_cast<size_t>(a)] != 1)
          return invalid_argument(who_ + ": cannot squeeze axis " + std::to_string(a) + " of shape " +
                                  dims_to_string(src) + ": its size is not 1");
        drop[static_cast<size_t>(a)] = true;
      }
    }
    Dims d;
    for (size_t i = 0; i < src.size(); ++i)
      if (!drop[i]) d.push_back(src[i]);
    return d;
  }

 private:
  bool unsqueeze_, from_input_;
  std::optional<std::vector<int64_t>> attr_axes_;
};

// Dropout at inference: output = input (a view); the optional mask is all ones (bool
// from opset 10, the input dtype before).
class DropoutOp final : public Op {
 public:
  DropoutOp(std::string who, bool bool_mask) : who_(std::move(who)), bool_mask_(bool_mask) {}
  bool is_view() const override { return true; }

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input data is missing");
    // Training mode drops at random: only ratio 0 (an identity) is supported there.
    const bool training = has_in(in, 2) && in[2].value && in[2].value->size() == 1 && in[2].value->get_f64(0) != 0;
    const double ratio = has_in(in, 1) && in[1].value && in[1].value->size() == 1 ? in[1].value->get_f64(0) : 0.5;
    if (training && ratio != 0) return unsupported(who_ + ": training_mode=true is not supported");
    if (out.size() > 1 && !bool_mask_ && !visit_dtype(in[0].dtype, NumericTypes{}, [](auto) {}))
      return unsupported(who_ + ": mask of dtype " + dtype_name(in[0].dtype) + " is not supported");
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].dtype = i == 0 || !bool_mask_ ? in[0].dtype : DType::kBool;
      out[i].dims = in[0].dims;
    }
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    std::vector<TensorInfo> info = infos_of(in), expect(out.size());
    KILN_RETURN_IF_ERROR(infer(info, expect));
    out[0] = in[0];
    if (out.size() > 1) {
      KILN_ASSIGN_OR_RETURN(out[1], Tensor::make(expect[1].dtype, expect[1].dims));
      const int64_t n = out[1].size();
      if (expect[1].dtype == DType::kBool) {
        std::memset(out[1].mutable_raw(), 1, static_cast<size_t>(n));
      } else if (!visit_dtype(expect[1].dtype, NumericTypes{}, [&](auto tag) {
                   using T = decltype(tag);
                   std::fill(out[1].mutable_data<T>(), out[1].mutable_data<T>() + n, T{1});
                 })) {
        return unsupported(who_ + ": mask of dtype " + dtype_name(expect[1].dtype) + " is not supported");
      }
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  bool bool_mask_;
};

Result<std::unique_ptr<Op>> make_axes_view(const OpContext& ctx, bool unsqueeze) {
  const bool from_input = ctx.opset >= 13;
  KILN_RETURN_IF_ERROR(check_input_count(ctx, from_input && unsqueeze ? 2 : 1, from_input ? 2 : 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  std::optional<std::vector<int64_t>> axes;
  if (!from_input && ctx.node.has_attr("axes")) {
    KILN_ASSIGN_OR_RETURN(axes, ctx.node.attr_ints("axes"));
  }
  if (!from_input && unsqueeze && !axes) return invalid_model(ctx.node.describe() + ": attribute 'axes' is required");
  return std::unique_ptr<Op>(new AxesViewOp(ctx.node.describe(), unsqueeze, from_input, std::move(axes)));
}

}  // namespace

Result<std::unique_ptr<Op>> create_identity(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new IdentityOp(ctx.node.describe()));
}

Result<std::unique_ptr<Op>> create_reshape(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t allowzero, ctx.node.attr_int("allowzero", 0));
  return std::unique_ptr<Op>(new ReshapeOp(ctx.node.describe(), allowzero != 0));
}

Result<std::unique_ptr<Op>> create_flatten(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t axis, ctx.node.attr_int("axis", 1));
  return std::unique_ptr<Op>(new FlattenOp(ctx.node.describe(), axis));
}

Result<std::unique_ptr<Op>> create_dropout(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, ctx.opset >= 12 ? 3 : 1));
  if (ctx.node.outputs.empty() || ctx.node.outputs.size() > 2)
    return invalid_model(ctx.node.describe() + ": expects 1 or 2 outputs");
  return std::unique_ptr<Op>(new DropoutOp(ctx.node.describe(), ctx.opset >= 10));
}

Result<std::unique_ptr<Op>> create_squeeze(const OpContext& ctx) { return make_axes_view(ctx, false); }
Result<std::unique_ptr<Op>> create_unsqueeze(const OpContext& ctx) { return make_axes_view(ctx, true); }

}  // namespace kiln
