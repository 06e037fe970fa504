// qs8 global average pooling, the summing half: per-channel int32 sums of int8 rows, the
// kernels behind kiln.QLinearGlobalAveragePool (ops/qlinear_elementwise.cc), which then
// forms the mean (sum - HW * zero) * scale / HW and rounds it once.
//
// Signature: fn(rows, channels, x, x_stride, sums): sums[c] += sum over r < rows of
// x[r * x_stride + c], for c < channels (x_stride >= channels, in elements). Exact (int32:
// up to 2^24 rows). The kernels sum columns of channels in int16 lanes for up to 256 rows at
// a time (256 * -128 = -32768 still fits) and widen once per 256 rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}, KILN_KERNEL_PICKED_ONLY

namespace kiln {

using QS8GavgpoolSumsFn = void (*)(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums);

struct QS8GavgpoolKernel {
  const char* name;  // e.g. "qs8_gavgpool_sums_c32_simd"
  size_t channel_tile;
  QS8GavgpoolSumsFn fn;
};

#define KILN_QS8_GAVGPOOL(name, channel_tile, arch) \
  void name(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums);
#include "kernels/qs8-gavgpool/qs8-gavgpool-list.h"
#undef KILN_QS8_GAVGPOOL

void qs8_gavgpool_sums_reference(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums);

std::span<const QS8GavgpoolKernel> qs8_gavgpool_kernels();
const QS8GavgpoolKernel& qs8_gavgpool_default_kernel();

}  // namespace kiln
