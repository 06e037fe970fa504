// The layer-norm config table (default by measurement, src/kernels/README.md).
#include <vector>

#include "kernels/f32-layernorm/f32-layernorm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {

std::span<const F32LayerNormKernel> f32_layernorm_kernels() {
  static const std::vector<F32LayerNormKernel> kernels = [] {
    std::vector<F32LayerNormKernel> out;
#define KILN_F32_LAYERNORM(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#include "kernels/f32-layernorm/f32-layernorm-list.h"
#undef KILN_F32_LAYERNORM
    return out;
  }();
  return kernels;
}

const F32LayerNormKernel& f32_layernorm_default_kernel() {
  static const F32LayerNormKernel* k = pick_kernel<F32LayerNormKernel>(
      f32_layernorm_kernels(), {"f32_layernorm_x16_avx2", "f32_layernorm_x16_simd", "f32_layernorm_x16_vec"});
  return *k;
}

}  // namespace kiln
