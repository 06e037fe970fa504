// f32 max / average pooling over an indirection buffer (NHWC, channels innermost):
//   max: out[p][c] = clamp(max over taps k of in_k(p)[c])
//   avg: out[p][c] = clamp(multiplier[p] * sum over taps k of in_k(p)[c])
//
// The buffer is the depthwise one (nhwc_conv_indirection_init with mr = 1): per output
// pixel `ks` pointers to an input pixel's channel 0, or to the shared padding row `pad`
// (>= channels values: -inf for max, zeros for average). a_offset bytes are added to every
// pointer except `pad`, so one buffer serves every batch image. Strides, dilations and pads
// live in the buffer only; the per-pixel multiplier carries the divisor (count_include_pad
// either way, ceil_mode windows), so one kernel covers every AveragePool variant.
//
// Microkernels are XNNPACK's "9p8x" multipass design: the first pass reduces 9 taps into
// the output row, each further pass folds 8 more taps into it (the output doubles as the
// accumulator, so no workspace); the last pass scales and clamps. Channels run in tiles of
// CT = NV vectors, then whole vectors, then single lanes: nothing is read or written past
// `channels`. Max uses pmax semantics (a NaN input may or may not propagate).
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // F32MinMax, KILN_F32_GEMM_{SIMD,AVX2,VEC}

namespace kiln {

// Pixel i reads input[i * ks .. i * ks + ks) and writes out + i * out_stride.
using F32MaxPoolUkernelFn = void (*)(size_t pixels, size_t ks, size_t channels, const float* const* input,
                                     size_t a_offset, const float* pad, float* out, size_t out_stride,
                                     const F32MinMax* params);
using F32AvgPoolUkernelFn = void (*)(size_t pixels, size_t ks, size_t channels, const float* const* input,
                                     size_t a_offset, const float* pad, const float* multiplier, float* out,
                                     size_t out_stride, const F32MinMax* params);

struct F32MaxPoolKernel {
  const char* name;  // e.g. "f32_maxpool_9p8x_c8_simd"
  size_t ct;         // channel tile
  F32MaxPoolUkernelFn fn;
};
struct F32AvgPoolKernel {
  const char* name;  // e.g. "f32_avgpool_9p8x_c8_simd"
  size_t ct;
  F32AvgPoolUkernelFn fn;
};

#define KILN_F32_MAXPOOL(name, ct, arch)                                                                    \
  void name(size_t pixels, size_t ks, size_t channels, const float* const* input, size_t a_offset,          \
            const float* pad, float* out, size_t out_stride, const F32MinMax* params);
#define KILN_F32_AVGPOOL(name, ct, arch)                                                                    \
  void name(size_t pixels, size_t ks, size_t channels, const float* const* input, size_t a_offset,          \
            const float* pad, const float* multiplier, float* out, size_t out_stride, const F32MinMax* params);
#include "kernels/f32-pool/f32-pool-list.h"
#undef KILN_F32_MAXPOOL
#undef KILN_F32_AVGPOOL

// --- config table -----------------------------------------------------------------
std::span<const F32MaxPoolKernel> f32_maxpool_kernels();
std::span<const F32AvgPoolKernel> f32_avgpool_kernels();
const F32MaxPoolKernel& f32_maxpool_default_kernel();
const F32AvgPoolKernel& f32_avgpool_default_kernel();

// --- driver -------------------------------------------------------------------------
struct F32PoolArgs {
  size_t pixels = 0, channels = 0, ks = 0;
  const float* const* indirection = nullptr;  // [pixels][ks]
  size_t a_offset = 0;
  const float* pad = nullptr;         // >= channels values (-inf for max, 0 for average)
  const float* multiplier = nullptr;  // [pixels], average only
  float* out = nullptr;
  size_t out_stride = 0;  // elements between output pixels (>= channels)
  F32MinMax minmax;
};

// Output pixels [begin, end): re-entrant, threads can run disjoint ranges at once.
void f32_maxpool_pixels(const F32MaxPoolKernel& kern, const F32PoolArgs& args, size_t begin, size_t end);
void f32_avgpool_pixels(const F32AvgPoolKernel& kern, const F32PoolArgs& args, size_t begin, size_t end);

}  // namespace kiln
