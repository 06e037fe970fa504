// The one qs8-qc8w IGEMM microkernel template (layout in qs8-qc8w-igemm.h); every
// qs8-qc8w-igemm-<MR>x<NR>c2-<arch>.cc instantiates it for a struct of simd/qs8-vec.h.
//
// Per NR panel: accumulators start at the packed bias (zero-point correction included);
// per tap MR row pointers come from the indirection buffer (all but the zero row offset by
// a_offset) and the qs8 GEMM's k loop runs over them (qd8_gemm_pair: widening load, pair
// broadcast, pmaddwd); the epilogue is the GEMM's (qs8_gemm_requant_store), so both
// requantize identically. Rows past mr alias the last valid row (branch-free body).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm-ukernel.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace kiln {
namespace {

template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qs8_igemm_block(typename S::VI (&acc)[MR][NV], const int8_t* (&ap)[MR],
                                                           const int8_t* w) {
  constexpr size_t NR = NV * S::kLanes;
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
}

template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qs8_igemm_ukernel(size_t mr, size_t nc, size_t kc, size_t ks,
                                                             const int8_t* const* a, const void* w_void, int8_t* c,
                                                             size_t c_stride, size_t a_offset, const int8_t* zero,
                                                             const QS8RequantParams* params) {
  using VI = typename S::VI;
  constexpr size_t L = S::kLanes, NR = NV * L;
  const size_t full = kc / 8, rest = kc % 8;
  int8_t* cr[MR];
  size_t row[MR];
  for (size_t i = 0; i < MR; ++i) {
    row[i] = i < mr ? i : mr - 1;
    cr[i] = c + row[i] * c_stride;
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
    const int8_t* const* ind = a;
    for (size_t s = 0; s < ks; ++s, ind += MR) {
      const int8_t* ap[MR];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        const int8_t* p = ind[row[i]];
        // Unsigned wrap-around lets a_offset move pointers backwards too.
        ap[i] = p == zero ? p : reinterpret_cast<const int8_t*>(reinterpret_cast<uintptr_t>(p) + a_offset);
      }
      for (size_t b = 0; b < full; ++b, w += 8 * NR) qs8_igemm_block<S, MR, NV>(acc, ap, w);
      if (rest != 0) {
        // The last kc % 8 channels through a local block: no read past kc (the weights
        // there are zero, so the padding values would not matter, only readability).
        // Gathered as 4 + 2 + 1 byte loads (little-endian, as x86 and WebAssembly are):
        // a variable-length memcpy would be a library call per row and tap.
        alignas(16) int8_t tail[MR][8];
        const int8_t* tp[MR];
#pragma GCC unroll 16
        for (size_t i = 0; i < MR; ++i) {
          const int8_t* q = ap[i];
          uint64_t bits = 0;
          size_t t = 0;
          if (rest & 4) {
            uint32_t v;
            std::memcpy(&v, q, 4);
            bits = v, t = 4;
          }
          if (rest & 2) {
            uint16_t v;
            std::memcpy(&v, q + t, 2);
            bits |= uint64_t{v} << (8 * t), t += 2;
          }
          if (rest & 1) bits |= uint64_t{static_cast<uint8_t>(q[t])} << (8 * t);
          std::memcpy(tail[i], &bits, 8);
          tp[i] = tail[i];
        }
        qs8_igemm_block<S, MR, NV>(acc, tp, w);
        w += 8 * NR;
      }
    }
    const size_t cols = nc < NR ? nc : NR;
    qs8_gemm_requant_store<S, MR, NV>(acc, scale, cr, cols, params);
    nc -= cols;
  }
}

}  // namespace
}  // namespace kiln
