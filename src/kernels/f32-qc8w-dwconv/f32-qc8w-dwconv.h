// f32 depthwise convolution with int8 weights per channel ("f32-qc8w", XNNPACK's name for
// f32 activations x per-channel int8 weights): out[p][c] = clamp(bias[c] + scale[c] *
// sum over taps s of in_s(p)[c] * q[c][s]). The weights are stored and read as int8 (4x
// fewer bytes than f32-dwconv) and widened to f32 in registers; activations stay float:
// a depthwise layer does ks multiply-adds per loaded input value, too few to pay for
// quantizing its input (measured in src/kernels/README.md).
//
// Same indirection buffer and unipass structure as f32-dwconv (f32-dwconv.h): per output
// pixel `ks` pointers, each to the pixel's channel 0 or to the zero row (>= channels
// zeros); a_offset bytes are added to all but the zero row.
// Packed weights per channel tile of CT: CT float biases, CT float scales, then ks rows of
// CT int8 taps (zero padded). With CT a multiple of 4 every tile stays float aligned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"

namespace kiln {

// Computes `pixels` output pixels of `channels` channels; pixel i reads
// input[i * ks .. i * ks + ks) and writes out + i * out_stride.
using F32QC8WDwconvUkernelFn = void (*)(size_t channels, size_t pixels, size_t ks, const float* const* input,
                                        const void* w, float* out, size_t out_stride, size_t a_offset,
                                        const float* zero, const F32MinMax* params);

struct F32QC8WDwconvKernel {
  const char* name;  // e.g. "f32_qc8w_dwconv_9p8c_simd"; "anyp" = any tap count
  size_t taps;       // 0: any
  size_t ct;         // channel tile
  F32QC8WDwconvUkernelFn fn;
};

#define KILN_F32_QC8W_DWCONV(name, taps, ct, arch)                                                           \
  void name(size_t channels, size_t pixels, size_t ks, const float* const* input, const void* w, float* out, \
            size_t out_stride, size_t a_offset, const float* zero, const F32MinMax* params);
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv-list.h"
#undef KILN_F32_QC8W_DWCONV

// The oracle: plain scalar loops over the same packed layout, any tap count, ct given by
// the packing (kF32QC8WDwconvReferenceCt).
inline constexpr size_t kF32QC8WDwconvReferenceCt = 4;
void f32_qc8w_dwconv_reference(size_t channels, size_t pixels, size_t ks, const float* const* input, const void* w,
                               float* out, size_t out_stride, size_t a_offset, const float* zero,
                               const F32MinMax* params);

// --- config table -----------------------------------------------------------------
// The SIMD/portable kernels this build and CPU can run, then the reference.
std::span<const F32QC8WDwconvKernel> f32_qc8w_dwconv_kernels();
// The kernel the ops use for ks taps: a fixed-tap one (taps == ks) or a generic one.
const F32QC8WDwconvKernel& f32_qc8w_dwconv_default_kernel(size_t ks);

// --- packing ------------------------------------------------------------------------
// Bytes of the packed weights (a multiple of 4).
size_t f32_qc8w_dwconv_packed_size(size_t ct, size_t channels, size_t ks);
// q: W[channels][ks] int8 (ONNX depthwise [C, 1, kh, kw]); scale: channels floats; bias:
// channels floats or null. packed must be 4-byte aligned.
void f32_qc8w_dwconv_pack(size_t ct, size_t channels, size_t ks, const int8_t* q, const float* scale,
                          const float* bias, void* packed);

// --- driver -------------------------------------------------------------------------
struct F32QC8WDwconvArgs {
  size_t pixels = 0, channels = 0, ks = 0;
  const float* const* indirection = nullptr;  // [pixels][ks]
  size_t a_offset = 0;
  const float* zero = nullptr;  // >= channels zeros
  const void* packed_w = nullptr;
  float* out = nullptr;
  size_t out_stride = 0;  // elements between output pixels
  F32MinMax minmax;
};

// Output pixels [begin, end): re-entrant, threads can run disjoint ranges at once.
void f32_qc8w_dwconv_pixels(const F32QC8WDwconvKernel& kern, const F32QC8WDwconvArgs& args, size_t begin,
                            size_t end);
void f32_qc8w_dwconv(const F32QC8WDwconvKernel& kern, const F32QC8WDwconvArgs& args);

}  // namespace kiln
