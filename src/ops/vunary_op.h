// The unary ops (unary.cc, activation.cc) over the f32-vunary kernels: float32 inputs run
// run_f32_vunary, float64 the op's scalar functor.
#pragma once
#include <cstdint>
#include <memory>

#include "ops/elementwise.h"
#include "ops/vunary_kernels.h"

namespace kiln {

// A UnaryKernel (elementwise.h) over run_f32_vunary: alpha / beta come from UnaryParams.
template <F32VunaryOp OP>
void f32_vunary_unary_kernel(const void* x, void* y, int64_t n, const UnaryParams& p) {
  run_f32_vunary(OP, static_cast<const float*>(x), static_cast<float*>(y), static_cast<size_t>(n),
                 F32VunaryParams{p.alpha, p.beta});
}

// make_float_unary with float32 running the f32-vunary kernel OP (other dtypes: functor F).
template <class F, F32VunaryOp OP>
Result<std::unique_ptr<Op>> make_float_unary_vunary(const OpContext& ctx, UnaryParams params = {}) {
  UnarySpec s;
  s.pick = [](DType d) -> UnaryKernel {
    return d == DType::kF32 ? &f32_vunary_unary_kernel<OP> : pick_unary<F>(d, FloatTypes{});
  };
  s.accepted = dtype_list_names(FloatTypes{});
  s.params = params;
  return make_unary_op(ctx, std::move(s));
}

}  // namespace kiln
