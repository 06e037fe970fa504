// The f32-vunary oracles: each op in double with <cmath>, rounded once to float. The
// tester measures the vector kernels' errors against these.
#include <cmath>
#include <limits>

#include "kernels/f32-vunary/f32-vunary.h"

namespace kiln {
namespace {

double clamp01(double v) { return v < 0 ? 0.0 : (v > 1 ? 1.0 : v); }

template <class F>
void each(size_t n, const float* x, float* y, F f) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(f(static_cast<double>(x[i])));
}

}  // namespace

void f32_vsigmoid_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
}
void f32_vtanh_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return std::tanh(v); });
}
void f32_vexp_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return std::exp(v); });
}
void f32_verf_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return std::erf(v); });
}
// erfc keeps the negative tail accurate (1 + erf cancels); -inf gives the limit -0.
void f32_vgelu_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return std::isinf(v) && v < 0 ? -0.0 : 0.5 * v * std::erfc(-v / std::sqrt(2.0)); });
}
void f32_vgelutanh_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) {
    if (std::isinf(v) && v < 0) return -0.0;
    const double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
    // 1 + tanh(u) = 2 / (1 + e^(-2u)) without cancellation for negative u.
    return v / (1.0 + std::exp(-2.0 * u));
  });
}
void f32_vhardsigmoid_reference(size_t n, const float* x, float* y, const F32VunaryParams* p) {
  const double a = p->alpha, b = p->beta;
  each(n, x, y, [=](double v) { return std::isnan(v) ? v : clamp01(a * v + b); });
}
void f32_vhswish_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return std::isnan(v) ? v : v * clamp01(v / 6.0 + 0.5); });
}
void f32_vlrelu_reference(size_t n, const float* x, float* y, const F32VunaryParams* p) {
  const double a = p->alpha;
  each(n, x, y, [=](double v) { return v < 0 ? a * v : v; });
}
void f32_vswish_reference(size_t n, const float* x, float* y, const F32VunaryParams*) {
  each(n, x, y, [](double v) { return std::isinf(v) && v < 0 ? -0.0 : v / (1.0 + std::exp(-v)); });
}
void f32_vclamp_reference(size_t n, const float* x, float* y, const F32VunaryParams* p) {
  const double lo = p->alpha, hi = p->beta;
  each(n, x, y, [=](double v) { return std::isnan(v) ? v : std::min(std::max(v, lo), hi); });
}

}  // namespace kiln
