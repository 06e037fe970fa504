// Broadcasting binary and variadic ops: arithmetic (Add Sub Mul Div Mod Max Min Sum Mean),
// comparisons (Equal Less LessOrEqual Greater GreaterOrEqual -> bool), logic (And Or Xor)
// PRelu and BitShift. Pow and Where live in pow_where.cc.
#include <cmath>
#include <limits>

#include "core/half.h"
#include "ops/elementwise.h"
#include "ops/fused_activation.h"

namespace kiln {
namespace {

using BinaryKernel = void (*)(const BroadcastPlan&, const void*, const void*, void*);

template <class F, class T>
__attribute__((always_inline)) inline void bin_loop(const BroadcastPlan& p, const void* a, const void* b, void* z) {
  using R = decltype(F::apply(T{}, T{}));
  binary_loop(p, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<R*>(z),
              [](T x, T y) { return F::apply(x, y); });
}

// Only float32 arithmetic is hot in real models; in kiln.wasm the loops of the other
// dtypes (int8 ... int64, float16, bool: ~250 KB at -O3) are compiled for size.
#if defined(__EMSCRIPTEN__)
#define KILN_MINSIZE __attribute__((minsize))
#else
#define KILN_MINSIZE
#endif
template <class F, class T>
KILN_MINSIZE void bin_loop_small(const BroadcastPlan& p, const void* a, const void* b, void* z) {
  bin_loop<F, T>(p, a, b, z);
}

template <class F, class T>
constexpr BinaryKernel bin_kernel = std::is_same_v<T, float> ? &bin_loop<F, T> : &bin_loop_small<F, T>;

template <class F, class... Ts>
BinaryKernel pick(DType d, TypeList<Ts...> l) {
  BinaryKernel k = nullptr;
  visit_dtype(d, l, [&](auto t) { k = bin_kernel<F, decltype(t)>; });
  return k;
}

template <class T> bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
  else return false;
}

struct AddF { template <class T> static T apply(T a, T b) { return wrap_add(a, b); } };
struct SubF { template <class T> static T apply(T a, T b) { return wrap_sub(a, b); } };
struct MulF { template <class T> static T apply(T a, T b) { return wrap_mul(a, b); } };
struct DivF {
  template <class T> static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      // Integer division by zero is undefined in ONNX; kiln yields 0 instead of trapping.
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>)
        if (b == -1) return wrap_sub(T{0}, a);  // avoids the INT_MIN / -1 trap
      return static_cast<T>(a / b);
    }
    return a / b;
  }
};
// Mod with fmod=0: integer remainder with the sign of the divisor (Python/numpy).
struct ModF {
  template <class T> static T apply(T a, T b) {
    if constexpr (std::is_unsigned_v<T>) {
      return b == 0 ? T{0} : static_cast<T>(a % b);
    } else {
      if (b == 0 || b == -1) return 0;
      T r = static_cast<T>(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    }
  }
};
// Mod with fmod=1: remainder with the sign of the dividend (C fmod).
struct FmodF {
  template <class T> static T apply(T a, T b) {
    if constexpr (std::is_unsigned_v<T>) {
      return b == 0 ? T{0} : static_cast<T>(a % b);
    } else if constexpr (std::is_integral_v<T>) {
      if (b == 0 || b == -1) return 0;
      return static_cast<T>(a % b);
    } else {
      return std::fmod(a, b);
    }
  }
};
// Max/Min propagate NaN like numpy's maximum/minimum.
struct MaxF {
  template <class T> static T apply(T a, T b) { return is_nan(a) ? a : (is_nan(b) ? b : (a < b ? b : a)); }
};
struct MinF {
  template <class T> static T apply(T a, T b) { return is_nan(a) ? a : (is_nan(b) ? b : (b < a ? b : a)); }
};
struct PReluF { template <class T> static T apply(T x, T s) { return x < 0 ? wrap_mul(x, s) : x; } };
// Shifts by the bit width or more give 0 (C++ leaves them undefined).
struct ShlF {
  template <class T> static T apply(T a, T b) { return b >= sizeof(T) * 8 ? T{0} : static_cast<T>(a << b); }
};
struct ShrF {
  template <class T> static T apply(T a, T b) { return b >= sizeof(T) * 8 ? T{0} : static_cast<T>(a >> b); }
};
struct EqualF { template <class T> static uint8_t apply(T a, T b) { return a == b; } };
struct LessF { template <class T> static uint8_t apply(T a, T b) { return a < b; } };
struct LessEqF { template <class T> static uint8_t apply(T a, T b) { return a <= b; } };
struct AndF { static uint8_t apply(uint8_t a, uint8_t b) { return (a != 0) & (b != 0); } };
struct OrF { static uint8_t apply(uint8_t a, uint8_t b) { return (a != 0) | (b != 0); } };
struct XorF { static uint8_t apply(uint8_t a, uint8_t b) { return (a != 0) ^ (b != 0); } };

// One type set for all these ops: the types real models compute in (uint8/int8 for image
// data, int32/int64 for shapes). Every extra type costs ~3 KB of WASM per op.
using BinaryTypes = TypeList<float, double, int32_t, int64_t, int8_t, uint8_t>;
using IntegerTypes = TypeList<int32_t, int64_t, int8_t, uint8_t>;
// Max, Min and Mod also take the remaining integer types and float16 (computed in float32):
// rarer in models, but cheap for three ops, and ONNX defines them.
using WideIntegerTypes = TypeList<int16_t, uint16_t, uint32_t, uint64_t>;

template <class F>
void f16_kernel(const BroadcastPlan& p, const void* a, const void* b, void* z) {
  binary_loop(p, static_cast<const uint16_t*>(a), static_cast<const uint16_t*>(b), static_cast<uint16_t*>(z),
              [](uint16_t x, uint16_t y) { return float_to_half(F::apply(half_to_float(x), half_to_float(y))); });
}
template <class F, bool with_f16, class L>
BinaryKernel pick_wide(DType d, L list) {
  if constexpr (with_f16)
    if (d == DType::kF16) return &f16_kernel<F>;
  if (BinaryKernel k = pick<F>(d, list)) return k;
  return pick<F>(d, WideIntegerTypes{});
}

// What a fold op accepts and computes.
struct BinarySpec {
  BinaryKernel (*pick)(DType);
  std::string accepted;        // dtype names for errors
  bool bool_out = false;
  int min_inputs = 2, max_inputs = 2;
  bool mean = false;           // divide the sum by the input count
  bool unidirectional = false; // input 1 broadcasts to input 0's shape (PRelu)
  bool swap = false;           // kernel(in1, in0): Greater is Less swapped (saves code)
};

// Folds inputs left to right with one kernel: out = in0 op in1, then out = out op in_k.
class FoldOp final : public Op {
 public:
  FoldOp(BinarySpec spec, std::string who) : spec_(std::move(spec)), who_(std::move(who)) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    const size_t n = in.size();
    if (n < static_cast<size_t>(spec_.min_inputs)) return invalid_model(who_ + ": too few inputs");
    for (size_t i = 0; i < n; ++i) {
      if (!in[i].present()) return invalid_model(who_ + ": input " + std::to_string(i) + " is missing");
      if (in[i].dtype != in[0].dtype)
        return invalid_argument(who_ + ": input " + std::to_string(i) + " is " + dtype_name(in[i].dtype) +
                                " but input 0 is " + dtype_name(in[0].dtype) + "; dtypes must match");
    }
    kernel_ = spec_.pick(in[0].dtype);
    if (!kernel_)
      return invalid_argument(who_ + ": inputs must be " + spec_.accepted + ", got " + dtype_name(in[0].dtype));
    Dims dims = in[0].dims;
    for (size_t i = 1; i < n; ++i) {
      auto b = broadcast_dims(dims, in[i].dims);
      if (!b.ok()) return b.status().with_context(who_);
      dims = std::move(b).value();
    }
    if (spec_.unidirectional && dims != in[0].dims)
      return invalid_argument(who_ + ": slope of shape " + dims_to_string(in[1].dims) +
                              " does not broadcast to input shape " + dims_to_string(in[0].dims));
    out[0].dtype = spec_.bool_out ? DType::kBool : in[0].dtype;
    out[0].dims = std::move(dims);
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    Tensor& y = out[0];
    if (in.size() == 1) {
      broadcast_copy(make_broadcast_plan(y.dims(), {&in[0].dims()}), in[0].raw(), y.mutable_raw(),
                     dtype_size(y.dtype()));
    } else if (spec_.swap) {
      kernel_(make_broadcast_plan(y.dims(), {&in[1].dims(), &in[0].dims()}), in[1].raw(), in[0].raw(),
              y.mutable_raw());
    } else {
      kernel_(make_broadcast_plan(y.dims(), {&in[0].dims(), &in[1].dims()}), in[0].raw(), in[1].raw(),
              y.mutable_raw());
      for (size_t i = 2; i < in.size(); ++i)
        kernel_(make_broadcast_plan(y.dims(), {&y.dims(), &in[i].dims()}), y.raw(), in[i].raw(), y.mutable_raw());
    }
    if (spec_.mean) {
      const int64_t n = y.size();
      const double k = static_cast<double>(in.size());
      visit_dtype(y.dtype(), FloatTypes{}, [&](auto t) {
        using T = decltype(t);
        T* p = y.mutable_data<T>();
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(p[i] / k);
      });
    }
    return Status::Ok();
  }

