// The f32-qs8-vcvt config table.
#include <vector>

#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {

std::span<const F32QS8VcvtKernel> f32_qs8_vcvt_kernels() {
  static const std::vector<F32QS8VcvtKernel> kernels = [] {
    std::vector<F32QS8VcvtKernel> out;
#define KILN_F32_QS8_VCVT(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#include "kernels/f32-qs8-vcvt/f32-qs8-vcvt-list.h"
#undef KILN_F32_QS8_VCVT
    return out;
  }();
  return kernels;
}

const F32QS8VcvtKernel& f32_qs8_vcvt_default_kernel() {
  static const F32QS8VcvtKernel* k = pick_kernel<F32QS8VcvtKernel>(
      f32_qs8_vcvt_kernels(), {"f32_qs8_vcvt_x32_avx2", "f32_qs8_vcvt_x16_simd", "f32_qs8_vcvt_x16_vec"});
  return *k;
}

}  // namespace kiln
