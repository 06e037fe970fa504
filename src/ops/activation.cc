// Activation functions: Relu LeakyRelu Elu Selu Celu ThresholdedRelu Softplus Softsign
// HardSigmoid HardSwish Gelu Shrink, and Clip (bounds as attributes before opset 11, as optional
// inputs from 11).
#include <cmath>
#include <limits>

#include "ops/elementwise.h"
#include "ops/fast_math.h"
#include "ops/vunary_op.h"

namespace kiln {
namespace {

struct ReluF { template <class T> static T apply(T x, const UnaryParams&) { return x > 0 ? x : T{0}; } };
struct LeakyReluF {
  template <class T> static T apply(T x, const UnaryParams& p) { return x < 0 ? static_cast<T>(p.alpha) * x : x; }
};
struct EluF {
  template <class T> static T apply(T x, const UnaryParams& p) {
    return x < 0 ? static_cast<T>(p.alpha) * (fast::exp_t(x) - T{1}) : x;
  }
};
struct SeluF {
  template <class T> static T apply(T x, const UnaryParams& p) {
    return static_cast<T>(p.gamma) * (x > 0 ? x : static_cast<T>(p.alpha) * (fast::exp_t(x) - T{1}));
  }
};
struct CeluF {
  template <class T> static T apply(T x, const UnaryParams& p) {
    const T a = static_cast<T>(p.alpha);
    return std::max(T{0}, x) + std::min(T{0}, a * (fast::exp_t(x / a) - T{1}));
  }
};
struct ThresholdedReluF {
  template <class T> static T apply(T x, const UnaryParams& p) { return x > static_cast<T>(p.alpha) ? x : T{0}; }
};
// log(1 + e^x) without overflow for large x.
struct SoftplusF {
  template <class T> static T apply(T x, const UnaryParams&) {
    return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
};
struct SoftsignF { template <class T> static T apply(T x, const UnaryParams&) { return x / (T{1} + std::abs(x)); } };
struct HardSigmoidF {
  template <class T> static T apply(T x, const UnaryParams& p) {
    T v = static_cast<T>(p.alpha) * x + static_cast<T>(p.beta);
    return v < 0 ? T{0} : (v > 1 ? T{1} : v);
  }
};
struct HardSwishF {
  template <class T> static T apply(T x, const UnaryParams&) {
    T v = x / T{6} + T{0.5};
    return x * (v < 0 ? T{0} : (v > 1 ? T{1} : v));
  }
};
// mode 0: exact (erf), mode 1: tanh approximation.
struct GeluF {
  template <class T> static T apply(T x, const UnaryParams& p) {
    if (p.mode == 1) {
      const T k = static_cast<T>(0.7978845608028654);  // sqrt(2/pi)
      return T{0.5} * x * (T{1} + fast::tanh_t(k * (x + static_cast<T>(0.044715) * x * x * x)));
    }
    return T{0.5} * x * (T{1} + fast::erf_t(x * static_cast<T>(0.7071067811865476)));
  }
};

// Shrink: alpha = lambd, beta = bias.
struct ShrinkF {
  template <class T> static T apply(T x, const UnaryParams& p) {
    const T l = static_cast<T>(p.alpha), b = static_cast<T>(p.beta);
    return x < -l ? x + b : (x > l ? x - b : T{0});
  }
};

Result<float> alpha_attr(const OpContext& ctx, float def) { return ctx.node.attr_float("alpha", def); }

// y = min(max(x, lo), hi); NaN inputs stay NaN, and lo > hi gives hi as ONNX specifies.
class ClipOp final : public Op {
 public:
  ClipOp(std::string who, bool attr_form, float lo, float hi)
      : who_(std::move(who)), attr_form_(attr_form), lo_(lo), hi_(hi) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    bool ok = visit_dtype(in[0].dtype, SignedTypes{}, [](auto) {}) ||
              visit_dtype(in[0].dtype, TypeList<uint8_t, uint16_t, uint32_t, uint64_t>{}, [](auto) {});
    if (!ok || (attr_form_ && in[0].dtype != DType::kF32 && in[0].dtype != DType::kF64))
      return invalid_argument(who_ + ": input must be " + (attr_form_ ? "float32/float64" : "numeric") + ", got " +
                              dtype_name(in[0].dtype));
    for (size_t i = 1; i < 3 && !attr_form_; ++i) {
      if (!has_in(in, i)) continue;
      const char* name = i == 1 ? "min" : "max";
      if (in[i].dtype != in[0].dtype)
        return invalid_argument(who_ + ": " + name + " is " + dtype_name(in[i].dtype) + " but the input is " +
                                dtype_name(in[0].dtype));
      if (num_elements(in[i].dims) != 1)
        return invalid_argument(who_ + ": " + name + " must be a scalar, got shape " + dims_to_string(in[i].dims));
    }
    out[0].dtype = in[0].dtype;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    auto body = [&](auto tag) {
      using T = decltype(tag);
      T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
      if (attr_form_) {
        lo = std::max(lo, static_cast<T>(std::max<double>(lo_, static_cast<double>(lo))));
        hi = std::min(hi, static_cast<T>(std::min<double>(hi_, static_cast<double>(hi))));
      } else {
        if (has_in(in, 1)) lo = in[1].data<T>()[0];
        if (has_in(in, 2)) hi = in[2].data<T>()[0];
      }
      const T* x = in[0].data<T>();
      T* y = out[0].mutable_data<T>();
      if constexpr (std::is_same_v<T, float>) {  // the same min/max with NaN kept, vectorized
        run_f32_vunary(F32VunaryOp::kClamp, x, y, static_cast<size_t>(in[0].size()), F32VunaryParams{lo, hi});
        return;
      }
      for (int64_t i = 0, n = in[0].size(); i < n; ++i) {
        T v = x[i] < lo ? lo : x[i];
        y[i] = hi < v ? hi : v;
      }
    };
    if (!visit_dtype(in[0].dtype(), SignedTypes{}, body))
      visit_dtype(in[0].dtype(), TypeList<uint8_t, uint16_t, uint32_t, uint64_t>{}, body);
    return Status::Ok();
  }

