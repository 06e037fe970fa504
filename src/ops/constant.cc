// Ops that produce tensors from attributes, shapes or scalars: Constant, ConstantOfShape,
// Range, Shape, Size.
#include <cmath>
#include <cstring>

#include "ops/elementwise.h"

namespace kiln {
namespace {

// Constant: the attribute tensor is the output (a view; the node keeps it alive).
class ConstantOp final : public Op {
 public:
  explicit ConstantOp(Tensor t) : t_(std::move(t)) {}
  bool is_view() const override { return true; }
  Status infer(std::span<const TensorInfo>, std::span<TensorInfo> out) override {
    out[0].dtype = t_.dtype();
    out[0].dims = t_.dims();
    return Status::Ok();
  }
  Status run(std::span<const Tensor>, std::span<Tensor> out) override {
    out[0] = t_;
    return Status::Ok();
  }

 private:
  Tensor t_;
};

class ConstantOfShapeOp final : public Op {
 public:
  ConstantOfShapeOp(std::string who, Tensor value) : who_(std::move(who)), value_(std::move(value)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input shape is missing");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kI64, DType::kI32}, who_ + ": shape"));
    if (!in[0].value) return needs_value(0);
    auto d = read_ints(*in[0].value, who_ + ": shape");
    if (!d.ok()) return d.status();
    KILN_RETURN_IF_ERROR(checked_num_elements(d.value(), who_).status());
    out[0].dtype = value_.dtype();
    out[0].dims = std::move(d).value();
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    const size_t es = dtype_size(value_.dtype());
    uint8_t* y = static_cast<uint8_t*>(out[0].mutable_raw());
    const int64_t n = out[0].size();
    // Buffers are zero-filled already; only non-zero values need writing.
    bool zero = true;
    for (size_t b = 0; b < es; ++b) zero = zero && static_cast<const uint8_t*>(value_.raw())[b] == 0;
    if (!zero)
      for (int64_t i = 0; i < n; ++i) std::memcpy(y + static_cast<size_t>(i) * es, value_.raw(), es);
    return Status::Ok();
  }

 private:
  std::string who_;
  Tensor value_;
};

class RangeOp final : public Op {
 public:
  explicit RangeOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    for (size_t i = 0; i < 3; ++i) {
      if (!has_in(in, i)) return invalid_model(who_ + ": input " + std::to_string(i) + " is missing");
      if (in[i].dtype != in[0].dtype)
        return invalid_argument(who_ + ": start, limit and delta must share a dtype, got " + dtype_name(in[0].dtype) +
                                " and " + dtype_name(in[i].dtype));
      if (num_elements(in[i].dims) != 1)
        return invalid_argument(who_ + ": input " + std::to_string(i) + " must be a scalar, got shape " +
                                dims_to_string(in[i].dims));
    }
    using RangeTypes = TypeList<float, double, int16_t, int32_t, int64_t>;
    if (!visit_dtype(in[0].dtype, RangeTypes{}, [](auto) {}))
      return invalid_argument(who_ + ": inputs must be " + dtype_list_names(RangeTypes{}) + ", got " +
                              dtype_name(in[0].dtype));
    for (size_t i = 0; i < 3; ++i)
      if (!in[i].value) return needs_value(i);
    int64_t n = 0;
    if (in[0].dtype == DType::kF32 || in[0].dtype == DType::kF64) {
      const double start = in[0].value->get_f64(0), limit = in[1].value->get_f64(0), delta = in[2].value->get_f64(0);
      if (delta == 0 || !std::isfinite(delta) || !std::isfinite(start) || !std::isfinite(limit))
        return invalid_argument(who_ + ": start, limit and delta must be finite and delta non-zero");
      const double c = std::ceil((limit - start) / delta);
      if (c > static_cast<double>(kMaxTensorBytes)) return out_of_range(who_ + ": range is too long");
      n = c > 0 ? static_cast<int64_t>(c) : 0;
    } else {
      const int64_t start = in[0].value->get_i64(0), limit = in[1].value->get_i64(0), delta = in[2].value->get_i64(0);
      if (delta == 0) return invalid_argument(who_ + ": delta must not be 0");
      // All three fit in int32 for int16/int32 and the difference is computed in double
      // for int64 so that it cannot overflow.
      const double c =
          std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
      if (c > static_cast<double>(kMaxTensorBytes)) return out_of_range(who_ + ": range is too long");
      n = c > 0 ? static_cast<int64_t>(c) : 0;
    }
    out[0].dtype = in[0].dtype;
    out[0].dims = {n};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    visit_dtype(in[0].dtype(), TypeList<float, double, int16_t, int32_t, int64_t>{}, [&](auto tag) {
      using T = decltype(tag);
      const T start = in[0].data<T>()[0], delta = in[2].data<T>()[0];
      T* y = out[0].mutable_data<T>();
      for (int64_t i = 0, n = out[0].size(); i < n; ++i) {
        if constexpr (std::is_floating_point_v<T>) y[i] = start + static_cast<T>(i) * delta;
        else y[i] = static_cast<T>(wrap_add<int64_t>(start, wrap_mul<int64_t>(i, delta)));
      }
    });
    return Status::Ok();
  }

