// Resize microkernels over indirection buffers (XNNPACK's f32-ibilinear, f32-ibilinear-chw,
// plus a nearest-neighbour gather). The op-side plan (src/ops/resize_kernels.cc) turns the
// per-axis tap tables into these buffers once per shape; the kernels do the per-pixel work.
//
// Indirection entries are input addresses *minus* the input base: the kernels add
// `input_offset` bytes to every entry, so one buffer serves every batch image, every plane
// and any input address (the plan builds it with base 0 and passes the real address).
//
// ibilinear (channels last): per output pixel i, input[4i..4i+3] = top-left, top-right,
//   bottom-left, bottom-right pixel (channel 0 of each), weights[2i] = alpha_h,
//   weights[2i+1] = alpha_v; for each channel c:
//     top = tl + (tr - tl) * alpha_h, bottom = bl + (br - bl) * alpha_h,
//     out = top + (bottom - top) * alpha_v.
//   Vectorized over channels. Output pixel i is written at output + i * out_stride.
// ibilinear-chw (planar): per output pixel i, input[2i] = top-left, input[2i+1] =
//   bottom-left; the pixel reads p[0] and p[1] of both (the plan keeps x0 + 1 < width).
//   Vectorized over output pixels; `planes` planes, the input advancing by
//   input_increment bytes and the output by out_plane_stride elements per plane.
// igather (nearest): output pixel i = the `channels` 32-bit values at input[i]; exact copies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}, KILN_KERNEL_PICKED_ONLY

namespace kiln {

using F32IbilinearUkernelFn = void (*)(size_t pixels, size_t channels, const float* const* input,
                                       size_t input_offset, const float* weights, float* output, size_t out_stride);
using F32IbilinearChwUkernelFn = void (*)(size_t pixels, size_t planes, const float* const* input,
                                          size_t input_offset, const float* weights, float* output,
                                          size_t out_plane_stride, size_t input_increment);
using X32IgatherUkernelFn = void (*)(size_t pixels, size_t channels, const uint32_t* const* input,
                                     size_t input_offset, uint32_t* output, size_t out_stride);

struct F32IbilinearKernel {
  const char* name;  // e.g. "f32_ibilinear_c8_avx2": file, test and benchmark share it
  size_t tile;       // channels per main-loop step
  F32IbilinearUkernelFn fn;
};
struct F32IbilinearChwKernel {
  const char* name;  // e.g. "f32_ibilinear_chw_p8_avx2"
  size_t tile;       // output pixels per main-loop step
  F32IbilinearChwUkernelFn fn;
};
struct X32IgatherKernel {
  const char* name;  // e.g. "x32_igather_c8_avx2"
  size_t tile;       // channels per main-loop step
  X32IgatherUkernelFn fn;
};

#define KILN_F32_IBILINEAR(name, tile, arch)                                                                \
  void name(size_t pixels, size_t channels, const float* const* input, size_t input_offset, const float* weights, \
            float* output, size_t out_stride);
#define KILN_F32_IBILINEAR_CHW(name, tile, arch)                                                               \
  void name(size_t pixels, size_t planes, const float* const* input, size_t input_offset, const float* weights, \
            float* output, size_t out_plane_stride, size_t input_increment);
#define KILN_X32_IGATHER(name, tile, arch)                                                        \
  void name(size_t pixels, size_t channels, const uint32_t* const* input, size_t input_offset, \
            uint32_t* output, size_t out_stride);
#include "kernels/f32-resize/f32-resize-list.h"
#undef KILN_F32_IBILINEAR
#undef KILN_F32_IBILINEAR_CHW
#undef KILN_X32_IGATHER

// --- config table: every kernel this build and CPU can run; the one the ops use ------
std::span<const F32IbilinearKernel> f32_ibilinear_kernels();
std::span<const F32IbilinearChwKernel> f32_ibilinear_chw_kernels();
std::span<const X32IgatherKernel> x32_igather_kernels();
const F32IbilinearKernel& f32_ibilinear_default_kernel();
const F32IbilinearChwKernel& f32_ibilinear_chw_default_kernel();
const X32IgatherKernel& x32_igather_default_kernel();

}  // namespace kiln