 private:
  BinarySpec spec_;
  std::string who_;
  BinaryKernel kernel_ = nullptr;
};

Result<std::unique_ptr<Op>> make_fold(const OpContext& ctx, BinarySpec spec) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, spec.min_inputs, spec.max_inputs));
  if (ctx.node.outputs.size() != 1) return invalid_model(ctx.node.describe() + ": expects 1 output");
  return std::unique_ptr<Op>(new FoldOp(std::move(spec), ctx.node.describe()));
}

BinarySpec arith(BinaryKernel (*p)(DType)) { return {p, dtype_list_names(BinaryTypes{})}; }
BinarySpec compare(BinaryKernel (*p)(DType)) { return {p, dtype_list_names(BinaryTypes{}), true}; }
BinarySpec logic(BinaryKernel (*p)(DType)) { return {p, "bool", true}; }
BinarySpec variadic(BinarySpec s, bool mean = false) {
  s.min_inputs = 1;
  s.max_inputs = 1 << 20;
  s.mean = mean;
  return s;
}
template <class F>
BinaryKernel pick_bool(DType d) {
  return d == DType::kBool ? bin_kernel<F, uint8_t> : nullptr;
}

}  // namespace

// Add may carry an activation fused by the optimizer (graph/kiln_extensions.h).
Result<std::unique_ptr<Op>> create_add(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(FusedActivation act, parse_fused_activation(ctx.node));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Op> op, make_fold(ctx, arith([](DType d) { return pick<AddF>(d, BinaryTypes{}); })));
  return with_fused_activation(std::move(op), act, ctx.node.describe());
}
Result<std::unique_ptr<Op>> create_sub(const OpContext& ctx) {
  return make_fold(ctx, arith([](DType d) { return pick<SubF>(d, BinaryTypes{}); }));
}
Result<std::unique_ptr<Op>> create_mul(const OpContext& ctx) {
  return make_fold(ctx, arith([](DType d) { return pick<MulF>(d, BinaryTypes{}); }));
}
Result<std::unique_ptr<Op>> create_div(const OpContext& ctx) {
  return make_fold(ctx, arith([](DType d) { return pick<DivF>(d, BinaryTypes{}); }));
}
Result<std::unique_ptr<Op>> create_mod(const OpContext& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t fmod, ctx.node.attr_int("fmod", 0));
  if (fmod != 0 && fmod != 1) return invalid_model(ctx.node.describe() + ": fmod must be 0 or 1");
  const std::string wide = "/" + dtype_list_names(WideIntegerTypes{});
  if (fmod)
    return make_fold(ctx, {[](DType d) { return pick_wide<FmodF, true>(d, BinaryTypes{}); },
                           dtype_list_names(BinaryTypes{}) + wide + "/float16"});
  // fmod=0 is defined for integers only (ONNX requires fmod=1 for floats).
  return make_fold(ctx, {[](DType d) { return pick_wide<ModF, false>(d, IntegerTypes{}); },
                         dtype_list_names(IntegerTypes{}) + wide + " (use fmod=1 for floats)"});
}
Result<std::unique_ptr<Op>> create_max(const OpContext& ctx) {
  return make_fold(ctx, variadic({[](DType d) { return pick_wide<MaxF, true>(d, BinaryTypes{}); },
                                  dtype_list_names(BinaryTypes{}) + "/" + dtype_list_names(WideIntegerTypes{}) + "/float16"}));
}
Result<std::unique_ptr<Op>> create_min(const OpContext& ctx) {
  return make_fold(ctx, variadic({[](DType d) { return pick_wide<MinF, true>(d, BinaryTypes{}); },
                                  dtype_list_names(BinaryTypes{}) + "/" + dtype_list_names(WideIntegerTypes{}) + "/float16"}));
}
Result<std::unique_ptr<Op>> create_sum(const OpContext& ctx) {
  return make_fold(ctx, variadic(arith([](DType d) { return pick<AddF>(d, BinaryTypes{}); })));
}
Result<std::unique_ptr<Op>> create_mean(const OpContext& ctx) {
  BinarySpec s{[](DType d) { return pick<AddF>(d, FloatTypes{}); }, dtype_list_names(FloatTypes{})};
  return make_fold(ctx, variadic(s, true));
}
Result<std::unique_ptr<Op>> create_prelu(const OpContext& ctx) {
  BinarySpec s = arith([](DType d) { return pick<PReluF>(d, BinaryTypes{}); });
  s.unidirectional = true;
  return make_fold(ctx, s);
}
Result<std::unique_ptr<Op>> create_equal(const OpContext& ctx) {
  BinarySpec s = compare(
      [](DType d) { return d == DType::kBool ? bin_kernel<EqualF, uint8_t> : pick<EqualF>(d, BinaryTypes{}); });
  s.accepted += "/bool";
  return make_fold(ctx, s);
}
Result<std::unique_ptr<Op>> create_less(const OpContext& ctx) {
  return make_fold(ctx, compare([](DType d) { return pick<LessF>(d, BinaryTypes{}); }));
}
Result<std::unique_ptr<Op>> create_less_or_equal(const OpContext& ctx) {
  return make_fold(ctx, compare([](DType d) { return pick<LessEqF>(d, BinaryTypes{}); }));
}
Result<std::unique_ptr<Op>> create_greater(const OpContext& ctx) {  // a > b is b < a
  BinarySpec s = compare([](DType d) { return pick<LessF>(d, BinaryTypes{}); });
  s.swap = true;
  return make_fold(ctx, s);
}
Result<std::unique_ptr<Op>> create_greater_or_equal(const OpContext& ctx) {  // a >= b is b <= a
  BinarySpec s = compare([](DType d) { return pick<LessEqF>(d, BinaryTypes{}); });
  s.swap = true;
  return make_fold(ctx, s);
}
Result<std::unique_ptr<Op>> create_bit_shift(const OpContext& ctx) {
  using UnsignedTypes = TypeList<uint8_t, uint16_t, uint32_t, uint64_t>;
  KILN_ASSIGN_OR_RETURN(std::string dir, ctx.node.attr_string("direction"));
  if (dir != "LEFT" && dir != "RIGHT")
    return invalid_model(ctx.node.describe() + ": direction must be LEFT or RIGHT, got '" + dir + "'");
  if (dir == "LEFT")
    return make_fold(ctx, {[](DType d) { return pick<ShlF>(d, UnsignedTypes{}); }, dtype_list_names(UnsignedTypes{})});
  return make_fold(ctx, {[](DType d) { return pick<ShrF>(d, UnsignedTypes{}); }, dtype_list_names(UnsignedTypes{})});
}

Result<std::unique_ptr<Op>> create_and(const OpContext& ctx) { return make_fold(ctx, logic(&pick_bool<AndF>)); }
Result<std::unique_ptr<Op>> create_or(const OpContext& ctx) { return make_fold(ctx, logic(&pick_bool<OrF>)); }
Result<std::unique_ptr<Op>> create_xor(const OpContext& ctx) { return make_fold(ctx, logic(&pick_bool<XorF>)); }

}  // namespace kiln
