// The one qs8-qc8w IGEMM microkernel template (layout in qs8-qc8w-igemm.h); every
// qs8-qc8w-igemm-<MR>x<NR>c2-<arch>.cc instantiates it for a struct of simd/qs8-vec.h.
//
// Per NR panel: accumulators start at the packed bias (zero-point correction included);
// per tap MR row pointers come from the indirection buffer (all but the zero row offset by
// a_offset) and the qs8 GEMM's k loop runs over them (qd8_gemm_pair: widening load, pair
// broadcast, pmaddwd); the epilogue is a policy: QS8IgemmRequant, the GEMM's
// (qs8_gemm_requant_store, so both requantize identically), or QS8IgemmActOut<Act>, the
// activation epilogue of qs8-act-epilogue.h (the packed scales are then x_scale * w_scale).
// Rows past mr alias the last valid row (branch-free body).
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/qs8-qc8w-gemm/qs8-act-epilogue.h"
#include "kernels/qs8-qc8w-gemm/qs8-qc8w-gemm-ukernel.h"
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace kiln {
namespace {

template <class S, size_t MR, size_t NV>
inline __attribute__((always_inline)) void qs8_igemm_pairs(typename S::VI (&acc)[MR][NV],
                                                           const typename S::VA (&va)[MR], const int8_t* w) {
  constexpr size_t NR = NV * S::kLanes;
  qd8_gemm_pair<S, MR, NV, 0>(acc, va, w);
  qd8_gemm_pair<S, MR, NV, 1>(acc, va, w + 2 * NR);
  qd8_gemm_pair<S, MR, NV, 2>(acc, va, w + 4 * NR);
  qd8_gemm_pair<S, MR, NV, 3>(acc, va, w + 6 * NR);
}

// The requantizing epilogue: float(acc) * multiplier, the int8 clamp.
struct QS8IgemmRequant {
  using Params = QS8RequantParams;
  template <class S, size_t MR, size_t NV>
  static inline __attribute__((always_inline)) void store(const typename S::VI (&acc)[MR][NV], const float* scale,
                                                          int8_t* (&cr)[MR], size_t cols, const Params* params) {
    qs8_gemm_requant_store<S, MR, NV>(acc, scale, cr, cols, params);
  }
};

// The activation epilogue: float(acc) * in_scale, Act, / y_scale, rounded, clamped.
template <class Act>
struct QS8IgemmActOut {
  using Params = QS8ActParams;
  template <class S, size_t MR, size_t NV>
  static inline __attribute__((always_inline)) void store(const typename S::VI (&acc)[MR][NV], const float* scale,
                                                          int8_t* (&cr)[MR], size_t cols, const Params* params) {
    using F = typename S::F;
    constexpr size_t L = S::kLanes, NR = NV * L;
    const QS8ActVec<F, Act> epi(*params);
    for (size_t i = 0; i < MR; ++i) {
      alignas(64) int8_t tmp[NR];
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v)
        S::store_q8(tmp + v * L, epi(F::mul(S::to_f32(acc[i][v]), F::load(scale + v * L))), epi.zp_less_magic);
      if (cols == NR)
        std::memcpy(cr[i], tmp, NR);
      else
        for (size_t j = 0; j < cols; ++j) cr[i][j] = tmp[j];
      cr[i] += cols;
    }
  }
};

template <class S, size_t MR, size_t NV, class Epi = QS8IgemmRequant>
inline __attribute__((always_inline)) void qs8_igemm_ukernel(size_t mr, size_t nc, size_t kc, size_t ks,
                                                             const int8_t* const* a, const void* w_void, int8_t* c,
                                                             size_t c_stride, size_t a_offset, const int8_t* zero,
                                                             const typename Epi::Params* params) {
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
      for (size_t b = 0; b < full; ++b, w += 8 * NR) {
        typename S::VA va[MR];
#pragma GCC unroll 16
        for (size_t i = 0; i < MR; ++i) {
          va[i] = S::load_block(ap[i]);
          ap[i] += 8;
        }
        qs8_igemm_pairs<S, MR, NV>(acc, va, w);
      }
      if (rest != 0) {
        // The last kc % 8 channels: no read past kc (the weights there are zero, so the
        // padding values would not matter, only readability). Gathered in a register with
        // 4 + 2 + 1 byte loads (little-endian, as x86 and WebAssembly are): a variable-length
        // memcpy would be a library call, a local array a round trip through memory.
        typename S::VA va[MR];
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
          va[i] = S::block_from_bits(bits);
        }
        qs8_igemm_pairs<S, MR, NV>(acc, va, w);
        w += 8 * NR;
      }
    }
    const size_t cols = nc < NR ? nc : NR;
    Epi::template store<S, MR, NV>(acc, scale, cr, cols, params);
    nc -= cols;
  }
}

}  // namespace
}  // namespace kiln
