// qs8-qc8w IGEMM: the indirect GEMM of int8 convolutions with int8 output, the convolution
// sibling of qs8-qc8w-gemm (same requantization, same packed layout):
//
//   C[p, n] = clamp(round_half_even(acc * scale[n]) + output_zero_point, output_min, output_max)
//   acc     = bias[n] + sum_{s, k} (A_s[p][k] - a_zero_point) * w[n, k, s]
//
// A_s[p] is a pointer from an indirection buffer (f32-igemm/conv-indirection.h) to the kc
// int8 channels tap s of output pixel p reads, or the shared `zero` row for padding. The
// zero row holds a_zero_point, so a padding tap adds (zp - zp) * w = 0 and the correction
// -a_zero_point * sum_{s,k} w, folded into the packed bias, stays exact.
//
// Packed weights: the qs8 GEMM's panels (qs8-qc8w-gemm.h) over K = ks * round_up(kc, 8),
// k index s * round_up(kc, 8) + c (c past kc zero): per NR columns int32 bias[NR] (with
// the zero-point correction), float scale[NR], then per tap the 8-k blocks of k-pairs.
// qs8_igemm_pack lays the taps out and calls qs8_gemm_pack; with ks = 1 the result is
// byte for byte the GEMM packing of kc.
// The kernels read exactly kc bytes at each pointer (a partial last block goes through a
// local copy), so an input tensor needs no readable tail.
// Microkernel signature (XNNPACK style):
//   fn(mr, nc, kc, ks, a, w, c, c_stride, a_offset, zero, &params); a_offset bytes are added
//   to every pointer except those equal to zero (unsigned wrap: offsets may go backwards).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // the KILN_F32_GEMM_<arch> / KILN_KERNEL_PICKED_ONLY build macros
#include "kernels/f32-igemm/conv-indirection.h"
#include "kernels/qs8-qc8w-gemm/qs8-act-epilogue.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace kiln {

using QS8IgemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w,
                                   int8_t* c, size_t c_stride, size_t a_offset, const int8_t* zero,
                                   const QS8RequantParams* params);

struct QS8IgemmKernel {
  const char* name;  // e.g. "qs8_qc8w_igemm_4x8c2_simd": file, test and benchmark share it
  size_t mr, nr;
  QS8IgemmUkernelFn fn;
};

#define KILN_QS8_IGEMM(name, tile_mr, tile_nr, arch)                                                        \
  void name(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w, int8_t* c,  \
            size_t c_stride, size_t a_offset, const int8_t* zero, const QS8RequantParams* params);
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm-list.h"
#undef KILN_QS8_IGEMM

// Activation-epilogue kernels ("hswish"): the same loops and packing, the packed scales
// being in_scale = x_scale * w_scale[n] (not divided by y_scale), the output computed by
// qs8-act-epilogue.h from QS8ActParams.
using QS8IgemmActUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a,
                                      const void* w, int8_t* c, size_t c_stride, size_t a_offset,
                                      const int8_t* zero, const QS8ActParams* params);

struct QS8IgemmActKernel {
  const char* name;  // e.g. "qs8_qc8w_igemm_4x8c2_hswish_simd"
  size_t mr, nr;
  QS8Act act;
  QS8IgemmActUkernelFn fn;
};

#define KILN_QS8_IGEMM_ACT(name, tile_mr, tile_nr, arch, act)                                               \
  void name(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w, int8_t* c,  \
            size_t c_stride, size_t a_offset, const int8_t* zero, const QS8ActParams* params);
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm-act-list.h"
#undef KILN_QS8_IGEMM_ACT

// --- config table -----------------------------------------------------------------------
std::span<const QS8IgemmKernel> qs8_igemm_kernels();  // every kernel of this build the CPU runs
const QS8IgemmKernel& qs8_igemm_default_kernel();
std::span<const QS8IgemmActKernel> qs8_igemm_act_kernels();
// The activation kernel the ops use, or null when this build has none for `act`.
const QS8IgemmActKernel* qs8_igemm_default_act_kernel(QS8Act act);

