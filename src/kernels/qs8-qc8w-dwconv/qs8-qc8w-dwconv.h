// qs8-qc8w depthwise convolution (XNNPACK's name: int8 activations with one zero point per
// tensor, int8 weights with one scale per channel, int8 output):
//   acc[p][c] = bias[c] + sum over taps s of (in_s(p)[c] - x_zp) * w[c][s]          (int32)
//   out[p][c] = clamp(round_half_even(acc * scale[c]) + y_zp, output_min, output_max)
// with scale[c] = x_scale * w_scale[c] / y_scale: the requantization of the qs8-qc8w GEMM
// (qs8-qc8w-gemm.h, QS8RequantParams), so both agree bit-exactly with qlinear_util.h.
//
// Unipass over an indirection buffer as f32-dwconv: per output pixel `ks` pointers, each to
// the pixel's channel 0 or to the zero row; a_offset bytes are added to all but the zero
// row. The zero row holds >= channels copies of x_zp, so padding taps contribute 0.
// As in the GEMM, the packer folds the zero point into the int32 bias
// (bias - x_zp * sum_s w[c][s]), so the kernels multiply raw int8 inputs.
// Packed weights per channel tile of CT: CT int32 biases, CT float scales, then ks rows of
// CT int8 taps (zero padded). With CT a multiple of 4 every tile stays 4-byte aligned.
// Kernels with kr = 2 ("dot") take the taps in pairs instead: ceil(ks / 2) rows of CT x
// (tap 2p, tap 2p+1) bytes, channel-major (byte 2c + t), an odd last tap paired with 0, so
// one i32x4.dot_i16x8_s adds two taps' products per channel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_* (which ISAs this build has)
#include "kernels/qs8-qc8w-gemm/qs8-act-epilogue.h"  // QS8Act, QS8ActParams
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"      // QS8RequantParams

