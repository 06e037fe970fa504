// The f32 SpMM config table: the microkernels of this build the CPU can run, and the
// default chosen by measurement (src/kernels/README.md, "f32 SpMM").
#include <string_view>
#include <vector>

#include "kernels/f32-spmm/f32-spmm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<F32SpmmKernel> available_kernels() {
  std::vector<F32SpmmKernel> out;
#define KILN_F32_SPMM(name, tile_mr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, name});
#include "kernels/f32-spmm/f32-spmm-list.h"
#undef KILN_F32_SPMM
  return out;
}

}  // namespace

std::span<const F32SpmmKernel> f32_spmm_kernels() {
  static const std::vector<F32SpmmKernel> kernels = available_kernels();
  return kernels;
}

const F32SpmmKernel& f32_spmm_default_kernel() {
  static const F32SpmmKernel* chosen = [] {
    const std::span<const F32SpmmKernel> ks = f32_spmm_kernels();
    // WASM: 16 rows; 32 rows with two accumulator sets is 16 vectors, which V8 spills.
    for (std::string_view name : {"f32_spmm_32x1_avx2", "f32_spmm_16x1_simd", "f32_spmm_16x1_vec"})
      for (const F32SpmmKernel& k : ks)
        if (name == k.name) return &k;
    return &ks.front();  // unreachable: every build has the portable or the SIMD128 default
  }();
  return *chosen;
}

}  // namespace kiln
