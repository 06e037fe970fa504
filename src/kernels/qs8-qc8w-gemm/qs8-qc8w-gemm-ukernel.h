// The qs8-qc8w GEMM microkernel template (layout in qs8-qc8w-gemm.h); every
// qs8-qc8w-gemm-<MR>x<NR>c2-<arch>.cc instantiates it for a struct of simd/qs8-vec.h.
// The inner loop is the qd8 pair-dot (qd8_gemm_pair); the accumulators start at the packed
// bias, which already holds the A zero-point correction. Epilogue (fp32 requantization):
// acc -> float * scale, clamped to [min - zp, max - zp], rounded half-to-even by adding
// 1.5 * 2^23 (the float's low mantissa bits are then the integer), + zp, narrowed to int8.
#pragma once
#include <cstddef>
#include <cstring>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm-ukernel.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm.h"

namespace kiln {
namespace {

// The requantizing epilogue of one panel (shared with the qs8-qc8w IGEMM): MR rows of NV
// accumulator vectors times the panel's scales, stored as `cols` int8 at cr[i] (advanced).
template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qs8_gemm_requant_store(const typename S::VI (&acc)[MR][NV],
                                                                  const float* scale, int8_t* (&cr)[MR], size_t cols,
                                                                  const QS8RequantParams* params) {
  using F = typename S::F;
  using VF = typename F::V;
  constexpr size_t L = S::kLanes, NR = NV * L;
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  constexpr int32_t kMagicBits = 0x4B400000;
  const VF vlo = F::splat(static_cast<float>(params->output_min - params->output_zero_point));
  const VF vhi = F::splat(static_cast<float>(params->output_max - params->output_zero_point));
  const VF vmagic = F::splat(kMagic);
  const int32_t zp_less_magic = params->output_zero_point - kMagicBits;
  for (size_t i = 0; i < MR; ++i) {
    alignas(64) float tmp[NR];
#pragma GCC unroll 16
    for (size_t v = 0; v < NV; ++v) {
      VF y = F::mul(S::to_f32(acc[i][v]), F::load(scale + v * L));
      y = F::add(F::min(F::max(y, vlo), vhi), vmagic);
      F::store(tmp + v * L, y);
    }
    int8_t* out = cr[i];
    for (size_t j = 0; j < cols; ++j) {
      int32_t bits;
      std::memcpy(&bits, tmp + j, 4);
      out[j] = static_cast<int8_t>(bits + zp_less_magic);
    }
    cr[i] += cols;
  }
}

template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qs8_gemm_ukernel(size_t mr, size_t nc, size_t kc, const int8_t* a,
                                                            size_t a_stride, const void* w_void, int8_t* c,
                                                            size_t c_stride, const QS8RequantParams* params) {
  using VI = typename S::VI;
  constexpr size_t L = S::kLanes, NR = NV * L;
  const size_t blocks = (kc + 7) / 8;
  const int8_t* ar[MR];
  int8_t* cr[MR];
  for (size_t i = 0; i < MR; ++i) {
    const size_t row = i < mr ? i : mr - 1;
    ar[i] = a + row * a_stride;
    cr[i] = c + row * c_stride;
  }
  const int8_t* w = static_cast<const int8_t*>(w_void);
  while (nc != 0) {
    VI acc[MR][NV];
    int32_t bias[NR];
    float scale[NR];
    std::memcpy(bias, w, sizeof bias);
    std::memcpy(scale, w + NR * 4, sizeof scale);
    w += NR * 8;
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) acc[i][v] = S::load_i32(bias + v * L);
    const int8_t* ap[MR];
    for (size_t i = 0; i < MR; ++i) ap[i] = ar[i];
    for (size_t b = 0; b < blocks; ++b) {
      typename S::VA va[MR];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        va[i] = S::load_block(ap[i]);
        ap[i] += 8;
      }
      qd8_gemm_pair<S, MR, NV, 0>(acc, va, w);
      qd8_gemm_pair<S, MR, NV, 1>(acc, va, w + 2 * NR);
      qd8_gemm_pair<S, MR, NV, 2>(acc, va, w + 4 * NR);
      qd8_gemm_pair<S, MR, NV, 3>(acc, va, w + 6 * NR);
      w += 8 * NR;
    }
    const size_t cols = nc < NR ? nc : NR;
    qs8_gemm_requant_store<S, MR, NV>(acc, scale, cr, cols, params);
    nc -= cols;
  }
}

}  // namespace
}  // namespace kiln
