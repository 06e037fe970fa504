// Unary math ops over one tensor: Abs Neg Sign Exp Log Sqrt Reciprocal Floor Ceil Round
// Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Tanh Sigmoid Erf, and the
// bool-valued Not IsNaN IsInf. The shared UnaryOp class (also used by activation.cc) lives here.
#include <cmath>

#include "ops/elementwise.h"
#include "ops/fast_math.h"
#include "ops/vunary_op.h"

namespace kiln {
namespace {

class UnaryOp final : public Op {
 public:
  UnaryOp(UnarySpec spec, std::string who) : spec_(std::move(spec)), who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input X is missing");
    kernel_ = spec_.pick(in[0].dtype);
    if (!kernel_)
      return invalid_argument(who_ + ": input X must be " + spec_.accepted + ", got " + dtype_name(in[0].dtype));
    out[0].dtype = spec_.out_dtype == DType::kUndefined ? in[0].dtype : spec_.out_dtype;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    TensorInfo info{in[0].dtype(), in[0].dims(), &in[0]}, expect;
    KILN_RETURN_IF_ERROR(infer(std::span<const TensorInfo>(&info, 1), std::span<TensorInfo>(&expect, 1)));
    KILN_RETURN_IF_ERROR(check_outputs(out, std::span<const TensorInfo>(&expect, 1), who_));
    kernel_(in[0].raw(), out[0].mutable_raw(), in[0].size(), spec_.params);
    return Status::Ok();
  }

 private:
  UnarySpec spec_;
  std::string who_;
  UnaryKernel kernel_ = nullptr;
};

template <class T> T neg(T x) {
  if constexpr (std::is_integral_v<T>) return wrap_sub(T{0}, x);
  else return -x;
}

struct AbsF { template <class T> static T apply(T x, const UnaryParams&) { return x < 0 ? neg(x) : x; } };
struct NegF { template <class T> static T apply(T x, const UnaryParams&) { return neg(x); } };
struct SignF {
  template <class T> static T apply(T x, const UnaryParams&) { return x > 0 ? T{1} : (x < 0 ? T(-1) : x); }
};
struct ExpF { template <class T> static T apply(T x, const UnaryParams&) { return fast::exp_t(x); } };
struct LogF { template <class T> static T apply(T x, const UnaryParams&) { return std::log(x); } };
struct SqrtF { template <class T> static T apply(T x, const UnaryParams&) { return std::sqrt(x); } };
struct ReciprocalF { template <class T> static T apply(T x, const UnaryParams&) { return T{1} / x; } };
struct FloorF { template <class T> static T apply(T x, const UnaryParams&) { return std::floor(x); } };
struct CeilF { template <class T> static T apply(T x, const UnaryParams&) { return std::ceil(x); } };
// Round half to even, as ONNX specifies (the default rounding mode of nearbyint).
struct RoundF { template <class T> static T apply(T x, const UnaryParams&) { return std::nearbyint(x); } };
struct SinF { template <class T> static T apply(T x, const UnaryParams&) { return std::sin(x); } };
struct CosF { template <class T> static T apply(T x, const UnaryParams&) { return std::cos(x); } };
struct TanF { template <class T> static T apply(T x, const UnaryParams&) { return std::tan(x); } };
struct AtanF { template <class T> static T apply(T x, const UnaryParams&) { return std::atan(x); } };
struct AsinF { template <class T> static T apply(T x, const UnaryParams&) { return std::asin(x); } };
struct AcosF { template <class T> static T apply(T x, const UnaryParams&) { return std::acos(x); } };
struct SinhF { template <class T> static T apply(T x, const UnaryParams&) { return std::sinh(x); } };
struct CoshF { template <class T> static T apply(T x, const UnaryParams&) { return std::cosh(x); } };
struct AsinhF { template <class T> static T apply(T x, const UnaryParams&) { return std::asinh(x); } };
struct AcoshF { template <class T> static T apply(T x, const UnaryParams&) { return std::acosh(x); } };
struct AtanhF { template <class T> static T apply(T x, const UnaryParams&) { return std::atanh(x); } };
struct TanhF { template <class T> static T apply(T x, const UnaryParams&) { return fast::tanh_t(x); } };
struct SigmoidF {
  template <class T> static T apply(T x, const UnaryParams&) { return T{1} / (T{1} + fast::exp_t(-x)); }
};
struct ErfF { template <class T> static T apply(T x, const UnaryParams&) { return fast::erf_t(x); } };
struct NotF { static uint8_t apply(uint8_t x, const UnaryParams&) { return x == 0; } };
struct IsNaNF { template <class T> static uint8_t apply(T x, const UnaryParams&) { return std::isnan(x); } };
// mode bit 0: detect negative infinity, bit 1: detect positive infinity.
struct IsInfF {
  template <class T> static uint8_t apply(T x, const UnaryParams& p) {
    return std::isinf(x) && ((x < 0 && (p.mode & 1)) || (x > 0 && (p.mode & 2)));
  }
};

template <class F>
Result<std::unique_ptr<Op>> make_signed_unary(const OpContext& ctx) {
  UnarySpec s;
  s.pick = [](DType d) { return pick_unary<F>(d, SignedTypes{}); };
  s.accepted = dtype_list_names(SignedTypes{});
  return make_unary_op(ctx, std::move(s));
}

template <class F>
Result<std::unique_ptr<Op>> make_float_test(const OpContext& ctx, UnaryParams params) {
  UnarySpec s;
  s.pick = [](DType d) { return pick_unary<F>(d, FloatTypes{}); };
  s.accepted = dtype_list_names(FloatTypes{});
  s.out_dtype = DType::kBool;
  s.params = params;
  return make_unary_op(ctx, std::move(s));
}

}  // namespace

