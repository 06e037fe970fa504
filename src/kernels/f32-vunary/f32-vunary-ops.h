// Per-op functors for f32-vunary-ukernel.h: each splats its parameters once (outside the
// loop) and maps one vector through the shared math of simd/f32-vmath.h.
#pragma once
#include "kernels/f32-vunary/f32-vunary.h"
#include "kernels/simd/f32-vmath.h"

namespace kiln::vunary {

#define KILN_VUNARY_PLAIN_OP(Name, fn)                          \
  template <class S>                                            \
  struct Name {                                                 \
    explicit Name(const F32VunaryParams&) {}                    \
    typename S::V operator()(typename S::V x) const { return simd::fn<S>(x); } \
  };
KILN_VUNARY_PLAIN_OP(Sigmoid, vsigmoid)
KILN_VUNARY_PLAIN_OP(Tanh, vtanh)
KILN_VUNARY_PLAIN_OP(Exp, vexp)
KILN_VUNARY_PLAIN_OP(Erf, verf)
KILN_VUNARY_PLAIN_OP(Gelu, vgelu)
KILN_VUNARY_PLAIN_OP(GeluTanh, vgelu_tanh)
KILN_VUNARY_PLAIN_OP(HardSwish, vhard_swish)
KILN_VUNARY_PLAIN_OP(Swish, vswish)
#undef KILN_VUNARY_PLAIN_OP

template <class S>
struct HardSigmoid {
  typename S::V alpha, beta;
  explicit HardSigmoid(const F32VunaryParams& p) : alpha(S::splat(p.alpha)), beta(S::splat(p.beta)) {}
  typename S::V operator()(typename S::V x) const { return simd::vhard_sigmoid<S>(x, alpha, beta); }
};

template <class S>
struct LeakyRelu {
  typename S::V alpha;
  explicit LeakyRelu(const F32VunaryParams& p) : alpha(S::splat(p.alpha)) {}
  typename S::V operator()(typename S::V x) const { return simd::vleaky_relu<S>(x, alpha); }
};

template <class S>
struct Clamp {
  typename S::V lo, hi;
  explicit Clamp(const F32VunaryParams& p) : lo(S::splat(p.alpha)), hi(S::splat(p.beta)) {}
  typename S::V operator()(typename S::V x) const { return simd::vclamp_keep_nan<S>(x, lo, hi); }
};

}  // namespace kiln::vunary