 private:
  std::string who_;
};

// Shape (with start/end from opset 15) and Size: int64 outputs from the input dims.
class ShapeOp final : public Op {
 public:
  ShapeOp(std::string who, bool size, int64_t start, std::optional<int64_t> end)
      : who_(std::move(who)), size_(size), start_(start), end_(end) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    out[0].dtype = DType::kI64;
    if (size_) {
      out[0].dims = {};
      return Status::Ok();
    }
    auto [b, e] = range(static_cast<int64_t>(in[0].dims.size()));
    out[0].dims = {e - b};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    int64_t* y = out[0].mutable_data<int64_t>();
    if (size_) {
      y[0] = in[0].size();
      return Status::Ok();
    }
    auto [b, e] = range(in[0].rank());
    for (int64_t i = b; i < e; ++i) y[i - b] = in[0].dim(i);
    return Status::Ok();
  }

 private:
  // [start, end) clamped to [0, rank]; empty when end <= start.
  std::pair<int64_t, int64_t> range(int64_t r) const {
    auto clamp = [r](int64_t v) { v = v < 0 ? v + r : v; return v < 0 ? 0 : (v > r ? r : v); };
    int64_t b = clamp(start_), e = end_ ? clamp(*end_) : r;
    return {b, e < b ? b : e};
  }
  std::string who_;
  bool size_;
  int64_t start_;
  std::optional<int64_t> end_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_constant(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 0, 0));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  const Node& n = ctx.node;
  if (n.attrs.size() != 1)
    return invalid_model(n.describe() + ": expects exactly one value attribute, got " + std::to_string(n.attrs.size()));
  Tensor t;
  if (const Attribute* a = n.attr("value")) {
    if (a->kind != Attribute::Kind::kTensor || !a->t.defined())
      return invalid_model(n.describe() + ": attribute 'value' must be a tensor");
    t = a->t;
  } else if (n.has_attr("value_float")) {
    KILN_ASSIGN_OR_RETURN(float v, n.attr_float("value_float"));
    t = Tensor::scalar_f32(v);
  } else if (n.has_attr("value_floats")) {
    KILN_ASSIGN_OR_RETURN(std::vector<float> v, n.attr_floats("value_floats"));
    t = Tensor::from_f32(v, {static_cast<int64_t>(v.size())});
  } else if (n.has_attr("value_int")) {
    KILN_ASSIGN_OR_RETURN(int64_t v, n.attr_int("value_int"));
    t = Tensor::from_i64({v}, {});
  } else if (n.has_attr("value_ints")) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> v, n.attr_ints("value_ints"));
    t = Tensor::from_i64(v, {static_cast<int64_t>(v.size())});
  } else {
    return unsupported(n.describe() + ": attribute '" + n.attrs.begin()->first + "' is not supported");
  }
  return std::unique_ptr<Op>(new ConstantOp(std::move(t)));
}

Result<std::unique_ptr<Op>> create_constant_of_shape(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  Tensor value = Tensor::scalar_f32(0.f);
  if (const Attribute* a = ctx.node.attr("value")) {
    if (a->kind != Attribute::Kind::kTensor || !a->t.defined() || a->t.size() != 1 ||
        !dtype_is_valid_storage(a->t.dtype()))
      return invalid_model(ctx.node.describe() + ": attribute 'value' must be a one-element tensor");
    value = a->t;
  }
  return std::unique_ptr<Op>(new ConstantOfShapeOp(ctx.node.describe(), std::move(value)));
}

Result<std::unique_ptr<Op>> create_range(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new RangeOp(ctx.node.describe()));
}

Result<std::unique_ptr<Op>> create_shape(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t start, ctx.node.attr_int("start", 0));
  std::optional<int64_t> end;
  if (ctx.node.has_attr("end")) {
    KILN_ASSIGN_OR_RETURN(end, ctx.node.attr_int("end"));
  }
  return std::unique_ptr<Op>(new ShapeOp(ctx.node.describe(), false, start, end));
}

Result<std::unique_ptr<Op>> create_size(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new ShapeOp(ctx.node.describe(), true, 0, std::nullopt));
}

}  // namespace kiln
