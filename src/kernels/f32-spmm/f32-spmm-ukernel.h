// The one f32 SpMM microkernel template (f32-spmm.h): a pass of V vectors of rows over
// every column, and the kernel that covers mc <= MR rows with a full pass or, for a
// partial tile, halving passes then single rows (as XNNPACK's spmm kernels do).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/f32-spmm/f32-spmm.h"
#include "kernels/simd/f32-vec.h"

namespace kiln {

// Rows [0, V * lanes) of the tile: a, c already offset to the first row.
template <class S, size_t V>
inline void f32_spmm_pass(size_t nc, const float* a, const float* w, const int32_t* dmap, const uint32_t* nnzmap,
                          float* c, size_t mr, typename S::V vmin, typename S::V vmax) {
  using Vec = typename S::V;
  constexpr size_t L = S::kLanes;
  for (size_t j = 0; j < nc; ++j) {
    // Two accumulator sets take alternate nonzeros, so with few vectors per row tile the
    // multiply-add latency chain does not bound the loop; summed once per column.
    Vec acc[V], acc2[V];
    const Vec bias = S::splat(*w++);
    for (size_t v = 0; v < V; ++v) acc[v] = bias, acc2[v] = S::splat(0.f);
    uint32_t nnz = *nnzmap++;
    for (; nnz >= 2; nnz -= 2) {
      const Vec w0 = S::splat(w[0]), w1 = S::splat(w[1]);
      w += 2;
      const float* a1 = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a) + dmap[0]);
      for (size_t v = 0; v < V; ++v) acc[v] = S::muladd(S::load(a + v * L), w0, acc[v]);
      for (size_t v = 0; v < V; ++v) acc2[v] = S::muladd(S::load(a1 + v * L), w1, acc2[v]);
      a = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a1) + dmap[1]);
      dmap += 2;
    }
    if (nnz != 0) {
      const Vec w0 = S::splat(*w++);
      for (size_t v = 0; v < V; ++v) acc[v] = S::muladd(S::load(a + v * L), w0, acc[v]);
      a = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a) + *dmap++);
    }
    const Vec one = S::splat(1.f);  // acc + acc2 * 1 is exact: the SIMD layer's muladd as an add
    for (size_t v = 0; v < V; ++v) S::store(c + v * L, S::min(S::max(S::muladd(acc2[v], one, acc[v]), vmin), vmax));
    c += mr;
  }
}

// One row (the tail of a partial tile below the vector width).
inline void f32_spmm_pass_row(size_t nc, const float* a, const float* w, const int32_t* dmap, const uint32_t* nnzmap,
                              float* c, size_t mr, float lo, float hi) {
  for (size_t j = 0; j < nc; ++j) {
    float acc = *w++;
    for (uint32_t nnz = *nnzmap++; nnz != 0; --nnz) {
      acc += *a * *w++;
      a = reinterpret_cast<const float*>(reinterpret_cast<const char*>(a) + *dmap++);
    }
    acc = acc < lo ? lo : acc;
    *c = acc > hi ? hi : acc;
    c += mr;
  }
}

template <class S, size_t MRV>
inline void f32_spmm_ukernel(size_t mc, size_t nc, const float* a, const float* w, const int32_t* dmap,
                             const uint32_t* nnzmap, float* c, const F32MinMax* params) {
  constexpr size_t L = S::kLanes, MR = MRV * L;
  const typename S::V vmin = S::splat(params->min), vmax = S::splat(params->max);
  if (mc == MR) {
    f32_spmm_pass<S, MRV>(nc, a, w, dmap, nnzmap, c, MR, vmin, vmax);
    return;
  }
  size_t r = 0;
  // Halving passes: each vector count at most once covers any remainder >= one vector.
  if constexpr (MRV >= 16) if (mc - r >= 8 * L) { f32_spmm_pass<S, 8>(nc, a + r, w, dmap, nnzmap, c + r, MR, vmin, vmax); r += 8 * L; }
  if constexpr (MRV >= 8) if (mc - r >= 4 * L) { f32_spmm_pass<S, 4>(nc, a + r, w, dmap, nnzmap, c + r, MR, vmin, vmax); r += 4 * L; }
  if constexpr (MRV >= 4) if (mc - r >= 2 * L) { f32_spmm_pass<S, 2>(nc, a + r, w, dmap, nnzmap, c + r, MR, vmin, vmax); r += 2 * L; }
  if constexpr (MRV >= 2) if (mc - r >= L) { f32_spmm_pass<S, 1>(nc, a + r, w, dmap, nnzmap, c + r, MR, vmin, vmax); r += L; }
  for (; r < mc; ++r) f32_spmm_pass_row(nc, a + r, w, dmap, nnzmap, c + r, MR, params->min, params->max);
}

}  // namespace kiln
