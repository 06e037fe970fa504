// See qs8_requant_gemm.h.
#include "ops/qs8_requant_gemm.h"

#include <algorithm>
#include <cmath>

#include "kernels/simd/cpu-arch.h"
#include "ops/quant_util.h"
#include "platform/thread_pool.h"

namespace kiln {

namespace {
inline int8_t saturate_round(float v, float y_scale, int32_t zero, int32_t lo, int32_t hi) {
  // QuantizeLinear's formula (ops/quantize_linear.cc): float division, half to even, NaN
  // to the zero point; clamped first (the bounds are integers), then rounded inline.
  float q = v / y_scale;
  q = q != q ? 0.f : std::min(std::max(q, static_cast<float>(lo - zero)), static_cast<float>(hi - zero));
  return static_cast<int8_t>(round_half_even_small(q) + zero);
}
}  // namespace

void QS8Epilogue::init(float x_scale, const float* w_scale, size_t w_scale_count, size_t n, float ys, int32_t yz,
                       const FusedActivation& act) {
  scale.resize(n);
  multiplier.resize(n);
  for (size_t j = 0; j < n; ++j) {
    scale[j] = x_scale * w_scale[w_scale_count == 1 ? 0 : j];
    // As QLinearConv computes it (ops/qlinear_conv.cc): x_scale * w_scale / y_scale.
    multiplier[j] = x_scale * w_scale[w_scale_count == 1 ? 0 : j] / ys;
  }
  y_scale = ys;
  y_zero = yz;
  rep_ = n == 0 ? 1 : std::max<size_t>(1, 256 / n);
  scale_rep_.resize(rep_ * n);
  multiplier_rep_.resize(rep_ * n);
  for (size_t r = 0; r < rep_; ++r)
    for (size_t j = 0; j < n; ++j) {
      scale_rep_[r * n + j] = scale[j];
      multiplier_rep_[r * n + j] = multiplier[j];
    }
  // Relu / Clip commute with the monotone quantization: Q(clip(v, a, b)) is Q(v) clamped
  // to [Q(a), Q(b)]; both bounds rounded the way QuantizeLinear rounds.
  float lo = -INFINITY, hi = INFINITY;
  post = split_clamp(act, &lo, &hi);
  qmin = -128;
  qmax = 127;
  if (std::isfinite(lo)) qmin = saturate_round(lo, ys, yz, -128, 127);
  if (std::isfinite(hi)) qmax = saturate_round(hi, ys, yz, -128, 127);
}

namespace {
// n values; column j uses mul[j] (clamp-only) or sc[j] (float epilogue). Sums come as int32
// or as floats holding exact integers (the qd8 GEMM's output, bias added).
template <class Acc>
void requantize_span(const QS8Epilogue& e, const float* __restrict mul, const float* __restrict sc,
                     const Acc* acc, size_t n, int8_t* y) {
  // Everything in locals and int32 staging: int8 stores may alias any object, which would
  // keep the compiler from vectorizing loops that read members.
  const int32_t zero = e.y_zero;
  const float lo = static_cast<float>(e.qmin - zero), hi = static_cast<float>(e.qmax - zero), ys = e.y_scale;
  const bool post = e.post.active();
  constexpr size_t kChunk = 256;
  alignas(64) float v[kChunk];
  alignas(64) int32_t r[kChunk];
  for (size_t j0 = 0; j0 < n; j0 += kChunk) {
    const size_t c = std::min(kChunk, n - j0);
    const Acc* __restrict a = acc + j0;
    if (!post) {
      // std::min / max, not fmin / fmax (libm calls); acc * multiplier is never NaN.
      for (size_t j = 0; j < c; ++j)
        r[j] = round_half_even_small(std::min(std::max(static_cast<float>(a[j]) * mul[j0 + j], lo), hi));
    } else {
      for (size_t j = 0; j < c; ++j) v[j] = static_cast<float>(a[j]) * sc[j0 + j];
      apply_fused_activation(e.post, v, static_cast<int64_t>(c));
      // QuantizeLinear's formula (ops/quantize_linear.cc): float division, half to even;
      // clamped first (the bounds are integers), rounded inline. No NaN can reach here: the
      // sums are integers and every fused activation maps finite values to finite ones.
      for (size_t j = 0; j < c; ++j)
        r[j] = round_half_even_small(std::min(std::max(v[j] / ys, lo), hi));
    }
    int8_t* __restrict out = y + j0;
    for (size_t j = 0; j < c; ++j) out[j] = static_cast<int8_t>(r[j] + zero);
  }
}
}  // namespace

void QS8Epilogue::apply(const int32_t* acc, size_t n, int8_t* y) const {
  requantize_span(*this, multiplier.data(), scale.data(), acc, n, y);
}

void QS8Epilogue::apply_rows(const int32_t* acc, size_t rows, int8_t* y) const { rows_impl(acc, rows, y); }
void QS8Epilogue::apply_rows(const float* acc, size_t rows, int8_t* y) const { rows_impl(acc, rows, y); }

template <class Acc>
void QS8Epilogue::rows_impl(const Acc* acc, size_t rows, int8_t* y) const {
  const size_t n = scale.size();
  for (size_t r0 = 0; r0 < rows; r0 += rep_) {
    const size_t block = std::min(rep_, rows - r0) * n;
    requantize_span(*this, multiplier_rep_.data(), scale_rep_.data(), acc + r0 * n, block, y + r0 * n);
  }
}

const QS8GemmKernel& qs8_requant_gemm_kernel() {
  static const QS8GemmKernel kernel = [] {
#if defined(__wasm_simd128__)
    return QS8GemmKernel{"qs8_qc8w_gemm_4x8c2_simd", qs8_qc8w_gemm_4x8c2_simd, 4, 8};
#else
#if defined(__x86_64__) && KILN_F32_GEMM_AVX2
    if (kernel_arch_available("avx2")) return QS8GemmKernel{"qs8_qc8w_gemm_4x16c2_avx2", qs8_qc8w_gemm_4x16c2_avx2, 4, 16};
#endif
    return QS8GemmKernel{"qs8_qc8w_gemm_4x8c2_vec", qs8_qc8w_gemm_4x8c2_vec, 4, 8};
#endif
  }();
  return kernel;
}

size_t QS8RequantGemm::padded_k() const { return kern_ ? qs8_padded_k(k_) : sums_.padded_k(); }

void QS8RequantGemm::pack(size_t n, size_t k, const int8_t* w, ptrdiff_t stride_k, ptrdiff_t stride_n,
                          const int32_t* bias, int32_t a_zero, QS8Epilogue epilogue) {
  n_ = n;
  k_ = k;
  a_zero_ = a_zero;
  ep_ = std::move(epilogue);
  bias_.assign(n, 0);
  if (bias) std::copy(bias, bias + n, bias_.begin());
  if (!ep_.post.active()) {
    kern_ = &qs8_requant_gemm_kernel();
    packed_.resize(qs8_gemm_packed_size(kern_->nr, n, k));
    qs8_gemm_pack(kern_->nr, n, k, a_zero, w, stride_k, stride_n, ep_.multiplier.data(), bias_.data(), packed_.data());
    return;
  }
  kern_ = nullptr;
  bias_f_.assign(bias_.begin(), bias_.end());
  sums_.pack(n, k, w, stride_k, stride_n);
}

void QS8RequantGemm::run(size_t m, const int8_t* a, size_t a_stride, int8_t* y, size_t y_stride) const {
  if (m == 0 || n_ == 0) return;
  if (kern_) {
    QS8RequantParams params;
    params.output_zero_point = ep_.y_zero;
    params.output_min = static_cast<int8_t>(ep_.qmin);
    params.output_max = static_cast<int8_t>(ep_.qmax);
    const size_t mr = kern_->mr, tiles = (m + mr - 1) / mr;
    parallel_for(tiles, [&](size_t t0, size_t t1) {
      for (size_t t = t0; t < t1; ++t) {
        const size_t r = t * mr;
        kern_->fn(std::min(mr, m - r), n_, k_, a + r * a_stride, a_stride, packed_.data(), y + r * y_stride, y_stride,
                  &params);
      }
    });
    return;
  }
  // Float epilogue: sums in blocks of rows (bounded scratch), the bias added as float (the
  // sums stay exact integers below 2^24), then the block requantized at once.
  constexpr size_t kBlock = 64;
  std::vector<float> acc(std::min(m, kBlock) * n_);
  std::vector<int8_t> out(y_stride == n_ ? 0 : acc.size());
  for (size_t r0 = 0; r0 < m; r0 += kBlock) {
    const size_t rows = std::min(kBlock, m - r0);
    sums_.multiply(rows, a + r0 * a_stride, a_stride, a_zero_, acc.data(), n_);
    for (size_t i = 0; i < rows; ++i) {
      float* __restrict row = acc.data() + i * n_;
      for (size_t j = 0; j < n_; ++j) row[j] += bias_f_[j];
    }
    if (y_stride == n_) {
      ep_.apply_rows(acc.data(), rows, y + r0 * y_stride);
    } else {
      ep_.apply_rows(acc.data(), rows, out.data());
      for (size_t i = 0; i < rows; ++i) std::copy(out.data() + i * n_, out.data() + (i + 1) * n_, y + (r0 + i) * y_stride);
    }
  }
}

}  // namespace kiln
