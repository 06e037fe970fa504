// The row-reduction config table (defaults by measurement, src/kernels/README.md).
#include <vector>

#include "kernels/f32-reduce/f32-reduce.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {

std::span<const F32RmaxKernel> f32_rmax_kernels() {
  static const std::vector<F32RmaxKernel> kernels = [] {
    std::vector<F32RmaxKernel> out;
#define KILN_F32_RMAX(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#define KILN_F32_RSUM(name, tile, arch)
#include "kernels/f32-reduce/f32-reduce-list.h"
#undef KILN_F32_RMAX
#undef KILN_F32_RSUM
    return out;
  }();
  return kernels;
}

std::span<const F32RsumKernel> f32_rsum_kernels() {
  static const std::vector<F32RsumKernel> kernels = [] {
    std::vector<F32RsumKernel> out;
#define KILN_F32_RMAX(name, tile, arch)
#define KILN_F32_RSUM(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#include "kernels/f32-reduce/f32-reduce-list.h"
#undef KILN_F32_RMAX
#undef KILN_F32_RSUM
    return out;
  }();
  return kernels;
}

const F32RmaxKernel& f32_rmax_default_kernel() {
  static const F32RmaxKernel* k = pick_kernel<F32RmaxKernel>(
      f32_rmax_kernels(), {"f32_rmax_x16_avx2", "f32_rmax_x16_simd", "f32_rmax_x16_vec"});
  return *k;
}

const F32RsumKernel& f32_rsum_default_kernel() {
  static const F32RsumKernel* k = pick_kernel<F32RsumKernel>(
      f32_rsum_kernels(), {"f32_rsum_x16_avx2", "f32_rsum_x16_simd", "f32_rsum_x16_vec"});
  return *k;
}

}  // namespace kiln
