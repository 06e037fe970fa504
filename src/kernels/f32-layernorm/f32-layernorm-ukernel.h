// The layer-norm row template (contract in f32-layernorm.h); f32-layernorm-<arch>-x<tile>.cc
// instantiate it: passes over the row for the mean, the deviations, and to normalize.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "kernels/f32-layernorm/f32-layernorm.h"
#include "kernels/simd/f32-arith.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

// sum of f(x[i]) over the row: NV accumulators, then vectors, folded pairwise, lanes left to
// right, then the scalar tail.
template <class S, size_t NV, class F, class SF>
inline __attribute__((always_inline)) float f32_layernorm_sum(size_t n, const float* x, F f, SF sf) {
  using V = typename S::V;
  using A = simd::F32Arith<S>;
  constexpr size_t L = S::kLanes, T = NV * L;
  V acc[NV];
#pragma GCC unroll 8
  for (size_t v = 0; v < NV; ++v) acc[v] = S::splat(0.f);
  size_t i = 0;
  for (; i + T <= n; i += T)
#pragma GCC unroll 8
    for (size_t v = 0; v < NV; ++v) acc[v] = f(S::load(x + i + v * L), acc[v]);
  for (; i + L <= n; i += L) acc[0] = f(S::load(x + i), acc[0]);
#pragma GCC unroll 8
  for (size_t w = 1; w < NV; w *= 2)
#pragma GCC unroll 8
    for (size_t v = 0; v + w < NV; v += 2 * w) acc[v] = A::add(acc[v], acc[v + w]);
  float lanes[L];
  S::store(lanes, acc[0]);
  float s = 0.f;
  for (size_t l = 0; l < L; ++l) s += lanes[l];
  for (; i < n; ++i) s += sf(x[i]);
  return s;
}

template <class S, size_t NV>
inline __attribute__((always_inline)) void f32_layernorm_ukernel(size_t n, const float* x, const float* gamma,
                                                                 const float* beta, float epsilon, float* y,
                                                                 float* mean_out, float* rstd_out) {
  using V = typename S::V;
  using A = simd::F32Arith<S>;
  constexpr size_t L = S::kLanes, T = NV * L;
  if (n == 0) return;
  const float fn = static_cast<float>(n);  // divide (once per row): a constant row's mean is exact
  // Pass 1: a first mean m0. Pass 2: deviations d = x - m0 (exact where x is near m0) summed
  // and squared: mean = m0 + delta with delta = sum(d) / n, var = sum(d^2) / n - delta^2.
  // The normalize pass uses (x - m0) - delta, so a large common offset costs no digits.
  const float m0 =
      f32_layernorm_sum<S, NV>(n, x, [](V v, V acc) { return A::add(acc, v); }, [](float v) { return v; }) / fn;
  const V vm0 = S::splat(m0);
  const float delta = f32_layernorm_sum<S, NV>(
                          n, x, [&](V v, V acc) { return A::add(acc, A::sub(v, vm0)); },
                          [&](float v) { return v - m0; }) /
                      fn;
  const float sq = f32_layernorm_sum<S, NV>(
                       n, x,
                       [&](V v, V acc) {
                         const V d = A::sub(v, vm0);
                         return S::muladd(d, d, acc);
                       },
                       [&](float v) { return (v - m0) * (v - m0); }) /
                   fn;
  const float var = std::max(sq - delta * delta, 0.f);
  const float rstd = 1.f / std::sqrt(var + epsilon);
  if (mean_out) *mean_out = m0 + delta;
  if (rstd_out) *rstd_out = rstd;
  const V vdelta = S::splat(delta), vrstd = S::splat(rstd);
  auto row = [&](auto has_beta) {
    size_t i = 0;
    auto one = [&](size_t j) {
      const V d = A::mul(A::sub(A::sub(S::load(x + j), vm0), vdelta), vrstd);
      if constexpr (decltype(has_beta)::value) S::store(y + j, S::muladd(d, S::load(gamma + j), S::load(beta + j)));
      else S::store(y + j, A::mul(d, S::load(gamma + j)));
    };
    for (; i + T <= n; i += T)
#pragma GCC unroll 8
      for (size_t v = 0; v < NV; ++v) one(i + v * L);
    for (; i + L <= n; i += L) one(i);
    for (; i < n; ++i) {
      const float d = ((x[i] - m0) - delta) * rstd;
      y[i] = decltype(has_beta)::value ? d * gamma[i] + beta[i] : d * gamma[i];
    }
  };
  if (beta) row(std::true_type{});
  else row(std::false_type{});
}

}  // namespace
}  // namespace kiln