 private:
  std::string who_;
  bool attr_form_;
  float lo_, hi_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_relu(const OpContext& ctx) {
  UnarySpec s;
  s.pick = [](DType d) { return pick_unary<ReluF>(d, SignedTypes{}); };
  s.accepted = dtype_list_names(SignedTypes{});
  return make_unary_op(ctx, std::move(s));
}

Result<std::unique_ptr<Op>> create_leaky_relu(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, alpha_attr(ctx, 0.01f));
  return make_float_unary_vunary<LeakyReluF, F32VunaryOp::kLeakyRelu>(ctx, p);
}

Result<std::unique_ptr<Op>> create_elu(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, alpha_attr(ctx, 1.0f));
  return make_float_unary<EluF>(ctx, p);
}

Result<std::unique_ptr<Op>> create_selu(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, alpha_attr(ctx, 1.67326319217681884765625f));
  KILN_ASSIGN_OR_RETURN(p.gamma, ctx.node.attr_float("gamma", 1.05070102214813232421875f));
  return make_float_unary<SeluF>(ctx, p);
}

Result<std::unique_ptr<Op>> create_celu(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, alpha_attr(ctx, 1.0f));
  if (p.alpha == 0) return invalid_model(ctx.node.describe() + ": alpha must not be 0");
  return make_float_unary<CeluF>(ctx, p);
}

Result<std::unique_ptr<Op>> create_thresholded_relu(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, alpha_attr(ctx, 1.0f));
  return make_float_unary<ThresholdedReluF>(ctx, p);
}

Result<std::unique_ptr<Op>> create_shrink(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, ctx.node.attr_float("lambd", 0.5f));
  KILN_ASSIGN_OR_RETURN(p.beta, ctx.node.attr_float("bias", 0.f));
  return make_float_unary<ShrinkF>(ctx, p);
}

Result<std::unique_ptr<Op>> create_softplus(const OpContext& ctx) { return make_float_unary<SoftplusF>(ctx); }
Result<std::unique_ptr<Op>> create_softsign(const OpContext& ctx) { return make_float_unary<SoftsignF>(ctx); }

Result<std::unique_ptr<Op>> create_hard_sigmoid(const OpContext& ctx) {
  UnaryParams p;
  KILN_ASSIGN_OR_RETURN(p.alpha, alpha_attr(ctx, 0.2f));
  KILN_ASSIGN_OR_RETURN(p.beta, ctx.node.attr_float("beta", 0.5f));
  return make_float_unary_vunary<HardSigmoidF, F32VunaryOp::kHardSigmoid>(ctx, p);
}

Result<std::unique_ptr<Op>> create_hard_swish(const OpContext& ctx) {
  return make_float_unary_vunary<HardSwishF, F32VunaryOp::kHardSwish>(ctx);
}

Result<std::unique_ptr<Op>> create_gelu(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(std::string approx, ctx.node.attr_string("approximate", std::string("none")));
  UnaryParams p;
  if (approx == "tanh") p.mode = 1;
  else if (approx != "none")
    return invalid_model(ctx.node.describe() + ": approximate must be 'none' or 'tanh', got '" + approx + "'");
  if (p.mode == 1) return make_float_unary_vunary<GeluF, F32VunaryOp::kGeluTanh>(ctx, p);
  return make_float_unary_vunary<GeluF, F32VunaryOp::kGelu>(ctx, p);
}

Result<std::unique_ptr<Op>> create_clip(const OpContext& ctx) {
  const bool attr_form = ctx.opset < 11;
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, attr_form ? 1 : 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(float lo, ctx.node.attr_float("min", std::numeric_limits<float>::lowest()));
  KILN_ASSIGN_OR_RETURN(float hi, ctx.node.attr_float("max", std::numeric_limits<float>::max()));
  return std::unique_ptr<Op>(new ClipOp(ctx.node.describe(), attr_form, lo, hi));
}

}  // namespace kiln
