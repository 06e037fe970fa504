// f32 indirect GEMM (IGEMM) for convolution, after XNNPACK / Dukhan (arXiv 1907.02129):
// C[p, n] = clamp(bias[n] + sum over taps s, channels k of A_s[p][k] x W[s, k, n]), where
// A_s[p] is a pointer (from an indirection buffer) to the kc input channels that tap s of
// output pixel p reads, or to a shared zero row for padding.
//
// Indirection layout: per tile of MR output pixels, ks groups of MR pointers
// ([tile][tap][MR]). The microkernel adds a_offset bytes to every pointer except those
// equal to `zero`, so one buffer (built per input shape) serves every batch image, group
// and input address. Packed weights: per NR panel, NR biases, then for each of the ks
// taps, kc rows of NR values (zero padded past n). With ks == 1 this is exactly the GEMM
// packing (f32-gemm.h).
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"

namespace kiln {

using F32IgemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w,
                                   float* c, size_t c_stride, size_t a_offset, const float* zero,
                                   const F32MinMax* params);

struct F32IgemmKernel {
  const char* name;  // e.g. "f32_igemm_4x8_simd": file, test and benchmark share it
  size_t mr, nr;
  F32IgemmUkernelFn fn;
};

// Microkernels, generated from f32-igemm-ukernel.h (see scripts/gen-f32-gemm.mjs).
#define KILN_F32_IGEMM(name, tile_mr, tile_nr, arch)                                                          \
  void name(size_t mr, size_t nc, size_t kc, size_t ks, const float* const* a, const float* w, float* c,     \
            size_t c_stride, size_t a_offset, const float* zero, const F32MinMax* params);
#include "kernels/f32-igemm/f32-igemm-list.h"
#undef KILN_F32_IGEMM

// --- config table -----------------------------------------------------------------
std::span<const F32IgemmKernel> f32_igemm_kernels();
// The one the ops use: the same tile as f32_gemm_default_kernel() (so a 1x1 layer's
// packed weights also serve the GEMM), see src/kernels/README.md.
const F32IgemmKernel& f32_igemm_default_kernel();

// --- packing ------------------------------------------------------------------------
size_t f32_igemm_packed_size(size_t nr, size_t n, size_t kc, size_t ks);
// w in ONNX Conv order for one group: W[n][kc][ks] (output, input channel, tap);
// bias: n values or null (0).
void f32_igemm_pack(size_t nr, size_t n, size_t kc, size_t ks, const float* w, const float* bias, float* packed);

// --- driver -------------------------------------------------------------------------
struct F32IgemmArgs {
  size_t m = 0;                             // output pixels
  size_t n = 0, kc = 0, ks = 0;             // output channels, input channels, taps
  const float* const* indirection = nullptr;  // [ceil(m / mr)][ks][mr] pointers
  size_t a_offset = 0;                      // bytes added to every non-zero pointer
  const float* zero = nullptr;              // kc zeros; never offset
  const float* packed_w = nullptr;          // packed with the kernel's nr
  float* c = nullptr;                       // pixel p, channel j at c[p * c_stride + j]
  size_t c_stride = 0;
  F32MinMax minmax;
};

inline size_t f32_igemm_pixel_tiles(const F32IgemmKernel& kern, size_t m) { return (m + kern.mr - 1) / kern.mr; }
inline size_t f32_igemm_col_panels(const F32IgemmKernel& kern, size_t n) { return (n + kern.nr - 1) / kern.nr; }
// Pixel tiles [tile_begin, tile_end) x panels [panel_begin, panel_end). Touches only C in
// that range and no shared scratch, so threads can run disjoint ranges at once.
void f32_igemm_tiles(const F32IgemmKernel& kern, const F32IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end);
// The whole problem, blocked over panels so a slice of packed weights stays in cache.
void f32_igemm(const F32IgemmKernel& kern, const F32IgemmArgs& args);

}  // namespace kiln
