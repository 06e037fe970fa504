// f32 GEMM over packed weights: C[m, n] = clamp(A[m, k] x B[k, n] + bias[n], min, max).
//
// B (the weights) is packed once into panels of NR columns: for each panel, NR biases,
// then k rows of NR consecutive values (K x NR interleaved), columns past n zero padded.
// A microkernel computes an mr x nc block (mr <= MR rows, any nc: it walks the panels)
// with unit-stride rows of A and C; strides are in elements. Kernels never allocate.
//
// Policy (which tile) lives in the config table (f32-gemm-config.cc); the driver
// (f32-gemm-driver.cc) tiles M x N over a microkernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace kiln {

struct F32MinMax {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

using F32GemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w,
                                  float* c, size_t c_stride, const F32MinMax* params);

struct F32GemmKernel {
  const char* name;  // e.g. "f32_gemm_4x8_simd": file, test and benchmark share it
  size_t mr, nr;
  F32GemmUkernelFn fn;
};

// Which microkernel families this build has: SIMD128 under em++ -msimd128; AVX2+FMA on
// native x86-64 (CMake defines KILN_BUILD_AVX2 and compiles those files with -mavx2
// -mfma; the config checks the CPU at run time); the portable vector kernel always.
#if defined(__wasm_simd128__)
#define KILN_F32_GEMM_SIMD 1
#else
#define KILN_F32_GEMM_SIMD 0
#endif
#if defined(KILN_BUILD_AVX2)
#define KILN_F32_GEMM_AVX2 1
#else
#define KILN_F32_GEMM_AVX2 0
#endif
#define KILN_F32_GEMM_VEC 1
// kiln.wasm links only the tiles its config tables can pick (size budget); the kernel
// tests and benchmarks (tests/wasm) define KILN_KERNEL_ALL_TILES to get every tile.
// Generated lists mark each tile picked or not (scripts/gen-f32-gemm.mjs).
#if defined(__EMSCRIPTEN__) && !defined(KILN_KERNEL_ALL_TILES)
#define KILN_KERNEL_PICKED_ONLY 1
#else
#define KILN_KERNEL_PICKED_ONLY 0
#endif

// Microkernels, generated from f32-gemm-ukernel.h (see scripts/gen-f32-gemm.mjs).
#define KILN_F32_GEMM(name, tile_mr, tile_nr, arch) \
  void name(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, float* c, \
            size_t c_stride, const F32MinMax* params);
#include "kernels/f32-gemm/f32-gemm-list.h"
#undef KILN_F32_GEMM

// --- config table -----------------------------------------------------------------
// Every microkernel this build and this CPU can run (the tester's and benchmark's list).
std::span<const F32GemmKernel> f32_gemm_kernels();
// The one the ops use, chosen by measurement per build (see src/kernels/README.md).
const F32GemmKernel& f32_gemm_default_kernel();
// A one-row kernel with panels of `nr` columns (so it reads weights packed for any kernel
// of that nr), or null: what a GEMV (m = 1, e.g. a recurrent step) runs instead of an
// MR-row tile whose other rows would repeat the one row's work.
const F32GemmKernel* f32_gemm_single_row_kernel(size_t nr);

// --- packing ------------------------------------------------------------------------
// Floats needed for the packed form of a k x n matrix with NR-column panels.
size_t f32_gemm_packed_size(size_t nr, size_t n, size_t k);
// B[p, j] = b[p * b_stride_k + j * b_stride_n]; bias[j] = bias[j * bias_stride] (null: 0).
// `packed` must hold f32_gemm_packed_size floats. The reference packer is the oracle;
// f32_gemm_pack takes fast paths for row-major and transposed B and is tested against it.
void f32_gemm_pack_reference(size_t nr, size_t n, size_t k, const float* b, ptrdiff_t b_stride_k,
                             ptrdiff_t b_stride_n, const float* bias, ptrdiff_t bias_stride, float* packed);
void f32_gemm_pack(size_t nr, size_t n, size_t k, const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n,
                   const float* bias, ptrdiff_t bias_stride, float* packed);

// --- driver -------------------------------------------------------------------------
struct F32GemmArgs {
  size_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  size_t a_stride = 0;
  const float* packed_w = nullptr;  // packed with the kernel's nr
  float* c = nullptr;
  size_t c_stride = 0;
  F32MinMax minmax;
};

// Number of MR-row tiles and NR-column panels of a problem.
inline size_t f32_gemm_row_tiles(const F32GemmKernel& kern, size_t m) { return (m + kern.mr - 1) / kern.mr; }
inline size_t f32_gemm_col_panels(const F32GemmKernel& kern, size_t n) { return (n + kern.nr - 1) / kern.nr; }
// Computes row tiles [row_begin, row_end) x column panels [panel_begin, panel_end). Every
// output element is computed the same way whatever the ranges, so splitting a problem
// into ranges (one per thread) gives bit-identical results.
void f32_gemm_tiles(const F32GemmKernel& kern, const F32GemmArgs& args, size_t row_begin, size_t row_end,
                    size_t panel_begin, size_t panel_end);
// The same ranges, blocked over column panels so a slice of packed weights stays in cache
// while the row tiles stream past it: what one thread of a parallel GEMM runs.
void f32_gemm_blocked(const F32GemmKernel& kern, const F32GemmArgs& args, size_t row_begin, size_t row_end,
                      size_t panel_begin, size_t panel_end);
// The whole problem on the calling thread (f32_gemm_blocked over every tile).
void f32_gemm(const F32GemmKernel& kern, const F32GemmArgs& args);

}  // namespace kiln
