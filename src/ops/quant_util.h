// Shared by QuantizeLinear and DequantizeLinear: which scale / zero point applies to each
// element. ONNX allows a scalar (per tensor), a 1-D tensor along `axis` (per axis), or,
// from opset 21, a tensor of x's rank whose `axis` dimension is ceil(n / block_size)
// (blocked). Element i = (outer * n + c) * inner + k uses scale index 0, c, or
// (outer * blocks + c / block_size) * inner + k.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace kiln {

// round_half_even(v) as an int32 for |v| <= 2^22 (callers clamp to a small integer range
// first): adding 1.5 * 2^23 leaves no fraction bits, so the FPU's default rounding does
// the work and the integer is the float's low mantissa bits. Inline and vectorizable:
// std::nearbyint is a libm call on baseline x86-64, and a float -> int cast in WebAssembly
// without the nontrapping-fptoint feature is scalar code with range checks. (IEEE
// arithmetic: kiln is never built with -ffast-math.)
inline int32_t round_half_even_small(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  const float t = v + kMagic;
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return bits - 0x4B400000;
}

struct QuantPlan {
  enum class Kind { kTensor, kAxis, kBlocked } kind = Kind::kTensor;
  int64_t n = 1, inner = 1, blocks = 1, block_size = 1;
  int64_t scale_index(int64_t i) const {
    if (kind == Kind::kTensor) return 0;
    const int64_t k = i % inner, c = (i / inner) % n;
    if (kind == Kind::kAxis) return c;
    const int64_t outer = i / (inner * n);
    return (outer * blocks + c / block_size) * inner + k;
  }
};

// Checks the scale (and zero point, if present) shapes against x; `who` names the node.
inline Result<QuantPlan> make_quant_plan(const Dims& x, const Dims& scale, const Dims* zero_point, int64_t axis,
                                         int64_t block_size, const std::string& who) {
  if (zero_point && *zero_point != scale)
    return invalid_model(who + ": zero point shape " + dims_to_string(*zero_point) + " differs from scale shape " +
                         dims_to_string(scale));
  QuantPlan p;
  const int64_t r = static_cast<int64_t>(x.size());
  const bool scalar = num_elements(scale) == 1 && scale.size() <= 1;
  if (block_size <= 0 && scalar) return p;
  if (axis < -r || axis >= r)
    return invalid_model(who + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  p.n = x[static_cast<size_t>(axis)];
  for (int64_t i = axis + 1; i < r; ++i) p.inner *= x[static_cast<size_t>(i)];
  if (block_size > 0) {
    p.kind = QuantPlan::Kind::kBlocked;
    p.block_size = block_size;
    p.blocks = (p.n + block_size - 1) / block_size;
    Dims want = x;
    want[static_cast<size_t>(axis)] = p.blocks;
    if (scale != want)
      return invalid_model(who + ": blocked scale must have shape " + dims_to_string(want) + ", got " +
                           dims_to_string(scale));
    return p;
  }
  if (scale.size() != 1 || scale[0] != p.n)
    return invalid_model(who + ": per-axis scale must be 1-D of size " + std::to_string(p.n) + " (axis " +
                         std::to_string(axis) + "), got " + dims_to_string(scale));
  p.kind = QuantPlan::Kind::kAxis;
  return p;
}

}  // namespace kiln
