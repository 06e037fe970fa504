// The softmax config table (defaults by measurement, src/kernels/README.md).
#include <vector>

#include "kernels/f32-softmax/f32-softmax.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
#define KILN_PUSH(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#define KILN_SKIP(name, tile, arch)

std::span<const F32RaddstoreexpminusmaxKernel> f32_raddstoreexpminusmax_kernels() {
  static const std::vector<F32RaddstoreexpminusmaxKernel> kernels = [] {
    std::vector<F32RaddstoreexpminusmaxKernel> out;
#define KILN_F32_RADDSTOREEXPMINUSMAX KILN_PUSH
#define KILN_F32_VMULC KILN_SKIP
#define KILN_F32_VADDC KILN_SKIP
#include "kernels/f32-softmax/f32-softmax-list.h"
#undef KILN_F32_RADDSTOREEXPMINUSMAX
#undef KILN_F32_VMULC
#undef KILN_F32_VADDC
    return out;
  }();
  return kernels;
}

std::span<const F32VopcKernel> f32_vmulc_kernels() {
  static const std::vector<F32VopcKernel> kernels = [] {
    std::vector<F32VopcKernel> out;
#define KILN_F32_RADDSTOREEXPMINUSMAX KILN_SKIP
#define KILN_F32_VMULC KILN_PUSH
#define KILN_F32_VADDC KILN_SKIP
#include "kernels/f32-softmax/f32-softmax-list.h"
#undef KILN_F32_RADDSTOREEXPMINUSMAX
#undef KILN_F32_VMULC
#undef KILN_F32_VADDC
    return out;
  }();
  return kernels;
}

std::span<const F32VopcKernel> f32_vaddc_kernels() {
  static const std::vector<F32VopcKernel> kernels = [] {
    std::vector<F32VopcKernel> out;
#define KILN_F32_RADDSTOREEXPMINUSMAX KILN_SKIP
#define KILN_F32_VMULC KILN_SKIP
#define KILN_F32_VADDC KILN_PUSH
#include "kernels/f32-softmax/f32-softmax-list.h"
#undef KILN_F32_RADDSTOREEXPMINUSMAX
#undef KILN_F32_VMULC
#undef KILN_F32_VADDC
    return out;
  }();
  return kernels;
}

const F32SoftmaxKernels& f32_softmax_default_kernels() {
  static const F32SoftmaxKernels k = {
      &f32_rmax_default_kernel(),
      pick_kernel<F32RaddstoreexpminusmaxKernel>(
          f32_raddstoreexpminusmax_kernels(),
          {"f32_raddstoreexpminusmax_x16_avx2", "f32_raddstoreexpminusmax_x16_simd", "f32_raddstoreexpminusmax_x16_vec"}),
      pick_kernel<F32VopcKernel>(f32_vmulc_kernels(), {"f32_vmulc_x32_avx2", "f32_vmulc_x8_simd", "f32_vmulc_x16_vec"}),
      pick_kernel<F32VopcKernel>(f32_vaddc_kernels(), {"f32_vaddc_x32_avx2", "f32_vaddc_x8_simd", "f32_vaddc_x16_vec"}),
  };
  return k;
}

}  // namespace kiln
