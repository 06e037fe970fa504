// f32 row reductions (XNNPACK's f32-rmax / f32-rsum): one value per contiguous row.
//   rmax: *y = max of x[0..n)   (-inf for n == 0; pmax semantics, NaN may or may not win)
//   rsum: *y = scale * sum of x[0..n)
// Used by Softmax (row max), GlobalMaxPool / GlobalAveragePool on NCHW data (one row per
// channel plane). Each kernel keeps `tile` elements in flight in tile / lanes independent
// vector accumulators, then reduces them in a fixed order (results do not depend on the
// thread split, and a row always sums in the same order).
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}

namespace kiln {

using F32RmaxUkernelFn = void (*)(size_t n, const float* x, float* y);
using F32RsumUkernelFn = void (*)(size_t n, const float* x, float* y, float scale);

struct F32RmaxKernel {
  const char* name;  // e.g. "f32_rmax_x16_simd"
  size_t tile;
  F32RmaxUkernelFn fn;
};
struct F32RsumKernel {
  const char* name;  // e.g. "f32_rsum_x16_simd"
  size_t tile;
  F32RsumUkernelFn fn;
};

#define KILN_F32_RMAX(name, tile, arch) void name(size_t n, const float* x, float* y);
#define KILN_F32_RSUM(name, tile, arch) void name(size_t n, const float* x, float* y, float scale);
#include "kernels/f32-reduce/f32-reduce-list.h"
#undef KILN_F32_RMAX
#undef KILN_F32_RSUM

std::span<const F32RmaxKernel> f32_rmax_kernels();
std::span<const F32RsumKernel> f32_rsum_kernels();
const F32RmaxKernel& f32_rmax_default_kernel();
const F32RsumKernel& f32_rsum_default_kernel();

}  // namespace kiln
