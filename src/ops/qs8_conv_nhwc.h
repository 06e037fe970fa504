// A group-1 int8 NHWC convolution with requantized int8 output (what kiln.QLinearNhwcConv
// runs for group-1 layers): int8 activations with one scale and zero point per tensor,
// int8 weights symmetric per output channel, int32 bias, int8 output.
//
//   y[p, m] = clamp(round_half_even(acc * x_scale * w_scale[m] / y_scale) + y_zero_point, y_min, y_max)
//   acc     = bias[m] + sum_{tap, c} (x[tap(p), c] - x_zero_point) * w[m, c, tap]
//
// (QLinearConv's formula and its float multiplier, bit-exact with src/ops/qlinear_conv.cc's
// reference loops.) With QS8ConvQuant::activated (HardSwish) the IGEMM's activation
// epilogue replaces the multiplier: act(acc * x_scale * w_scale[m]) / y_scale, rounded, as
// QS8Epilogue (ops/qs8_requant_gemm.h) computes it. `pack` folds the weights, the bias with the x zero-point correction and
// the per-channel multipliers into the qs8-qc8w IGEMM layout once; `run` builds the
// indirection buffer for an input geometry (cached: rebuilt only when the geometry
// changes; a moved input is reached by an offset) and runs the IGEMM over the thread pool.
// Padding taps read a row of x_zero_point, so they add exactly 0. Not for concurrent runs on
// one object (the cached buffers).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"
#include "kernels/reference/reference.h"

namespace kiln {

// The layer's quantization (QLinearConv's scalar inputs) and the output clamp a fused
// activation becomes (Relu: y_min = y_zero_point; Clip: its bounds quantized).
struct QS8ConvQuant {
  float x_scale = 1.f;
  int32_t x_zero_point = 0;  // -128..127
  float y_scale = 1.f;
  int32_t y_zero_point = 0;  // -128..127
  int8_t y_min = -128, y_max = 127;
  // With `activated`, the layer ends in `activation` (one that needs the real value): the
  // IGEMM's activation epilogue (qs8-act-epilogue.h) computes act(acc * x_scale *
  // w_scale[m]) / y_scale, rounded, + y_zero_point, clamped to [y_min, y_max].
  bool activated = false;
  QS8Act activation = QS8Act::kHardSwish;
};

class QS8ConvNhwc {
 public:
  QS8ConvNhwc() = default;
  // Movable, not copyable: the cached indirection buffer points at this object's zero row
  // (a move keeps the vectors' storage, a copy would not).
  QS8ConvNhwc(QS8ConvNhwc&&) = default;
  QS8ConvNhwc& operator=(QS8ConvNhwc&&) = default;
  QS8ConvNhwc(const QS8ConvNhwc&) = delete;
  QS8ConvNhwc& operator=(const QS8ConvNhwc&) = delete;

  // w: int8 [out_channels, in_channels, kh, kw] (ONNX order, group 1, zero point 0);
  // w_scale: out_channels floats, or one (per tensor) when w_scale_count == 1;
  // bias: out_channels int32 (scale x_scale * w_scale[m]) or null.
  // Errors name the bad argument (sizes, non-positive or non-finite scales, zero points
  // outside int8, y_min > y_max, too many taps for int32 sums).
  Status pack(size_t out_channels, size_t in_channels, size_t kh, size_t kw, const int8_t* w, const float* w_scale,
              size_t w_scale_count, const int32_t* bias, const QS8ConvQuant& quant);
  bool packed() const { return kernel_ != nullptr || act_kernel_ != nullptr; }
  size_t out_channels() const { return n_; }
  size_t in_channels() const { return kc_; }

  // x: [batch, in[0], in[1], in_channels] int8, dense; y: [batch, out[0], out[1], out_channels].
  // g must be rank 2, groups 1, and match the packed channels and kernel size.
  Status run(const ConvGeometry& g, const int8_t* x, int8_t* y);

 private:
  const QS8IgemmKernel* kernel_ = nullptr;         // the requantizing kernel, or
  const QS8IgemmActKernel* act_kernel_ = nullptr;  // the activation kernel
  size_t mr_ = 0;
  QS8ActParams act_params_{};
  size_t n_ = 0, kc_ = 0, kh_ = 0, kw_ = 0;
  QS8RequantParams params_{};
  std::vector<int32_t> weights_;  // packed for kernel_ (int32 words: aligned header)
  std::vector<int8_t> zero_;      // the padding row: in_channels x x_zero_point

  NhwcConv2dShape shape_;  // the geometry the indirection buffer was built for
  bool have_shape_ = false;
  std::vector<const int8_t*> indirection_;
  const int8_t* base_ = nullptr;  // the input the buffer was built over; later ones by offset
};

// The same computation as plain int32 loops over unpacked weights (the oracle, and what an op
// runs with KILN_REFERENCE_KERNELS=1 or non-constant weights). Same arguments as pack + run.
Status qs8_conv_nhwc_reference(const ConvGeometry& g, const int8_t* x, const int8_t* w, const float* w_scale,
                               size_t w_scale_count, const int32_t* bias, const QS8ConvQuant& quant, int8_t* y);

}  // namespace kiln
