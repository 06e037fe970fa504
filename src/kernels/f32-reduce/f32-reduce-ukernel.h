// The row-reduction template (contract in f32-reduce.h); f32-r{max,sum}-<arch>-x<tile>.cc
// instantiate it. NV vector accumulators over tiles of NV * lanes, then single vectors,
// then the accumulators fold pairwise, the lanes left to right, and the tail elements.
#pragma once
#include <cstddef>
#include <limits>

#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/simd/f32-arith.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {
namespace {

template <class S, size_t NV, bool kSum>
inline __attribute__((always_inline)) float f32_reduce_ukernel(size_t n, const float* x) {
  using V = typename S::V;
  using A = simd::F32Arith<S>;
  constexpr size_t L = S::kLanes, T = NV * L;
  auto op = [](V a, V b) {
    if constexpr (kSum) return A::add(a, b);
    else return S::max(a, b);
  };
  auto sop = [](float a, float b) {
    if constexpr (kSum) return a + b;
    else return a < b ? b : a;
  };
  if (n == 0) return kSum ? 0.f : -std::numeric_limits<float>::infinity();
  float r;
  size_t i = 0;
  if (n >= L) {
    V acc[NV];
    const V init = kSum ? S::splat(0.f) : S::load(x);
#pragma GCC unroll 8
    for (size_t v = 0; v < NV; ++v) acc[v] = init;
    for (; i + T <= n; i += T)
#pragma GCC unroll 8
      for (size_t v = 0; v < NV; ++v) acc[v] = op(acc[v], S::load(x + i + v * L));
    for (; i + L <= n; i += L) acc[0] = op(acc[0], S::load(x + i));
#pragma GCC unroll 8
    for (size_t w = 1; w < NV; w *= 2)
#pragma GCC unroll 8
      for (size_t v = 0; v + w < NV; v += 2 * w) acc[v] = op(acc[v], acc[v + w]);
    float lanes[L];
    S::store(lanes, acc[0]);
    r = lanes[0];
    for (size_t l = 1; l < L; ++l) r = sop(r, lanes[l]);
  } else {
    r = kSum ? 0.f : x[0];
  }
  for (; i < n; ++i) r = sop(r, x[i]);
  return r;
}

}  // namespace
}  // namespace kiln
