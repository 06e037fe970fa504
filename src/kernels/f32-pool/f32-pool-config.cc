// The pooling config table: the microkernels of this build the CPU can run, and the one
// the ops use (channel tile by measurement, src/kernels/README.md).
#include <vector>

#include "kernels/f32-pool/f32-pool.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {

std::span<const F32MaxPoolKernel> f32_maxpool_kernels() {
  static const std::vector<F32MaxPoolKernel> kernels = [] {
    std::vector<F32MaxPoolKernel> out;
#define KILN_F32_MAXPOOL(name, ct, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, ct, name});
#define KILN_F32_AVGPOOL(name, ct, arch)
#include "kernels/f32-pool/f32-pool-list.h"
#undef KILN_F32_MAXPOOL
#undef KILN_F32_AVGPOOL
    return out;
  }();
  return kernels;
}

std::span<const F32AvgPoolKernel> f32_avgpool_kernels() {
  static const std::vector<F32AvgPoolKernel> kernels = [] {
    std::vector<F32AvgPoolKernel> out;
#define KILN_F32_MAXPOOL(name, ct, arch)
#define KILN_F32_AVGPOOL(name, ct, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, ct, name});
#include "kernels/f32-pool/f32-pool-list.h"
#undef KILN_F32_MAXPOOL
#undef KILN_F32_AVGPOOL
    return out;
  }();
  return kernels;
}

const F32MaxPoolKernel& f32_maxpool_default_kernel() {
  static const F32MaxPoolKernel* k = pick_kernel<F32MaxPoolKernel>(
      f32_maxpool_kernels(), {"f32_maxpool_9p8x_c8_avx2", "f32_maxpool_9p8x_c4_simd", "f32_maxpool_9p8x_c8_vec"});
  return *k;
}

const F32AvgPoolKernel& f32_avgpool_default_kernel() {
  static const F32AvgPoolKernel* k = pick_kernel<F32AvgPoolKernel>(
      f32_avgpool_kernels(), {"f32_avgpool_9p8x_c8_avx2", "f32_avgpool_9p8x_c4_simd", "f32_avgpool_9p8x_c8_vec"});
  return *k;
}

}  // namespace kiln
