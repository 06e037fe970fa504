// f32 depthwise convolution over an indirection buffer (NHWC, one filter per channel):
// out[p][c] = clamp(bias[c] + sum over taps s of in_s(p)[c] * W[c][s]).
//
// Unipass microkernels (all taps of a pixel in one pass) for a fixed tap count (9: 3x3,
// 25: 5x5) and a generic one (taps given at run time). Per output pixel the indirection
// buffer holds `ks` pointers (nhwc_conv_indirection_init with mr = 1), each to the
// pixel's channel 0 or to the zero row (>= channels zeros); a_offset bytes are added to
// all but the zero row. Strides and dilations live in the buffer only.
// Packed weights per channel tile of CT: CT biases, then ks rows of CT taps (zero padded).
#pragma once
#include <cstddef>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"

namespace kiln {

// Computes `pixels` output pixels of `channels` channels; pixel i reads
// input[i * ks .. i * ks + ks) and writes out + i * out_stride.
using F32DwconvUkernelFn = void (*)(size_t channels, size_t pixels, size_t ks, const float* const* input,
                                    const float* w, float* out, size_t out_stride, size_t a_offset,
                                    const float* zero, const F32MinMax* params);

struct F32DwconvKernel {
  const char* name;  // e.g. "f32_dwconv_9p8c_simd"; "anyp" = any tap count
  size_t taps;       // 0: any
  size_t ct;         // channel tile
  F32DwconvUkernelFn fn;
};

#define KILN_F32_DWCONV(name, taps, ct, arch)                                                                 \
  void name(size_t channels, size_t pixels, size_t ks, const float* const* input, const float* w, float* out, \
            size_t out_stride, size_t a_offset, const float* zero, const F32MinMax* params);
#include "kernels/f32-dwconv/f32-dwconv-list.h"
#undef KILN_F32_DWCONV

// --- config table -----------------------------------------------------------------
std::span<const F32DwconvKernel> f32_dwconv_kernels();
// The kernel the ops use for ks taps: a fixed-tap one (taps == ks) or a generic one.
const F32DwconvKernel& f32_dwconv_default_kernel(size_t ks);

// --- packing ------------------------------------------------------------------------
size_t f32_dwconv_packed_size(size_t ct, size_t channels, size_t ks);
// w: W[channels][ks] (ONNX depthwise [C, 1, kh, kw]); bias: channels values or null.
void f32_dwconv_pack(size_t ct, size_t channels, size_t ks, const float* w, const float* bias, float* packed);

// --- driver -------------------------------------------------------------------------
struct F32DwconvArgs {
  size_t pixels = 0, channels = 0, ks = 0;
  const float* const* indirection = nullptr;  // [pixels][ks]
  size_t a_offset = 0;
  const float* zero = nullptr;  // >= channels zeros
  const float* packed_w = nullptr;
  float* out = nullptr;
  size_t out_stride = 0;  // elements between output pixels
  F32MinMax minmax;
};

// Output pixels [begin, end): re-entrant, threads can run disjoint ranges at once.
void f32_dwconv_pixels(const F32DwconvKernel& kern, const F32DwconvArgs& args, size_t begin, size_t end);
void f32_dwconv(const F32DwconvKernel& kern, const F32DwconvArgs& args);

}  // namespace kiln
