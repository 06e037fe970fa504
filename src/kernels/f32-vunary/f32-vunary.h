// f32 elementwise unary microkernels: y[i] = f(x[i]) for the activations and math ops
// that models run on every element (Sigmoid, Tanh, Exp, Erf, Gelu in both ONNX forms,
// HardSigmoid, HardSwish, LeakyRelu, Swish, and Clip/Relu as one clamp).
//
// Signature (XNNPACK style, sizes in elements): fn(n, x, y, params). Any n >= 1; x == y
// (in place) is allowed; kernels read and write exactly n elements (the tail goes through
// a stack buffer) and never allocate. Per op: a `reference` kernel (libm in double, then
// rounded: the oracle) and vector kernels over simd/f32-vmath.h, `x<N>_<arch>` processing
// N elements per loop iteration. Max errors per kernel: src/kernels/README.md.
//
// Policy (which kernel an op uses) lives in the config table (f32-vunary-config.cc);
// src/ops/vunary_kernels.h splits large tensors over the thread pool.
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}, KILN_KERNEL_PICKED_ONLY

namespace kiln {

enum class F32VunaryOp : int {
  kSigmoid,
  kTanh,
  kExp,
  kErf,
  kGelu,          // ONNX Gelu approximate="none": x/2 (1 + erf(x / sqrt 2))
  kGeluTanh,      // ONNX Gelu approximate="tanh"
  kHardSigmoid,   // max(0, min(1, alpha x + beta))
  kHardSwish,     // x * HardSigmoid(x) with alpha = 1/6, beta = 1/2
  kLeakyRelu,     // x < 0 ? alpha x : x
  kSwish,         // x * sigmoid(x)
  kClamp,         // min(max(x, alpha), beta), NaN kept
};
inline constexpr int kF32VunaryOpCount = 11;
const char* f32_vunary_op_name(F32VunaryOp op);  // "sigmoid", ...

// alpha / beta: HardSigmoid's alpha and beta, LeakyRelu's alpha, Clamp's min and max.
struct F32VunaryParams {
  float alpha = 0, beta = 0;
};

using F32VunaryUkernelFn = void (*)(size_t n, const float* x, float* y, const F32VunaryParams* params);

struct F32VunaryKernel {
  const char* name;  // e.g. "f32_vsigmoid_x16_simd": file, test and benchmark share it
  F32VunaryOp op;
  const char* arch;  // "simd", "avx2", "vec" or "reference"
  size_t tile;       // elements per main-loop iteration (1 for the reference)
  F32VunaryUkernelFn fn;
};

#define KILN_F32_VUNARY(name, op, arch, tile) \
  void name(size_t n, const float* x, float* y, const F32VunaryParams* params);
#include "kernels/f32-vunary/f32-vunary-list.h"
#undef KILN_F32_VUNARY

// The oracles (src/kernels/reference/f32-vunary-reference.cc).
#define KILN_F32_VUNARY_REFERENCE(name, op) \
  void name(size_t n, const float* x, float* y, const F32VunaryParams* params);
#include "kernels/f32-vunary/f32-vunary-reference-list.h"
#undef KILN_F32_VUNARY_REFERENCE

// --- config table -----------------------------------------------------------------
// Every kernel this build and this CPU can run, references included (tester, benchmarks).
std::span<const F32VunaryKernel> f32_vunary_kernels();
// The one the ops use for `op`, chosen by measurement per build (src/kernels/README.md).
const F32VunaryKernel& f32_vunary_default_kernel(F32VunaryOp op);
// The oracle of `op` (arch "reference").
const F32VunaryKernel& f32_vunary_reference_kernel(F32VunaryOp op);

}  // namespace kiln
