// Run-time check used by every kernel family's config table: whether this build has
// kernels for `arch` and the CPU can run them (the *-avx2.cc files are built with -mavx2
// -mfma, so both are required; "scalar" kernels are portable like "vec").
#pragma once
#include <initializer_list>
#include <string_view>

#include "kernels/f32-gemm/f32-gemm.h"  // KILN_F32_GEMM_AVX2

namespace kiln {

inline bool kernel_arch_available(std::string_view arch) {
#if KILN_F32_GEMM_AVX2
  if (arch == "avx2") {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
#endif
  return arch == "simd" || arch == "vec" || arch == "scalar";
}

// The first of `names` (best measured first) found in `kernels`; kernels of this build
// always include the portable `vec` (native) or `simd` (WASM) ones, so the lists end with
// those and the result is never null in practice.
template <class K, class Span>
const K* pick_kernel(const Span& kernels, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names)
    for (const K& k : kernels)
      if (name == k.name) return &k;
  return kernels.empty() ? nullptr : &kernels[0];
}

}  // namespace kiln