// --- packing --------------------------------------------------------------------------------
inline size_t qs8_igemm_k(size_t kc, size_t ks) { return ks * qs8_padded_k(kc); }  // the GEMM's K
inline size_t qs8_igemm_panel_bytes(size_t nr, size_t kc, size_t ks) { return qs8_gemm_panel_bytes(nr, qs8_igemm_k(kc, ks)); }
size_t qs8_igemm_packed_size(size_t nr, size_t n, size_t kc, size_t ks);
// w in ONNX Conv order for one group: w[n][kc][ks]; scale: n requantization multipliers
// (x_scale * w_scale / y_scale); bias: n int32 or null (0). `packed` must hold
// qs8_igemm_packed_size bytes, 4-byte aligned.
void qs8_igemm_pack(size_t nr, size_t n, size_t kc, size_t ks, int32_t a_zero_point, const int8_t* w,
                    const float* scale, const int32_t* bias, void* packed);

// --- reference (the oracle) ---------------------------------------------------------------
// Plain loops over the same indirection buffer (laid out for tiles of `mr`) and unpacked
// weights w[n][kc][ks], the zero point subtracted per element, then qs8_requantize (the qs8
// GEMM reference's requantization).
void qs8_qc8w_igemm_reference(size_t m, size_t n, size_t kc, size_t ks, size_t mr, const int8_t* const* a,
                              size_t a_offset, const int8_t* zero, int32_t a_zero_point, const int8_t* w,
                              const float* scale, const int32_t* bias, int8_t* c, size_t c_stride,
                              const QS8RequantParams& params);
// The same sums with the activation epilogue (qs8_act_requantize); scale = in_scale.
void qs8_qc8w_igemm_act_reference(QS8Act act, size_t m, size_t n, size_t kc, size_t ks, size_t mr,
                                  const int8_t* const* a, size_t a_offset, const int8_t* zero, int32_t a_zero_point,
                                  const int8_t* w, const float* scale, const int32_t* bias, int8_t* c,
                                  size_t c_stride, const QS8ActParams& params);

// --- driver -----------------------------------------------------------------------------------
struct QS8IgemmArgs {
  size_t m = 0;                                // output pixels
  size_t n = 0, kc = 0, ks = 0;                // output channels, input channels, taps
  const int8_t* const* indirection = nullptr;  // [ceil(m / mr)][ks][mr] pointers
  size_t a_offset = 0;                         // bytes added to every non-zero pointer
  const int8_t* zero = nullptr;                // kc bytes of a_zero_point
  const void* packed_w = nullptr;              // packed with the kernel's nr
  int8_t* c = nullptr;                         // pixel p, channel j at c[p * c_stride + j]
  size_t c_stride = 0;
  QS8RequantParams params{0, -128, 127};
  QS8ActParams act_params{};  // what the activation kernels read instead of params
};

template <class K>
inline size_t qs8_igemm_pixel_tiles(const K& kern, size_t m) { return (m + kern.mr - 1) / kern.mr; }
template <class K>
inline size_t qs8_igemm_col_panels(const K& kern, size_t n) { return (n + kern.nr - 1) / kern.nr; }
// Pixel tiles [tile_begin, tile_end) x panels [panel_begin, panel_end): touches only C in
// that range, so threads can run disjoint ranges at once.
void qs8_igemm_tiles(const QS8IgemmKernel& kern, const QS8IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end);
// The whole problem, blocked over panels so a slice of packed weights stays in cache.
void qs8_igemm(const QS8IgemmKernel& kern, const QS8IgemmArgs& args);
// The same for an activation kernel (args.act_params).
void qs8_igemm_tiles(const QS8IgemmActKernel& kern, const QS8IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end);
void qs8_igemm(const QS8IgemmActKernel& kern, const QS8IgemmArgs& args);

}  // namespace kiln
