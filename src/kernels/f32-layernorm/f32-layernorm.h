// LayerNormalization of one contiguous row of n values (ONNX semantics, stash_type float):
//   mean = sum(x) / n,  var = sum((x - mean)^2) / n   (population variance; computed in
//   passes around a first mean m0, with the correction delta = mean - m0 kept separate:
//   no cancellation from E[x^2] - mean^2, and a large common offset loses no digits),
//   rstd = 1 / sqrt(var + epsilon),  y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j].
// beta may be null (no bias); mean / rstd receive the statistics when non-null (the
// optional Mean and InvStdDev outputs). Sums run in `tile` / lanes vector accumulators
// folded in a fixed order. y may alias x.
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}

namespace kiln {

using F32LayerNormUkernelFn = void (*)(size_t n, const float* x, const float* gamma, const float* beta,
                                       float epsilon, float* y, float* mean, float* rstd);

struct F32LayerNormKernel {
  const char* name;  // e.g. "f32_layernorm_x16_simd"
  size_t tile;
  F32LayerNormUkernelFn fn;
};

#define KILN_F32_LAYERNORM(name, tile, arch)                                                              \
  void name(size_t n, const float* x, const float* gamma, const float* beta, float epsilon, float* y, \
            float* mean, float* rstd);
#include "kernels/f32-layernorm/f32-layernorm-list.h"
#undef KILN_F32_LAYERNORM

std::span<const F32LayerNormKernel> f32_layernorm_kernels();
const F32LayerNormKernel& f32_layernorm_default_kernel();

}  // namespace kiln
