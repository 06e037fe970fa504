// f32 -> qs8 conversion (XNNPACK's f32-qs8-vcvt): QuantizeLinear per tensor to int8, the
// static int8 graphs' float-island exits and input (ops/quantize_linear.cc):
//   y = round_half_even(clamp(x / scale, -128 - zero, 127 - zero)) + zero, NaN -> zero
// with a float division (as the spec's reference), so every kernel is bit-exact with
// f32_qs8_vcvt_reference and the op's loop (any scale: x / 0 gives +-inf or NaN there too).
// fn(n, x, y, params).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}, KILN_KERNEL_PICKED_ONLY

namespace kiln {

struct F32QS8CvtParams {
  float scale = 1.f;
  int32_t zero = 0;  // in [-128, 127]
};

using F32QS8VcvtUkernelFn = void (*)(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& params);

struct F32QS8VcvtKernel {
  const char* name;  // e.g. "f32_qs8_vcvt_x16_simd"
  size_t tile;
  F32QS8VcvtUkernelFn fn;
};

#define KILN_F32_QS8_VCVT(name, tile, arch) \
  void name(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& params);
#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt-list.h"
#undef KILN_F32_QS8_VCVT

void f32_qs8_vcvt_reference(size_t n, const float* x, int8_t* y, const F32QS8CvtParams& params);

std::span<const F32QS8VcvtKernel> f32_qs8_vcvt_kernels();
const F32QS8VcvtKernel& f32_qs8_vcvt_default_kernel();

}  // namespace kiln
