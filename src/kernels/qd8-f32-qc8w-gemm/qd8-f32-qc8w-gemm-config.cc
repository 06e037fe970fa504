// The qd8-f32-qc8w GEMM config table: every microkernel of this build the CPU can run,
// and the default tile chosen by measurement (numbers in src/kernels/README.md).
#include <string_view>
#include <vector>

#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<QD8GemmKernel> available_kernels() {
  std::vector<QD8GemmKernel> out;
#define KILN_QD8_GEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/qd8-f32-qc8w-gemm/qd8-f32-qc8w-gemm-list.h"
#undef KILN_QD8_GEMM
  return out;
}

}  // namespace

std::span<const QD8GemmKernel> qd8_gemm_kernels() {
  static const std::vector<QD8GemmKernel> kernels = available_kernels();
  return kernels;
}

const QD8GemmKernel& qd8_gemm_default_kernel() {
  static const QD8GemmKernel* chosen = [] {
    const std::span<const QD8GemmKernel> ks = qd8_gemm_kernels();
    for (const char* name : {"qd8_f32_qc8w_gemm_4x16c2_avx2", "qd8_f32_qc8w_gemm_4x8c2_simd", "qd8_f32_qc8w_gemm_4x8c2_vec"})
      for (const QD8GemmKernel& k : ks)
        if (std::string_view(name) == k.name) return &k;
    return &ks.front();  // unreachable: every build has the portable or the SIMD128 default
  }();
  return *chosen;
}

}  // namespace kiln
