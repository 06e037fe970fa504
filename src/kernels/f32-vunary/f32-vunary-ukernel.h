// The one f32-vunary microkernel template: U vectors of S per main-loop iteration, then
// single vectors, then the last partial vector through a stack buffer (no access past n).
// OP<S> is a small functor from f32-vunary-ops.h holding the splatted parameters.
#pragma once
#include <cstring>

#include "kernels/f32-vunary/f32-vunary-ops.h"
#include "kernels/f32-vunary/f32-vunary.h"

namespace kiln {

template <class S, size_t U, template <class> class OP>
inline void f32_vunary_ukernel(size_t n, const float* x, float* y, const F32VunaryParams* params) {
  using V = typename S::V;
  constexpr size_t L = S::kLanes;
  const OP<S> op(*params);
  for (; n >= U * L; n -= U * L, x += U * L, y += U * L) {
    V v[U];
    for (size_t u = 0; u < U; ++u) v[u] = S::load(x + u * L);  // all loads first: x == y is fine
    for (size_t u = 0; u < U; ++u) v[u] = op(v[u]);
    for (size_t u = 0; u < U; ++u) S::store(y + u * L, v[u]);
  }
  for (; n >= L; n -= L, x += L, y += L) S::store(y, op(S::load(x)));
  if (n != 0) {
    float buf[L] = {};
    std::memcpy(buf, x, n * sizeof(float));
    S::store(buf, op(S::load(buf)));
    std::memcpy(y, buf, n * sizeof(float));
  }
}

}  // namespace kiln