Result<std::unique_ptr<Op>> make_unary_op(const OpContext& ctx, UnarySpec spec) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  if (ctx.node.outputs.size() != 1) return invalid_model(ctx.node.describe() + ": expects 1 output");
  return std::unique_ptr<Op>(new UnaryOp(std::move(spec), ctx.node.describe()));
}

Result<std::unique_ptr<Op>> create_abs(const OpContext& ctx) { return make_signed_unary<AbsF>(ctx); }
Result<std::unique_ptr<Op>> create_neg(const OpContext& ctx) { return make_signed_unary<NegF>(ctx); }
Result<std::unique_ptr<Op>> create_sign(const OpContext& ctx) { return make_signed_unary<SignF>(ctx); }
Result<std::unique_ptr<Op>> create_exp(const OpContext& ctx) {
  return make_float_unary_vunary<ExpF, F32VunaryOp::kExp>(ctx);
}
Result<std::unique_ptr<Op>> create_log(const OpContext& ctx) { return make_float_unary<LogF>(ctx); }
Result<std::unique_ptr<Op>> create_sqrt(const OpContext& ctx) { return make_float_unary<SqrtF>(ctx); }
Result<std::unique_ptr<Op>> create_reciprocal(const OpContext& ctx) { return make_float_unary<ReciprocalF>(ctx); }
Result<std::unique_ptr<Op>> create_floor(const OpContext& ctx) { return make_float_unary<FloorF>(ctx); }
Result<std::unique_ptr<Op>> create_ceil(const OpContext& ctx) { return make_float_unary<CeilF>(ctx); }
Result<std::unique_ptr<Op>> create_round(const OpContext& ctx) { return make_float_unary<RoundF>(ctx); }
Result<std::unique_ptr<Op>> create_sin(const OpContext& ctx) { return make_float_unary<SinF>(ctx); }
Result<std::unique_ptr<Op>> create_cos(const OpContext& ctx) { return make_float_unary<CosF>(ctx); }
Result<std::unique_ptr<Op>> create_tan(const OpContext& ctx) { return make_float_unary<TanF>(ctx); }
Result<std::unique_ptr<Op>> create_atan(const OpContext& ctx) { return make_float_unary<AtanF>(ctx); }
Result<std::unique_ptr<Op>> create_asin(const OpContext& ctx) { return make_float_unary<AsinF>(ctx); }
Result<std::unique_ptr<Op>> create_acos(const OpContext& ctx) { return make_float_unary<AcosF>(ctx); }
Result<std::unique_ptr<Op>> create_sinh(const OpContext& ctx) { return make_float_unary<SinhF>(ctx); }
Result<std::unique_ptr<Op>> create_cosh(const OpContext& ctx) { return make_float_unary<CoshF>(ctx); }
Result<std::unique_ptr<Op>> create_asinh(const OpContext& ctx) { return make_float_unary<AsinhF>(ctx); }
Result<std::unique_ptr<Op>> create_acosh(const OpContext& ctx) { return make_float_unary<AcoshF>(ctx); }
Result<std::unique_ptr<Op>> create_atanh(const OpContext& ctx) { return make_float_unary<AtanhF>(ctx); }
Result<std::unique_ptr<Op>> create_tanh(const OpContext& ctx) {
  return make_float_unary_vunary<TanhF, F32VunaryOp::kTanh>(ctx);
}
Result<std::unique_ptr<Op>> create_sigmoid(const OpContext& ctx) {
  return make_float_unary_vunary<SigmoidF, F32VunaryOp::kSigmoid>(ctx);
}
Result<std::unique_ptr<Op>> create_erf(const OpContext& ctx) {
  return make_float_unary_vunary<ErfF, F32VunaryOp::kErf>(ctx);
}

Result<std::unique_ptr<Op>> create_not(const OpContext& ctx) {
  UnarySpec s;
  s.pick = [](DType d) -> UnaryKernel { return d == DType::kBool ? &unary_kernel<NotF, uint8_t> : nullptr; };
  s.accepted = "bool";
  return make_unary_op(ctx, std::move(s));
}

Result<std::unique_ptr<Op>> create_is_nan(const OpContext& ctx) { return make_float_test<IsNaNF>(ctx, {}); }

Result<std::unique_ptr<Op>> create_is_inf(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t neg, ctx.node.attr_int("detect_negative", 1));
  KILN_ASSIGN_OR_RETURN(int64_t pos, ctx.node.attr_int("detect_positive", 1));
  UnaryParams p;
  p.mode = (neg ? 1 : 0) | (pos ? 2 : 0);
  return make_float_test<IsInfF>(ctx, p);
}

}  // namespace kiln