namespace kiln {

// Computes `pixels` output pixels of `channels` channels; pixel i reads
// input[i * ks .. i * ks + ks) and writes out + i * out_stride (elements).
using QS8DwconvUkernelFn = void (*)(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                                    const void* w, int8_t* out, size_t out_stride, size_t a_offset,
                                    const int8_t* zero, const QS8RequantParams* params);

struct QS8DwconvKernel {
  const char* name;  // e.g. "qs8_qc8w_dwconv_9p16c_simd"; "anyp" = any tap count
  size_t taps;       // 0: any
  size_t ct;         // channel tile
  QS8DwconvUkernelFn fn;
  size_t kr = 1;  // taps per packed row: 1, or 2 for the tap-pair ("dot") kernels
};

#define KILN_QS8_QC8W_DWCONV(name, taps, ct, kr, arch)                                                            \
  void name(size_t channels, size_t pixels, size_t ks, const int8_t* const* input, const void* w, int8_t* out, \
            size_t out_stride, size_t a_offset, const int8_t* zero, const QS8RequantParams* params);
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-list.h"
#undef KILN_QS8_QC8W_DWCONV

// "sums" kernels: the same loops, packing and indirection contract (scales packed but not
// read), writing the int32 sums acc[p][c] (zero point folded, bias included) instead of
// requantizing them: for fused activations that need the real value (HardSwish, Swish, ...),
// which the caller dequantizes, activates and requantizes (ops/qs8_requant_gemm.h).
using QS8DwconvSumsUkernelFn = void (*)(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                                        const void* w, int32_t* out, size_t out_stride, size_t a_offset,
                                        const int8_t* zero);

struct QS8DwconvSumsKernel {
  const char* name;  // e.g. "qs8_qc8w_dwconv_sums_anyp16c_dot_simd" (any tap count)
  size_t ct;
  QS8DwconvSumsUkernelFn fn;
  size_t kr = 1;
};

#define KILN_QS8_QC8W_DWCONV_SUMS(name, ct, kr, arch)                                                              \
  void name(size_t channels, size_t pixels, size_t ks, const int8_t* const* input, const void* w, int32_t* out, \
            size_t out_stride, size_t a_offset, const int8_t* zero);
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-sums-list.h"
#undef KILN_QS8_QC8W_DWCONV_SUMS

// Activation-epilogue kernels ("hswish"): the same loops, packing and indirection contract,
// the packed scales being in_scale[c] = x_scale * w_scale[c] (not divided by y_scale); the
// output is qs8-act-epilogue.h's: act(acc * in_scale) / y_scale, rounded, + zp, clamped.
using QS8DwconvActUkernelFn = void (*)(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                                       const void* w, int8_t* out, size_t out_stride, size_t a_offset,
                                       const int8_t* zero, const QS8ActParams* params);

struct QS8DwconvActKernel {
  const char* name;  // e.g. "qs8_qc8w_dwconv_hswish_anyp16c_dot_simd"
  size_t taps;       // 0: any
  size_t ct;
  QS8DwconvActUkernelFn fn;
  size_t kr;
  QS8Act act;
};

#define KILN_QS8_QC8W_DWCONV_ACT(name, taps, ct, kr, arch, act)                                                     \
  void name(size_t channels, size_t pixels, size_t ks, const int8_t* const* input, const void* w, int8_t* out, \
            size_t out_stride, size_t a_offset, const int8_t* zero, const QS8ActParams* params);
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-act-list.h"
#undef KILN_QS8_QC8W_DWCONV_ACT

// The requantization of one int32 sum (what every kernel computes per lane) is
// qs8_requantize in qs8-qc8w-gemm.h, shared with the GEMM and IGEMM references.

// The oracle, on unpacked weights: plain loops with the zero point subtracted per element.
// w: [channels][ks] int8 (ONNX depthwise [C, 1, kh, kw]); bias: channels int32 or null;
// scale: channels floats. Same indirection/zero/a_offset contract as the kernels.
void qs8_dwconv_reference(size_t channels, size_t pixels, size_t ks, const int8_t* const* input, size_t a_offset,
                          const int8_t* zero, int32_t x_zero_point, const int8_t* w, const int32_t* bias,
                          const float* scale, int8_t* out, size_t out_stride, const QS8RequantParams& params);

// The activation oracle: as qs8_dwconv_reference with scale = in_scale and
// qs8_act_requantize.
void qs8_dwconv_act_reference(QS8Act act, size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                              size_t a_offset, const int8_t* zero, int32_t x_zero_point, const int8_t* w,
                              const int32_t* bias, const float* in_scale, int8_t* out, size_t out_stride,
                              const QS8ActParams& params);

// The sums oracle: as qs8_dwconv_reference, int32 sums out (wrapping as the kernels do).
void qs8_dwconv_sums_reference(size_t channels, size_t pixels, size_t ks, const int8_t* const* input,
                               size_t a_offset, const int8_t* zero, int32_t x_zero_point, const int8_t* w,
                               const int32_t* bias, int32_t* out, size_t out_stride);

// --- config table -----------------------------------------------------------------
// The kernels this build and CPU can run (portable `vec` natively, `simd` in WASM, `avx2`
// when the CPU has it).
std::span<const QS8DwconvKernel> qs8_dwconv_kernels();
// The kernel the ops use for ks taps: a fixed-tap one (taps == ks) or a generic one.
const QS8DwconvKernel& qs8_dwconv_default_kernel(size_t ks);
// The sums kernels of this build and CPU, and the one the ops use (any tap count).
std::span<const QS8DwconvSumsKernel> qs8_dwconv_sums_kernels();
const QS8DwconvSumsKernel& qs8_dwconv_default_sums_kernel();
// The activation kernels of this build and CPU, and the one the ops use for ks taps and
// `act` (null when this build has none).
std::span<const QS8DwconvActKernel> qs8_dwconv_act_kernels();
const QS8DwconvActKernel* qs8_dwconv_default_act_kernel(QS8Act act, size_t ks);

// --- packing ------------------------------------------------------------------------
// Bytes of the packed weights (a multiple of 4) for a kernel's ct and kr.
size_t qs8_dwconv_packed_size(size_t ct, size_t channels, size_t ks, size_t kr = 1);
// w: [channels][ks] int8; bias: channels int32 or null (0); scale: channels floats;
// packed must be 4-byte aligned. x_zero_point is folded into the packed bias.
void qs8_dwconv_pack(size_t ct, size_t channels, size_t ks, int32_t x_zero_point, const int8_t* w,
                     const int32_t* bias, const float* scale, void* packed, size_t kr = 1);

// --- driver -------------------------------------------------------------------------
struct QS8DwconvArgs {
  size_t pixels = 0, channels = 0, ks = 0;
  const int8_t* const* indirection = nullptr;  // [pixels][ks]
  size_t a_offset = 0;
  const int8_t* zero = nullptr;  // >= channels copies of the input zero point
  const void* packed_w = nullptr;
  int8_t* out = nullptr;
  size_t out_stride = 0;  // elements between output pixels
  QS8RequantParams params{};
};

// Output pixels [begin, end): re-entrant, threads can run disjoint ranges at once.
void qs8_dwconv_pixels(const QS8DwconvKernel& kern, const QS8DwconvArgs& args, size_t begin, size_t end);

}  // namespace kiln
