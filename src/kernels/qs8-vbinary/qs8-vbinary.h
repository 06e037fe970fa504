// qs8 elementwise add / multiply (XNNPACK's qs8-vadd / qs8-vmul, "c" = scalar b): the int8
// kernels behind kiln.QLinearAdd / kiln.QLinearMul (ops/qlinear_elementwise.cc).
//
// Per element they compute exactly what the fake-quant group DequantizeLinear(a),
// DequantizeLinear(b) -> Add | Mul -> [Relu | Clip] -> QuantizeLinear computes in float:
//   fa = float(a - a_zero) * a_scale, fb = float(b - b_zero) * b_scale,
//   v  = clamp(fa + fb | fa * fb, min, max)       (min / max: the fused Relu / Clip, else +-inf)
//   y  = round_half_even(clamp(v / y_scale, -128 - y_zero, 127 - y_zero)) + y_zero  (NaN: y_zero)
// with the same float operations in the same order (a division, not a reciprocal multiply),
// so every kernel is bit-exact with qs8_vbinary_reference and with the unfused graph. (An
// integer / fixed-point formulation as XNNPACK's would be within one step; the float one was
// kept because it is as fast in SIMD128 here and exact, see src/kernels/README.md.)
//
// Signature: fn(n, a, b, y, params): n elements of a and y; b holds n elements, or one value
// for the "c" kernels. y may alias a or b (each 16-element group is read before it is written).
// Parameters (qs8_vbinary_params_ok): |a_scale|, |b_scale| <= 2^120, 0 < y_scale finite,
// min <= max (not NaN). Then no lane can be NaN (|fa|, |fb| <= 256 * 2^120 are finite, so the
// sum / product is finite or +-inf, and so is its quotient by y_scale), and the kernels skip
// QuantizeLinear's NaN -> zero point select; the reference handles any parameters, and the op
// keeps its float loops for other ones.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_{SIMD,AVX2,VEC}, KILN_KERNEL_PICKED_ONLY

namespace kiln {

struct QS8VBinaryParams {
  float a_scale = 1.f, b_scale = 1.f, y_scale = 1.f;
  int32_t a_zero = 0, b_zero = 0, y_zero = 0;  // each in [-128, 127]
  float min = -std::numeric_limits<float>::infinity(), max = std::numeric_limits<float>::infinity();
};

enum class QS8VBinaryOp { kAdd, kMul };

using QS8VBinaryUkernelFn = void (*)(size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                                     const QS8VBinaryParams& params);

struct QS8VBinaryKernel {
  const char* name;  // e.g. "qs8_vmulc_x32_simd"
  QS8VBinaryOp op;
  bool scalar_b;  // the "c" kernels: b is one value
  size_t tile;    // elements per main-loop iteration
  QS8VBinaryUkernelFn fn;
};

#define KILN_QS8_VBINARY(name, op, scalar_b, tile, arch) \
  void name(size_t n, const int8_t* a, const int8_t* b, int8_t* y, const QS8VBinaryParams& params);
#include "kernels/qs8-vbinary/qs8-vbinary-list.h"
#undef KILN_QS8_VBINARY

inline bool qs8_vbinary_params_ok(const QS8VBinaryParams& p) {
  constexpr float kMaxInputScale = 0x1p120f;  // 256 * 2^120 < FLT_MAX: fa, fb stay finite
  auto small = [](float v) { return v >= -kMaxInputScale && v <= kMaxInputScale; };  // false for NaN
  return small(p.a_scale) && small(p.b_scale) && p.y_scale > 0.f && p.y_scale - p.y_scale == 0.f && p.min <= p.max;
}

// qs8-vmulrow: the squeeze-excite gate multiply with everything but x folded into one float
// multiplier per element, m = a_scale * fb / y_scale (the op computes it once per channel):
//   y = round_half_even(clamp(float(x - x_zero) * m, -128 - y_zero, 127 - y_zero)) + y_zero
// Two roundings instead of the fake-quant group's four (x * a_scale, * fb, / y_scale), so a
// result can differ from it by one int8 step where the real value lies within a few float
// ulps of a rounding tie (rare; tested in qlinear_elementwise_test.cc); ~1.5x fewer
// operations per element than qs8_vmul. m finite (no NaN lanes); y may alias x.
struct QS8VMulRowParams {
  int32_t x_zero = 0, y_zero = 0;
};
using QS8VMulRowUkernelFn = void (*)(size_t n, const int8_t* x, const float* m, int8_t* y, const QS8VMulRowParams& params);
struct QS8VMulRowKernel {
  const char* name;  // e.g. "qs8_vmulrow_x16_simd"
  size_t tile;
  QS8VMulRowUkernelFn fn;
};
#define KILN_QS8_VMULROW(name, tile, arch) \
  void name(size_t n, const int8_t* x, const float* m, int8_t* y, const QS8VMulRowParams& params);
#include "kernels/qs8-vbinary/qs8-vmulrow-list.h"
#undef KILN_QS8_VMULROW
void qs8_vmulrow_reference(size_t n, const int8_t* x, const float* m, int8_t* y, const QS8VMulRowParams& params);
std::span<const QS8VMulRowKernel> qs8_vmulrow_kernels();
const QS8VMulRowKernel& qs8_vmulrow_default_kernel();

// The oracle: plain scalar loops of the formula above.
void qs8_vbinary_reference(QS8VBinaryOp op, bool scalar_b, size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                           const QS8VBinaryParams& params);

// Every kernel this build and CPU can run, and the default for (op, scalar_b).
std::span<const QS8VBinaryKernel> qs8_vbinary_kernels();
const QS8VBinaryKernel& qs8_vbinary_default_kernel(QS8VBinaryOp op, bool scalar_b);

}  // namespace kiln
