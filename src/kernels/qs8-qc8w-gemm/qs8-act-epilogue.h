// The activation epilogue of the qs8 convolution kernels (the "hswish" variants of
// qs8-qc8w-igemm and qs8-qc8w-dwconv): for a fused activation that needs the real value,
// which the int8 clamp of QS8RequantParams cannot express. Per output, in registers:
//
//   v = float(acc) * in_scale[n]            (in_scale = x_scale * w_scale[n]; bias in acc)
//   q = act(v) / output_scale               (QuantizeLinear's division, not a reciprocal)
//   y = round_half_even(clamp(q, min - zp, max - zp)) + zp
//
// the float operations and their order of ops/qs8_requant_gemm.cc's QS8Epilogue (which
// runs the f32-vunary kernels of simd/f32-vmath.h over the dequantized sums), so the
// kernels give the same int8 bits as the sums-then-epilogue path they replace. That needs
// acc * in_scale + 3 to stay two roundings: the build is ISO C++ (CMAKE_CXX_EXTENSIONS OFF,
// so GCC does not contract it into an FMA, even in the -mfma AVX2 files) and WASM has no FMA.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"  // QS8RequantParams
#include "kernels/simd/f32-vmath.h"

namespace kiln {

// The activations with an in-kernel epilogue (the ops fall back to the int32-sums path
// for the others).
enum class QS8Act : uint8_t { kHardSwish };

struct QS8ActParams {
  float output_scale = 1.f;  // y_scale: the activated value is divided by it
  int32_t output_zero_point = 0;
  int8_t output_min = -128, output_max = 127;
};

// HardSwish as simd::vhard_swish: x * (1/6) * clamp(x + 3, 0, 6), the same three roundings
// (without its NaN pass-through: the dequantized sums are finite).
struct QS8HardSwish {
  static constexpr QS8Act kind = QS8Act::kHardSwish;
  static float scalar(float x) { return x * (1.f / 6.f) * std::min(std::max(x + 3.f, 0.f), 6.f); }
  template <class F>
  static typename F::V vec(typename F::V x) {
    const typename F::V v = simd::vclamp<F>(F::add(x, F::splat(3.f)), 0.f, 6.f);
    return F::mul(F::mul(x, F::splat(1.f / 6.f)), v);
  }
};

// One output, scalar: the references and the kernels' channel tails (bit-identical to
// QS8ActVec's lanes). No NaN can arise: acc is an integer and the activations are finite.
template <class Act>
inline int8_t qs8_act_requantize(int32_t acc, float in_scale, const QS8ActParams& p) {
  const float q = Act::scalar(static_cast<float>(acc) * in_scale) / p.output_scale;
  const float lo = static_cast<float>(p.output_min - p.output_zero_point);
  const float hi = static_cast<float>(p.output_max - p.output_zero_point);
  // Clamped to integers first, then rounded half to even by adding 1.5 * 2^23 (the float's
  // low mantissa bits are then the integer): lrintf without a libm call.
  const float t = std::min(std::max(q, lo), hi) + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return static_cast<int8_t>(bits - 0x4B400000 + p.output_zero_point);
}

inline int8_t qs8_act_requantize(QS8Act act, int32_t acc, float in_scale, const QS8ActParams& p) {
  switch (act) {
    case QS8Act::kHardSwish:
      return qs8_act_requantize<QS8HardSwish>(acc, in_scale, p);
  }
  return 0;
}

// The vector form over a struct F of simd/f32-vec.h: the dequantized value in, the clamped
// value + 1.5 * 2^23 out; its bits + zp_less_magic are the int8 result (the narrowing of
// the requantizing kernels, simd/qs8-vec.h's store_q8).
template <class F, class Act>
struct QS8ActVec {
  using V = typename F::V;
  V scale, lo, hi, magic;
  int32_t zp_less_magic;
  explicit QS8ActVec(const QS8ActParams& p)
      : scale(F::splat(p.output_scale)),
        lo(F::splat(static_cast<float>(p.output_min - p.output_zero_point))),
        hi(F::splat(static_cast<float>(p.output_max - p.output_zero_point))),
        magic(F::splat(12582912.0f)),
        zp_less_magic(p.output_zero_point - 0x4B400000) {}
  V operator()(V real) const {
    const V q = F::div(Act::template vec<F>(real), scale);
    return F::add(F::min(F::max(q, lo), hi), magic);
  }
};

}  // namespace kiln
