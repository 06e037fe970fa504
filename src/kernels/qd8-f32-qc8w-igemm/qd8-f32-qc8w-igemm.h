// Dynamically quantized int8 indirect GEMM (IGEMM) for convolution: f32 in, int8 compute,
// f32 out, the convolution sibling of qd8-f32-qc8w-gemm (kiln.DynamicQuantConv).
//
//   C[p, n] = clamp(a_scale * w_scale[n] * sum_{s, k} (A_s[p][k] - a_zero) * qw[n, k, s] + bias[n])
//
// A_s[p] is a pointer from an indirection buffer (f32-igemm/conv-indirection.h) to the kc
// int8 channels tap s of output pixel p reads. The image is quantized as a whole (one
// scale and zero point: the pointers gather pixels from many rows, so per-row parameters
// cannot apply), and the shared padding row is filled with that zero point, so a padding
// tap contributes (a_zero - a_zero) * w = 0 exactly, like a float zero row.
//
// Packed weights, per panel of NR output channels (channels past n zero):
//   NR int32  -sum_{s,k} qw[n, k, s]  (times a_zero: the zero-point correction)
//   NR float  w_scale[n]
//   NR float  bias[n]
//   then per tap s, round_up(kc, 8) k in blocks of 8 = 4 k-pairs, each pair NR columns x
//   2 int8 (qd8-f32-qc8w-gemm.h's block layout; k past kc zero).
// With ks = 1 this is byte for byte the qd8 GEMM packing, so a 1x1 layer's weights also
// serve the GEMM kernel of the same NR.
// The kernels read round_up(kc, 8) int8 at every pointer: the weights there are zero, so
// the bytes past kc only need to be readable (the next pixel, or the caller's tail).
// Microkernel signature (XNNPACK style):
//   fn(mr, nc, kc, ks, a, w, c, c_stride, a_offset, zero, &quant, &minmax); a_offset bytes
//   are added to every pointer except those equal to zero.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"

namespace kiln {

using QD8IgemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w,
                                   float* c, size_t c_stride, size_t a_offset, const int8_t* zero,
                                   const QD8RowParams* quant, const F32MinMax* params);

struct QD8IgemmKernel {
  const char* name;  // e.g. "qd8_f32_qc8w_igemm_4x8c2_simd": file, test and benchmark share it
  size_t mr, nr;
  QD8IgemmUkernelFn fn;
};

#define KILN_QD8_IGEMM(name, tile_mr, tile_nr, arch)                                                          \
  void name(size_t mr, size_t nc, size_t kc, size_t ks, const int8_t* const* a, const void* w, float* c,     \
            size_t c_stride, size_t a_offset, const int8_t* zero, const QD8RowParams* quant,                 \
            const F32MinMax* params);
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm-list.h"
#undef KILN_QD8_IGEMM

// --- config table -----------------------------------------------------------------------
std::span<const QD8IgemmKernel> qd8_igemm_kernels();
// The tile of qd8_gemm_default_kernel() (a 1x1 layer's packed weights serve both).
const QD8IgemmKernel& qd8_igemm_default_kernel();

// --- packing --------------------------------------------------------------------------------
inline size_t qd8_igemm_panel_bytes(size_t nr, size_t kc, size_t ks) {
  return nr * (3 * 4 + ks * qd8_padded_k(kc));
}
size_t qd8_igemm_packed_size(size_t nr, size_t n, size_t kc, size_t ks);
// qw in ONNX Conv order for one group: qw[n][kc][ks]; scale: n values; bias: n values or
// null (0). `packed` must hold qd8_igemm_packed_size bytes, 4-byte aligned.
void qd8_igemm_pack(size_t nr, size_t n, size_t kc, size_t ks, const int8_t* qw, const float* scale, const float* bias,
                    void* packed);

// --- reference (the oracle) ---------------------------------------------------------------
// Plain loops over the same indirection buffer (laid out for tiles of `mr`) and unpacked
// weights qw[n][kc][ks]; the zero point subtracted per element.
void qd8_f32_qc8w_igemm_reference(size_t m, size_t n, size_t kc, size_t ks, size_t mr, const int8_t* const* a,
                                  size_t a_offset, const int8_t* zero, QD8RowParams quant, const int8_t* qw,
                                  const float* w_scale, const float* bias, float* c, size_t c_stride,
                                  F32MinMax minmax);

// --- driver -----------------------------------------------------------------------------------
struct QD8IgemmArgs {
  size_t m = 0;                                 // output pixels
  size_t n = 0, kc = 0, ks = 0;                 // output channels, input channels, taps
  const int8_t* const* indirection = nullptr;  // [ceil(m / mr)][ks][mr] pointers
  size_t a_offset = 0;                          // bytes added to every non-zero pointer
  const int8_t* zero = nullptr;                 // round_up(kc, 8) bytes of quant.zero_point
  QD8RowParams quant;                           // the image's scale and zero point
  const void* packed_w = nullptr;               // packed with the kernel's nr
  float* c = nullptr;                           // pixel p, channel j at c[p * c_stride + j]
  size_t c_stride = 0;
  F32MinMax minmax;
};

inline size_t qd8_igemm_pixel_tiles(const QD8IgemmKernel& kern, size_t m) { return (m + kern.mr - 1) / kern.mr; }
inline size_t qd8_igemm_col_panels(const QD8IgemmKernel& kern, size_t n) { return (n + kern.nr - 1) / kern.nr; }
// Pixel tiles [tile_begin, tile_end) x panels [panel_begin, panel_end): touches only C in
// that range, so threads can run disjoint ranges at once.
void qd8_igemm_tiles(const QD8IgemmKernel& kern, const QD8IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end);
// The whole problem, blocked over panels so a slice of packed weights stays in cache.
void qd8_igemm(const QD8IgemmKernel& kern, const QD8IgemmArgs& args);

}  // namespace kiln
