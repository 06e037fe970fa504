// Pow (base and exponent may differ in dtype, from opset 12) and Where (3-way broadcast
// select over any dtype).
#include <cmath>
#include <limits>

#include "ops/elementwise.h"

namespace kiln {
namespace {

// Float -> integer with saturation (C++ leaves out-of-range conversions undefined).
template <class I>
I saturate_to(double v) {
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

template <class A, class B>
A pow_scalar(A x, B y) {
  if constexpr (std::is_floating_point_v<A>) {
    return static_cast<A>(std::pow(x, static_cast<A>(y)));
  } else if constexpr (std::is_integral_v<B>) {
    if constexpr (std::is_signed_v<B>)
      if (y < 0) return x == 1 ? 1 : (x == -1 ? ((y & 1) ? -1 : 1) : 0);
    A r = 1, b = x;
    for (B e = y; e > 0; e >>= 1) {
      if (e & 1) r = wrap_mul(r, b);
      b = wrap_mul(b, b);
    }
    return r;
  } else {
    return saturate_to<A>(std::pow(static_cast<double>(x), static_cast<double>(y)));
  }
}

using PowKernel = void (*)(const BroadcastPlan&, const void*, const void*, void*);

template <class A, class B>
void pow_kernel(const BroadcastPlan& p, const void* a, const void* b, void* z) {
  binary_loop(p, static_cast<const A*>(a), static_cast<const B*>(b), static_cast<A*>(z),
              [](A x, B y) { return pow_scalar<A, B>(x, y); });
}

class PowOp final : public Op {
 public:
  explicit PowOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": expects inputs X and Y");
    // Y of X's dtype runs directly; any other numeric Y is read as double (it is almost
    // always a scalar), which keeps the kernels at one per X dtype, not per pair.
    kernel_ = nullptr;
    same_kernel_ = nullptr;
    visit_dtype(in[0].dtype, ArithTypes{}, [&](auto a) {
      using A = decltype(a);
      kernel_ = &pow_kernel<A, double>;
      same_kernel_ = &pow_kernel<A, A>;
    });
    if (!kernel_ || !(visit_dtype(in[1].dtype, NumericTypes{}, [](auto) {}) || in[1].dtype == DType::kF16))
      return invalid_argument(who_ + ": X must be " + dtype_list_names(ArithTypes{}) + " and Y numeric, got " +
                              dtype_name(in[0].dtype) + " and " + dtype_name(in[1].dtype));
    auto d = broadcast_dims(in[0].dims, in[1].dims);
    if (!d.ok()) return d.status().with_context(who_);
    out[0].dtype = in[0].dtype;
    out[0].dims = std::move(d).value();
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    Tensor& z = out[0];
    // x^2 and x^0.5 are how exported LayerNorms write variance and std: skip pow().
    if (in[0].dtype() == DType::kF32 && in[1].size() == 1 && z.dims() == in[0].dims()) {
      const double e = in[1].get_f64(0);
      const float* x = in[0].data<float>();
      float* y = z.mutable_data<float>();
      const int64_t n = z.size();
      if (e == 2.0) {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] * x[i];
        return Status::Ok();
      }
      if (e == 0.5) {
        for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
        return Status::Ok();
      }
    }
    const BroadcastPlan plan = make_broadcast_plan(z.dims(), {&in[0].dims(), &in[1].dims()});
    if (in[1].dtype() == in[0].dtype()) {
      same_kernel_(plan, in[0].raw(), in[1].raw(), z.mutable_raw());
    } else {
      std::vector<double> y(static_cast<size_t>(in[1].size()));
      for (size_t i = 0; i < y.size(); ++i) y[i] = in[1].get_f64(static_cast<int64_t>(i));
      kernel_(plan, in[0].raw(), y.data(), z.mutable_raw());
    }
    return Status::Ok();
  }

 private:
  std::string who_;
  PowKernel kernel_ = nullptr, same_kernel_ = nullptr;
};

template <class T>
void where_kernel(const BroadcastPlan& p, const uint8_t* c, const T* x, const T* y, T* z) {
  for_each_run(p, [&](const int64_t* off, int64_t o, int64_t n, const int64_t* s) {
    const uint8_t* cc = c + off[0];
    const T* xx = x + off[1];
    const T* yy = y + off[2];
    T* r = z + o;
    for (int64_t i = 0; i < n; ++i) r[i] = cc[i * s[0]] ? xx[i * s[1]] : yy[i * s[2]];
  });
}

class WhereOp final : public Op {
 public:
  explicit WhereOp(std::string who) : who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1) || !has_in(in, 2))
      return invalid_model(who_ + ": expects inputs condition, X and Y");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kBool}, who_ + ": condition"));
    if (in[1].dtype != in[2].dtype)
      return invalid_argument(who_ + ": X is " + dtype_name(in[1].dtype) + " but Y is " + dtype_name(in[2].dtype));
    const size_t es = dtype_size(in[1].dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8)
      return invalid_argument(who_ + ": unsupported dtype " + dtype_name(in[1].dtype));
    KILN_ASSIGN_OR_RETURN(Dims d, broadcast_all({&in[0].dims, &in[1].dims, &in[2].dims}, who_));
    out[0].dtype = in[1].dtype;
    out[0].dims = std::move(d);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    Tensor& z = out[0];
    BroadcastPlan p = make_broadcast_plan(z.dims(), {&in[0].dims(), &in[1].dims(), &in[2].dims()});
    const uint8_t* c = in[0].data<uint8_t>();
    switch (dtype_size(z.dtype())) {
      case 1: where_kernel(p, c, in[1].data<uint8_t>(), in[2].data<uint8_t>(), z.mutable_data<uint8_t>()); break;
      case 2: where_kernel(p, c, in[1].data<uint16_t>(), in[2].data<uint16_t>(), z.mutable_data<uint16_t>()); break;
      case 4: where_kernel(p, c, in[1].data<uint32_t>(), in[2].data<uint32_t>(), z.mutable_data<uint32_t>()); break;
      default: where_kernel(p, c, in[1].data<uint64_t>(), in[2].data<uint64_t>(), z.mutable_data<uint64_t>()); break;
    }
    return Status::Ok();
  }

 private:
  std::string who_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_pow(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new PowOp(ctx.node.describe()));
}

Result<std::unique_ptr<Op>> create_where(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new WhereOp(ctx.node.describe()));
}

}  // namespace kiln
