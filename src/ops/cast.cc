// Cast and CastLike between every numeric dtype, float16 and bool. Float -> integer
// truncates toward zero like ONNX and saturates out-of-range values (C++ leaves them
// undefined, and WebAssembly would trap).
#include <cmath>
#include <cstring>
#include <limits>

#include "core/half.h"
#include "ops/elementwise.h"

namespace kiln {
namespace {
struct Half { uint16_t bits; };
struct Bool { uint8_t v; };
}  // namespace

template <> constexpr DType dtype_of<Half>() { return DType::kF16; }
template <> constexpr DType dtype_of<Bool>() { return DType::kBool; }

namespace {

using CastTypes = TypeList<float, double, Half, Bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t,
                           int64_t, uint64_t>;

template <class I>
I saturate_to(double v) {
  if (std::isnan(v)) return 0;
  if (v <= static_cast<double>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

template <class D, class S>
D convert(S s) {
  if constexpr (std::is_same_v<S, Half>) {
    return convert<D>(half_to_float(s.bits));
  } else if constexpr (std::is_same_v<S, Bool>) {
    return convert<D>(static_cast<uint8_t>(s.v != 0));
  } else if constexpr (std::is_same_v<D, Half>) {
    return Half{float_to_half(static_cast<float>(s))};
  } else if constexpr (std::is_same_v<D, Bool>) {
    return Bool{static_cast<uint8_t>(s != 0)};
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    return saturate_to<D>(static_cast<double>(s));
  } else {
    return static_cast<D>(s);  // integer narrowing wraps modulo 2^n (C++20)
  }
}

using CastKernel = void (*)(const void*, void*, int64_t);

template <class S, class D>
void cast_kernel(const void* src, void* dst, int64_t n) {
  const S* a = static_cast<const S*>(src);
  D* b = static_cast<D*>(dst);
  for (int64_t i = 0; i < n; ++i) b[i] = convert<D>(a[i]);
}

CastKernel pick_cast(DType from, DType to) {
  CastKernel k = nullptr;
  visit_dtype(from, CastTypes{}, [&](auto s) {
    visit_dtype(to, CastTypes{}, [&](auto d) { k = &cast_kernel<decltype(s), decltype(d)>; });
  });
  return k;
}

class CastOp final : public Op {
 public:
  // like: take the target dtype from input 1 (CastLike).
  CastOp(std::string who, DType to, bool like) : who_(std::move(who)), to_(to), like_(like) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0)) return invalid_model(who_ + ": input is missing");
    DType to = to_;
    if (like_) {
      if (!has_in(in, 1)) return invalid_model(who_ + ": target_type input is missing");
      to = in[1].dtype;
    }
    if (in[0].dtype != to && !pick_cast(in[0].dtype, to))
      return unsupported(who_ + ": cannot cast " + dtype_name(in[0].dtype) + " to " + dtype_name(to));
    if (!dtype_is_valid_storage(in[0].dtype))
      return unsupported(who_ + ": cannot cast from " + std::string(dtype_name(in[0].dtype)));
    out[0].dtype = to;
    out[0].dims = in[0].dims;
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    if (in[0].dtype() == out[0].dtype()) {
      if (in[0].bytes()) std::memcpy(out[0].mutable_raw(), in[0].raw(), in[0].bytes());
      return Status::Ok();
    }
    pick_cast(in[0].dtype(), out[0].dtype())(in[0].raw(), out[0].mutable_raw(), in[0].size());
    return Status::Ok();
  }

 private:
  std::string who_;
  DType to_;
  bool like_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_cast(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 1, 1));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t to, ctx.node.attr_int("to"));
  DType t = static_cast<DType>(to);
  if (to < 1 || to > 13 || !dtype_is_valid_storage(t))
    return unsupported(ctx.node.describe() + ": cannot cast to ONNX data type " + std::to_string(to));
  return std::unique_ptr<Op>(new CastOp(ctx.node.describe(), t, false));
}

Result<std::unique_ptr<Op>> create_cast_like(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  return std::unique_ptr<Op>(new CastOp(ctx.node.describe(), DType::kUndefined, true));
}

}  // namespace kiln
