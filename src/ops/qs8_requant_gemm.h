// The int8-in, int8-out core shared by kiln.QLinearNhwcConv and kiln.QLinearMatMul (the
// ops graph pass fuse_qdq emits): rows of int8 activations (one zero point) times constant
// symmetric int8 weights with a scale per output column, plus an int32 bias, requantized
// to int8 with the fused activation.
//  * Relu / Clip (or no activation) are a clamp in the quantized domain, so the product
//    runs on the qs8-qc8w GEMM microkernels (kernels/qs8-qc8w-gemm), which requantize in
//    their epilogue: int8 in, int8 out, nothing else touched.
//  * Other activations (HardSwish, HardSigmoid, Swish, ...) need the real value: the int32
//    sums come from the qd8 kernels (ops/qs8_packed_gemm.h), are dequantized, activated
//    and quantized again (QS8Epilogue), as the fake-quant graph they replace does.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"
#include "ops/fused_activation.h"
#include "ops/qs8_packed_gemm.h"

namespace kiln {

// Requantization of int32 sums (zero points already subtracted, bias included) to int8:
// column j's real value is acc * scale[j] (x_scale * w_scale[j]); the result is
// saturate(round_half_even(act(value) / y_scale) + y_zero). With a clamp-only activation
// the output range is narrowed instead: [qmin, qmax].
struct QS8Epilogue {
  std::vector<float> scale;       // x_scale * w_scale[j]
  std::vector<float> multiplier;  // scale[j] / y_scale (the clamp-only form)
  float y_scale = 1.f;
  int32_t y_zero = 0;
  int32_t qmin = -128, qmax = 127;  // the int8 clamp (Relu / Clip folded in)
  FusedActivation post;             // kNone when the activation is the clamp

  // x_scale, w_scale (one value or n), y_scale, y_zero and the fused activation.
  void init(float x_scale, const float* w_scale, size_t w_scale_count, size_t n, float y_scale, int32_t y_zero,
            const FusedActivation& act);
  // y[j] for j in [0, n) from the int32 sums (bias included) of one row.
  void apply(const int32_t* acc, size_t n, int8_t* y) const;
  // `rows` rows of n = scale.size() values each, contiguous: a block of pixels at once
  // (the activation kernel then runs on long vectors, not one short row per call).
  void apply_rows(const int32_t* acc, size_t rows, int8_t* y) const;
  void apply_rows(const float* acc, size_t rows, int8_t* y) const;  // exact integers as floats

 private:
  template <class Acc>
  void rows_impl(const Acc* acc, size_t rows, int8_t* y) const;
  std::vector<float> scale_rep_, multiplier_rep_;  // scale / multiplier repeated rep_ times
  size_t rep_ = 1;
};

class QS8RequantGemm {
 public:
  // w[p * stride_k + j * stride_n]: k x n int8, zero point 0; bias int32 [n] or null;
  // a_zero: the activations' zero point (folded into the packed bias).
  void pack(size_t n, size_t k, const int8_t* w, ptrdiff_t stride_k, ptrdiff_t stride_n, const int32_t* bias,
            int32_t a_zero, QS8Epilogue epilogue);
  bool packed() const { return n_ != 0; }
  size_t n() const { return n_; }
  size_t k() const { return k_; }
  // A rows must be readable (not used) up to this many bytes.
  size_t padded_k() const;
  // y[i * y_stride + j] for m rows of a (a_stride bytes apart); rows split across the
  // session's threads.
  void run(size_t m, const int8_t* a, size_t a_stride, int8_t* y, size_t y_stride) const;
  const QS8Epilogue& epilogue() const { return ep_; }

 private:
  size_t n_ = 0, k_ = 0;
  int32_t a_zero_ = 0;
  QS8Epilogue ep_;
  const QS8GemmKernel* kern_ = nullptr;  // clamp-only: fused requantization
  std::vector<int8_t> packed_;           // its panels
  QS8PackedGemm sums_;                   // otherwise: int32 sums for the float epilogue
  std::vector<int32_t> bias_;
  std::vector<float> bias_f_;  // the float epilogue's bias
};

// The qs8-qc8w GEMM kernel for this machine: AVX2 natively when available, SIMD128 in
// WebAssembly, else the portable one.
const QS8GemmKernel& qs8_requant_gemm_kernel();

}  // namespace kiln
