// See qs8_requant_gemm.h.
#include "ops/qs8_requant_gemm.h"

#include <algorithm>
#include <cmath>

#include "kernels/simd/cpu-arch.h"
#include "platform/thread_pool.h"

namespace kiln {

namespace {
inline int8_t saturate_round(float v, float y_scale, int32_t zero, int32_t lo, int32_t hi) {
  // QuantizeLinear's formula (ops/quantize_linear.cc): float division, half to even.
  const float q = std::nearbyint(v / y_scale);
  const float c = std::isnan(q) ? 0.f : std::fmin(std::fmax(q, static_cast<float>(lo - zero)), static_cast<float>(hi - zero));
  return static_cast<int8_t>(static_cast<int32_t>(c) + zero);
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
  // Relu / Clip commute with the monotone quantization: Q(clip(v, a, b)) is Q(v) clamped
  // to [Q(a), Q(b)]; both bounds rounded the way QuantizeLinear rounds.
  float lo = -INFINITY, hi = INFINITY;
  post = split_clamp(act, &lo, &hi);
  qmin = -128;
  qmax = 127;
  if (std::isfinite(lo)) qmin = saturate_round(lo, ys, yz, -128, 127);
  if (std::isfinite(hi)) qmax = saturate_round(hi, ys, yz, -128, 127);
}

void QS8Epilogue::apply(const int32_t* acc, size_t n, int8_t* y) const {
  if (!post.active()) {
    for (size_t j = 0; j < n; ++j) {
      const float v = std::nearbyint(static_cast<float>(acc[j]) * multiplier[j]);
      const float c = std::fmin(std::fmax(v, static_cast<float>(qmin - y_zero)), static_cast<float>(qmax - y_zero));
      y[j] = static_cast<int8_t>(static_cast<int32_t>(c) + y_zero);
    }
    return;
  }
  float v[64];
  for (size_t j0 = 0; j0 < n; j0 += 64) {
    const size_t c = std::min<size_t>(64, n - j0);
    for (size_t j = 0; j < c; ++j) v[j] = static_cast<float>(acc[j0 + j]) * scale[j0 + j];
    apply_fused_activation(post, v, static_cast<int64_t>(c));
    for (size_t j = 0; j < c; ++j) y[j0 + j] = saturate_round(v[j], y_scale, y_zero, qmin, qmax);
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
  // Float epilogue: int32 sums in blocks of rows (bounded scratch), then per row.
  constexpr size_t kBlock = 64;
  std::vector<float> acc(std::min(m, kBlock) * n_);
  std::vector<int32_t> row(n_);
  for (size_t r0 = 0; r0 < m; r0 += kBlock) {
    const size_t rows = std::min(kBlock, m - r0);
    sums_.multiply(rows, a + r0 * a_stride, a_stride, a_zero_, acc.data(), n_);
    for (size_t i = 0; i < rows; ++i) {
      const float* sums = acc.data() + i * n_;
      for (size_t j = 0; j < n_; ++j) row[j] = static_cast<int32_t>(sums[j]) + bias_[j];  // exact integers
      ep_.apply(row.data(), n_, y + (r0 + i) * y_stride);
    }
  }
}

}  // namespace kiln
