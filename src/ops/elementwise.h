// Shared machinery of the elementwise, shape and reduction ops (ggml-like): C-type
// dispatch on DType, a broadcast iteration plan with collapsed dims, and loop templates
// with fast paths for same-shape and scalar operands.
#pragma once
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/op.h"

namespace kiln {

// ---- dtype <-> C type ----

template <class... Ts>
struct TypeList {};
using FloatTypes = TypeList<float, double>;
using ArithTypes = TypeList<float, double, int32_t, int64_t>;
using SignedTypes = TypeList<float, double, int8_t, int16_t, int32_t, int64_t>;
using NumericTypes =
    TypeList<float, double, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, uint64_t>;

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kF32; }
template <> constexpr DType dtype_of<double>() { return DType::kF64; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kI8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kU8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::kI16; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::kU16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kI32; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::kU32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kI64; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::kU64; }

// Calls f(T{}) for the T in the list whose dtype is d; false when d is not in the list.
template <class... Ts, class F>
bool visit_dtype(DType d, TypeList<Ts...>, F&& f) {
  return ((d == dtype_of<Ts>() ? (f(Ts{}), true) : false) || ...);
}

// "float32/int64" for error messages listing what a list accepts.
template <class... Ts>
std::string dtype_list_names(TypeList<Ts...>) {
  std::string s;
  ((s += std::string(s.empty() ? "" : "/") + dtype_name(dtype_of<Ts>())), ...);
  return s;
}

// Unsigned twin used for wrap-around integer arithmetic (signed overflow is UB).
template <class T> T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) + static_cast<std::make_unsigned_t<T>>(b));
  else return a + b;
}
template <class T> T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) - static_cast<std::make_unsigned_t<T>>(b));
  else return a - b;
}
template <class T> T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) * static_cast<std::make_unsigned_t<T>>(b));
  else return a * b;
}

// ---- broadcast plan ----

// Iteration over an output of `out` dims reading up to 3 inputs that broadcast to it.
// Size-1 dims are dropped and adjacent dims with the same broadcast pattern merged, so
// the innermost loop is as long as possible and its input strides are 0 or 1.
struct BroadcastPlan {
  static constexpr int kMaxInputs = 3;
  int num_inputs = 0;
  int64_t size = 0;             // output elements
  std::vector<int64_t> shape;   // collapsed output dims; empty: one element
  std::vector<int64_t> strides[kMaxInputs];  // per collapsed dim, in elements
};

// Inputs must broadcast to `out` (check with broadcast_dims first).
BroadcastPlan make_broadcast_plan(const Dims& out, std::initializer_list<const Dims*> ins);

// Broadcast of any number of shapes; error names `what`.
Result<Dims> broadcast_all(std::initializer_list<const Dims*> ins, const std::string& what);

// Calls f(offsets, out_offset, n, inner_strides) once per innermost run of the plan.
template <class F>
void for_each_run(const BroadcastPlan& p, F&& f) {
  constexpr int K = BroadcastPlan::kMaxInputs;
  if (p.size == 0) return;
  int64_t off[K] = {0, 0, 0}, s[K] = {0, 0, 0};
  const size_t r = p.shape.size();
  if (r == 0) {
    f(off, int64_t{0}, int64_t{1}, s);
    return;
  }
  const int64_t n = p.shape[r - 1];
  for (int k = 0; k < p.num_inputs; ++k) s[k] = p.strides[k][r - 1];
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < p.size; o += n) {
    f(off, o, n, s);
    for (size_t d = r - 1; d-- > 0;) {
      if (++idx[d] < p.shape[d]) {
        for (int k = 0; k < p.num_inputs; ++k) off[k] += p.strides[k][d];
        break;
      }
      idx[d] = 0;
      for (int k = 0; k < p.num_inputs; ++k) off[k] -= p.strides[k][d] * (p.shape[d] - 1);
    }
  }
}

// z = f(x, y) over a plan of two inputs.
template <class A, class B, class R, class F>
void binary_loop(const BroadcastPlan& p, const A* a, const B* b, R* z, F f) {
  for_each_run(p, [&](const int64_t* off, int64_t o, int64_t n, const int64_t* s) {
    const A* x = a + off[0];
    const B* y = b + off[1];
    R* r = z + o;
    if (s[0] && s[1]) {
      for (int64_t i = 0; i < n; ++i) r[i] = f(x[i], y[i]);
    } else if (s[0]) {
      const B yv = *y;
      for (int64_t i = 0; i < n; ++i) r[i] = f(x[i], yv);
    } else if (s[1]) {
      const A xv = *x;
      for (int64_t i = 0; i < n; ++i) r[i] = f(xv, y[i]);
    } else {
      const R v = f(*x, *y);
      for (int64_t i = 0; i < n; ++i) r[i] = v;
    }
  });
}

