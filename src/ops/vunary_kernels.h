// What the elementwise ops call for the float32 activations of the f32-vunary kernel
// family: the config's kernel per op, with large tensors split over the session's pool.
#pragma once
#include <cstddef>

#include "kernels/f32-vunary/f32-vunary.h"

namespace kiln {

// Elements per parallel chunk: enough that a chunk outweighs waking a thread (~10 us at
// ~1 element/ns); results are the same for any thread count (the ops are elementwise).
inline constexpr size_t kF32VunaryChunk = 16384;

// y[i] = op(x[i]) for i < n with f32_vunary_default_kernel(op) (the reference kernel when
// use_reference_kernels(), packed_gemm.h); x == y is allowed.
void run_f32_vunary(F32VunaryOp op, const float* x, float* y, size_t n, const F32VunaryParams& params = {});

}  // namespace kiln
