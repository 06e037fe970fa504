// Integer arithmetic shared by the ONNX quantized ops (QLinearConv, ConvInteger,
// QLinearMatMul, MatMulInteger) and by graph passes that emit them: zero-point handling,
// the int32 reference loops, and requantization. Every op widens its uint8/int8 inputs to
// int32 with the zero point already subtracted, so uint8 and int8 (and mixed) inputs share
// one code path; the products then accumulate exactly in int32.
#pragma once
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "kernels/reference/reference.h"

namespace kiln {

// Requantization as ONNX Runtime and XNNPACK do it: the int32 accumulator times a float
// multiplier (input scale * weight scale / output scale, computed in float), rounded half
// to even, plus the output zero point, saturated to the output type's range.
struct Requantization {
  float multiplier = 1.f;
  int32_t zero_point = 0;
  int32_t min = -128, max = 127;  // int8; uint8 uses [0, 255]
};

inline int32_t requantize(int32_t acc, const Requantization& r) {
  const float v = std::nearbyint(static_cast<float>(acc) * r.multiplier);
  // Clamp in float first: v may be far outside int32 for huge multipliers.
  const float lo = static_cast<float>(r.min - r.zero_point), hi = static_cast<float>(r.max - r.zero_point);
  const float c = std::isnan(v) ? 0.f : std::fmin(std::fmax(v, lo), hi);
  return static_cast<int32_t>(c) + r.zero_point;
}

// Whether dtype is one of the 8-bit integer types the quantized ops take.
inline bool is_int8_type(DType t) { return t == DType::kU8 || t == DType::kI8; }

// [min, max] of an 8-bit integer type (uint8 or int8).
inline void int8_type_range(DType t, int32_t* lo, int32_t* hi) {
  *lo = t == DType::kU8 ? 0 : -128;
  *hi = t == DType::kU8 ? 255 : 127;
}

struct TensorInfo;

// Checks of the quantization parameters of QLinearConv and kiln.QLinearNhwcConv (`who`
// prefixes the message): input i, when present, is a zero point of dtype `want`, or (for
// the scale, required) a float32 scale; either a scalar or 1-D of `channels` values.
Status check_zero_point_input(std::span<const TensorInfo> in, size_t i, DType want, int64_t channels, const char* name,
                              const std::string& who);
Status check_scale_input(std::span<const TensorInfo> in, size_t i, int64_t channels, const char* name,
                         const std::string& who);

// Values of a uint8/int8/int32 tensor as int32 (zero points, biases).
std::vector<int32_t> int_values(const Tensor& t);

// t (uint8 or int8) widened to int32 minus its zero point; element i uses
// zero_points[(i / inner) % zero_points.size()] (one value: per tensor; otherwise one per
// slice of `inner` elements, cycling: per output channel of a weight tensor, per row...).
std::vector<int32_t> widen_centered(const Tensor& t, const std::vector<int32_t>& zero_points, int64_t inner);

// N-D convolution in int32 of zero-centered x [N, C, spatial...] and w [M, C/groups,
// kernel...] (geometry g, zero padding), plus bias [M] when not null.
void qs32_conv_reference(const ConvGeometry& g, const int32_t* x, const int32_t* w, const int32_t* bias, int32_t* y);

// ONNX MatMul shape rules (1-D promotion, broadcast batch dims) for integer matmuls.
struct IntMatMulPlan {
  int64_t m = 1, k = 1, n = 1;
  Dims out;                    // output dims
  int64_t batches = 1;         // product of the broadcast batch dims
  int64_t a_batches = 1, b_batches = 1;  // batch matrices stored in A and B
  std::vector<int64_t> a_index, b_index;  // per output batch: which matrix of A / B
};
Result<IntMatMulPlan> int_matmul_plan(const Dims& a, const Dims& b, const std::string& who);

// The A-side (per row) or B-side (per column) index of a scale / zero point with `count`
// elements: 1 (per tensor), `rows` (per row of every matrix) or `batches * rows` (per row
// of each stored matrix). Returns -1 for any other count.
inline int64_t side_param_mode(int64_t count, int64_t batches, int64_t rows) {
  if (count == 1) return 0;
  if (count == rows) return 1;
  if (count == batches * rows) return 2;
  return -1;
}

}  // namespace kiln
