// The f32 IGEMM config table: the microkernels of this build the CPU can run, and the
// default, which is the GEMM default's tile (see f32-igemm.h).
#include <string>
#include <string_view>
#include <vector>

#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<F32IgemmKernel> available_kernels() {
  std::vector<F32IgemmKernel> out;
#define KILN_F32_IGEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/f32-igemm/f32-igemm-list.h"
#undef KILN_F32_IGEMM
  return out;
}

}  // namespace

std::span<const F32IgemmKernel> f32_igemm_kernels() {
  static const std::vector<F32IgemmKernel> kernels = available_kernels();
  return kernels;
}

const F32IgemmKernel& f32_igemm_default_kernel() {
  static const F32IgemmKernel* chosen = [] {
    const std::span<const F32IgemmKernel> ks = f32_igemm_kernels();
    // "f32_gemm_4x16_avx2" -> "f32_igemm_4x16_avx2"
    const std::string want = "f32_igemm_" + std::string(f32_gemm_default_kernel().name).substr(9);
    for (const F32IgemmKernel& k : ks)
      if (want == k.name) return &k;
    return &ks.front();
  }();
  return *chosen;
}

}  // namespace kiln
