// Softmax over contiguous rows in XNNPACK's three passes:
//   1. f32-rmax (f32-reduce.h): m = max of the row;
//   2. f32-raddstoreexpminusmax: y[i] = exp(x[i] - m), *sum = sum of y;
//   3. f32-vmulc: y[i] *= 1 / sum   (LogSoftmax: f32-vaddc twice, y[i] = (x[i] - m) - log sum).
// exp is the polynomial in f32-softmax-ukernel.h (error bound documented there and in
// src/kernels/README.md). Kernels walk tiles of `tile` elements, then whole vectors, then
// the last < lanes elements through a lane buffer, so every element goes through the same
// vector code and nothing is read or written past n.
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}
#include "kernels/f32-reduce/f32-reduce.h"

namespace kiln {

using F32RaddstoreexpminusmaxUkernelFn = void (*)(size_t n, const float* x, float max, float* y, float* sum);
// y[i] = x[i] (*|+) c; y may alias x.
using F32VopcUkernelFn = void (*)(size_t n, const float* x, float c, float* y);

struct F32RaddstoreexpminusmaxKernel {
  const char* name;  // e.g. "f32_raddstoreexpminusmax_x16_simd"
  size_t tile;
  F32RaddstoreexpminusmaxUkernelFn fn;
};
struct F32VopcKernel {
  const char* name;  // e.g. "f32_vmulc_x16_simd"
  size_t tile;
  F32VopcUkernelFn fn;
};

#define KILN_F32_RADDSTOREEXPMINUSMAX(name, tile, arch) \
  void name(size_t n, const float* x, float max, float* y, float* sum);
#define KILN_F32_VMULC(name, tile, arch) void name(size_t n, const float* x, float c, float* y);
#define KILN_F32_VADDC(name, tile, arch) void name(size_t n, const float* x, float c, float* y);
#include "kernels/f32-softmax/f32-softmax-list.h"
#undef KILN_F32_RADDSTOREEXPMINUSMAX
#undef KILN_F32_VMULC
#undef KILN_F32_VADDC

std::span<const F32RaddstoreexpminusmaxKernel> f32_raddstoreexpminusmax_kernels();
std::span<const F32VopcKernel> f32_vmulc_kernels();
std::span<const F32VopcKernel> f32_vaddc_kernels();

// The kernels one softmax row runs, chosen by the config table.
struct F32SoftmaxKernels {
  const F32RmaxKernel* rmax;
  const F32RaddstoreexpminusmaxKernel* raddstoreexpminusmax;
  const F32VopcKernel* vmulc;
  const F32VopcKernel* vaddc;
};
const F32SoftmaxKernels& f32_softmax_default_kernels();

// Softmax (or log-softmax) of one contiguous row of n values; y may alias x only for
// softmax (log-softmax reads x after writing exp values to y).
void f32_softmax_row(const F32SoftmaxKernels& k, size_t n, const float* x, float* y, bool log);

}  // namespace kiln
