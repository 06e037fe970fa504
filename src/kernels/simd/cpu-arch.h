// Run-time check used by the config tables of the pooling / softmax / layer-norm families:
// whether this build has kernels for `arch` and the CPU can run them.
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
  return arch == "simd" || arch == "vec";
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
