// The f32 GEMM config table: all microkernels of this build, filtered by what the CPU
// can run, and the default tile chosen by measurement (numbers in src/kernels/README.md).
#include <string_view>
#include <vector>

#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<F32GemmKernel> available_kernels() {
  std::vector<F32GemmKernel> out;
#define KILN_F32_GEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/f32-gemm/f32-gemm-list.h"
#undef KILN_F32_GEMM
  return out;
}

const F32GemmKernel* find(std::span<const F32GemmKernel> ks, std::string_view name) {
  for (const F32GemmKernel& k : ks)
    if (name == k.name) return &k;
  return nullptr;
}

}  // namespace

std::span<const F32GemmKernel> f32_gemm_kernels() {
  static const std::vector<F32GemmKernel> kernels = available_kernels();
  return kernels;
}

const F32GemmKernel& f32_gemm_default_kernel() {
  static const F32GemmKernel* chosen = [] {
    const std::span<const F32GemmKernel> ks = f32_gemm_kernels();
    // Preference order per build, best measured first (src/kernels/README.md).
    for (const char* name : {"f32_gemm_4x16_avx2", "f32_gemm_4x8_simd", "f32_gemm_4x8_vec"})
      if (const F32GemmKernel* k = find(ks, name)) return k;
    return &ks.front();  // unreachable: the vec kernel exists everywhere
  }();
  return *chosen;
}

const F32GemmKernel* f32_gemm_single_row_kernel(size_t nr) {
  for (const F32GemmKernel& k : f32_gemm_kernels())
    if (k.mr == 1 && k.nr == nr) return &k;
  return nullptr;
}

}  // namespace kiln
