// f32 sparse x dense GEMM for pruned weights: C[m, n] = clamp(A[m, k] x W[k, n] + bias[n]).
//
// XNNPACK's f32-spmm design (its 1x1 convolutions in CHW layout), adapted to our row-major
// rows (MatMul / Gemm rows, NHWC pixels): the driver transposes a tile of MR rows of A
// into a_t[k][MR] (one contiguous MR-float row per input channel), and the microkernel
// walks the nonzero weights of each output column, broadcasting the weight and adding
// weight x (MR consecutive floats of a_t) into MR/lanes vector accumulators. The input
// position advances by a precomputed byte increment per nonzero (the "dmap"), so the
// inner loop has no index arithmetic. Results go to c_t[n][MR], transposed back into C.
//
// Packed weights (f32_spmm_pack) per output column: the bias, then the nonzero values in
// k order; nnzmap[j] = nonzeros of column j; dmap[i] = bytes from the i-th nonzero's a_t
// row to the next one's (across columns; the last one wraps to the first). Columns are
// grouped in blocks of kF32SpmmBlockCols so a c_t block stays in L1; each block records
// where its weights, increments and first input row start.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"  // F32MinMax and the KILN_F32_GEMM_* build macros

namespace kiln {

// Microkernel: mc <= MR rows (any count) x nc columns. a points at the a_t row of the
// first nonzero of the first column (row stride MR floats, the dmap's unit); c_t column j
// is at c + j * MR. w / dmap / nnzmap start at the first column. Never allocates.
using F32SpmmUkernelFn = void (*)(size_t mc, size_t nc, const float* a, const float* w, const int32_t* dmap,
                                  const uint32_t* nnzmap, float* c, const F32MinMax* params);

struct F32SpmmKernel {
  const char* name;  // "f32_spmm_32x1_avx2": file, test and benchmark share it
  size_t mr;
  F32SpmmUkernelFn fn;
};

#define KILN_F32_SPMM(name, tile_mr, arch)                                                                   \
  void name(size_t mc, size_t nc, const float* a, const float* w, const int32_t* dmap, const uint32_t* nnzmap, \
            float* c, const F32MinMax* params);
#include "kernels/f32-spmm/f32-spmm-list.h"
#undef KILN_F32_SPMM

// The plain scalar microkernel (same signature, any MR): the oracle of the tester.
void f32_spmm_ukernel_reference(size_t mr, size_t mc, size_t nc, const float* a, const float* w,
                                const int32_t* dmap, const uint32_t* nnzmap, float* c, const F32MinMax* params);

// --- config table -----------------------------------------------------------------
std::span<const F32SpmmKernel> f32_spmm_kernels();
const F32SpmmKernel& f32_spmm_default_kernel();

// --- packing ------------------------------------------------------------------------
inline constexpr size_t kF32SpmmBlockCols = 64;

struct F32SpmmBlock {
  size_t w_offset = 0;     // into values (this block's first column's bias)
  size_t dmap_offset = 0;  // into dmap
  size_t first_k = 0;      // a_t row of the block's first nonzero (0 when it has none)
};

struct F32SpmmPacked {
  size_t mr = 0, n = 0, k = 0;
  size_t nonzeros = 0;
  std::vector<float> values;    // per column: bias, nonzero values
  std::vector<int32_t> dmap;    // byte increments, one per nonzero
  std::vector<uint32_t> nnzmap; // nonzeros per column
  std::vector<F32SpmmBlock> blocks;
};

// W[p, j] = b[p * b_stride_k + j * b_stride_n] * scale; bias[j] = bias[j * bias_stride] *
// bias_scale (null: 0). Exact zeros of W are dropped; everything else is kept.
F32SpmmPacked f32_spmm_pack(size_t mr, size_t n, size_t k, const float* b, ptrdiff_t b_stride_k,
                            ptrdiff_t b_stride_n, const float* bias, ptrdiff_t bias_stride, float scale = 1.f,
                            float bias_scale = 1.f);

// Zero elements of a k x n matrix (what the pack-time choice reads).
size_t f32_count_zeros(size_t n, size_t k, const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n);

// The measured break-even (src/kernels/README.md, "f32 SpMM"): sparse beats the default
// dense GEMM of this build when at least this fraction of a k x n weight is zero.
double f32_spmm_break_even(size_t n, size_t k);
// True when a weight with `zeros` zero elements should run sparse.
bool f32_spmm_preferred(size_t n, size_t k, size_t zeros);
// Fewest rows (M) for which the sparse kernels beat the dense GEMM on such a weight:
// natively a problem of a few rows is a scalar pass per row (0.4x dense at one row), so
// ops keep the dense packing too and use it below this; in WASM sparse wins from one row.
size_t f32_spmm_min_rows();

// --- driver -------------------------------------------------------------------------
struct F32SpmmArgs {
  size_t m = 0;
  const float* a = nullptr;
  size_t a_stride = 0;
  const F32SpmmPacked* w = nullptr;  // packed with the kernel's mr
  float* c = nullptr;
  size_t c_stride = 0;
  F32MinMax minmax;
};

// Floats of scratch one thread needs (a_t tile + c_t block).
size_t f32_spmm_workspace_size(const F32SpmmKernel& kern, const F32SpmmPacked& w);
inline size_t f32_spmm_row_tiles(const F32SpmmKernel& kern, size_t m) { return (m + kern.mr - 1) / kern.mr; }
// Row tiles [tile_begin, tile_end), all columns; every output is computed the same way
// whatever the range, so a split across threads gives bit-identical results.
void f32_spmm_tiles(const F32SpmmKernel& kern, const F32SpmmArgs& args, size_t tile_begin, size_t tile_end,
                    float* workspace);

}  // namespace kiln