// Copies `in` broadcast to the plan's output; element type chosen by size (any dtype).
void broadcast_copy(const BroadcastPlan& p, const void* in, void* out, size_t elem_size);

// ---- small helpers shared by the ops ----

// Input i is present (not an omitted optional).
inline bool has_in(std::span<const TensorInfo> in, size_t i) { return i < in.size() && in[i].present(); }
inline bool has_in(std::span<const Tensor> in, size_t i) { return i < in.size() && in[i].defined(); }

// TensorInfos (with values) of run-time tensors, so run can reuse infer's planning.
std::vector<TensorInfo> infos_of(std::span<const Tensor> in);

// Checks the node's output count is within [min, max]; message names the node.
Status check_output_count(const OpContext& ctx, size_t min, size_t max);

// Checks that run received outputs of the dims infer computed (guards buffer overruns).
Status check_outputs(std::span<const Tensor> out, std::span<const TensorInfo> expect, const std::string& who);

// The first step of run() in single-output ops: infer again from the actual inputs (their
// values may matter) and check the executor allocated that output; returns what infer said.
Result<TensorInfo> infer_and_check(Op& op, std::span<const Tensor> in, std::span<const Tensor> out,
                                   const std::string& who);

// Reads a tensor with exactly one element as double / int64.
Result<double> read_scalar_f64(const Tensor& t, const std::string& what);
Result<int64_t> read_scalar_i64(const Tensor& t, const std::string& what);

// Product of dims; an error when a dim is negative or the product exceeds what kiln
// could ever allocate (guards int64 overflow on hostile shapes).
Result<int64_t> checked_num_elements(const Dims& d, const std::string& what);

// Normalizes a list of axes against rank; rejects duplicates.
Result<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank, const std::string& what);

// Copies n elements of `elem_size` bytes from src with stride (elements) to contiguous dst.
void strided_copy(const uint8_t* src, int64_t stride, uint8_t* dst, int64_t n, size_t elem_size);

// Copies a strided view of src (per-dim sizes and strides in elements, strides may be
// negative or 0) into contiguous dst. Size-1 dims are dropped and dims contiguous with
// their outer neighbour merged, so the inner copy is long (a memcpy when stride is 1).
void copy_strided(const uint8_t* src, const Dims& size, const std::vector<int64_t>& stride, uint8_t* dst,
                  size_t elem_size);

// ---- unary ops (unary.cc holds the op class; activation.cc and unary.cc the functors) ----

struct UnaryParams {
  float alpha = 0, beta = 0, gamma = 0;
  int mode = 0;
};
using UnaryKernel = void (*)(const void* x, void* y, int64_t n, const UnaryParams& p);

// y[i] = F::apply(x[i], p); the output type is whatever F::apply returns.
template <class F, class T>
void unary_kernel(const void* x, void* y, int64_t n, const UnaryParams& params) {
  using R = decltype(F::apply(T{}, params));
  const UnaryParams p = params;
  const T* a = static_cast<const T*>(x);
  R* r = static_cast<R*>(y);
  for (int64_t i = 0; i < n; ++i) r[i] = F::apply(a[i], p);
}

template <class F, class... Ts>
UnaryKernel pick_unary(DType d, TypeList<Ts...> l) {
  UnaryKernel k = nullptr;
  visit_dtype(d, l, [&](auto t) { k = &unary_kernel<F, decltype(t)>; });
  return k;
}

struct UnarySpec {
  UnaryKernel (*pick)(DType) = nullptr;
  std::string accepted;                  // dtype names for errors
  DType out_dtype = DType::kUndefined;   // undefined: same as the input
  UnaryParams params;
};

// A one-input, one-output op applying the kernel spec.pick chooses for the input dtype.
Result<std::unique_ptr<Op>> make_unary_op(const OpContext& ctx, UnarySpec spec);

// Same as make_unary_op, with the kernel over FloatTypes for functor F.
template <class F>
Result<std::unique_ptr<Op>> make_float_unary(const OpContext& ctx, UnaryParams params = {}) {
  UnarySpec s;
  s.pick = [](DType d) { return pick_unary<F>(d, FloatTypes{}); };
  s.accepted = dtype_list_names(FloatTypes{});
  s.params = params;
  return make_unary_op(ctx, std::move(s));
}

}  // namespace kiln
