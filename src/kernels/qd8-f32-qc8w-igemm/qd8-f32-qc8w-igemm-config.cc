// The qd8-f32-qc8w IGEMM config table: every microkernel of this build the CPU can run,
// and the default: the qd8 GEMM default's tile (so 1x1 layers can run the GEMM on the
// same packed weights), measured in src/kernels/README.md.
#include <string>
#include <string_view>
#include <vector>

#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<QD8IgemmKernel> available_kernels() {
  std::vector<QD8IgemmKernel> out;
#define KILN_QD8_IGEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/qd8-f32-qc8w-igemm/qd8-f32-qc8w-igemm-list.h"
#undef KILN_QD8_IGEMM
  return out;
}

}  // namespace

std::span<const QD8IgemmKernel> qd8_igemm_kernels() {
  static const std::vector<QD8IgemmKernel> kernels = available_kernels();
  return kernels;
}

const QD8IgemmKernel& qd8_igemm_default_kernel() {
  static const QD8IgemmKernel* chosen = [] {
    const std::span<const QD8IgemmKernel> ks = qd8_igemm_kernels();
    // "qd8_f32_qc8w_gemm_4x8c2_simd" -> "qd8_f32_qc8w_igemm_4x8c2_simd"
    const std::string gemm = qd8_gemm_default_kernel().name;
    const std::string want = "qd8_f32_qc8w_igemm_" + gemm.substr(std::string("qd8_f32_qc8w_gemm_").size());
    for (const QD8IgemmKernel& k : ks)
      if (want == k.name) return &k;
    return &ks.back();  // the portable vec kernel natively, the 4x8c2 SIMD128 one in kiln.wasm
  }();
  return *chosen;
}

}  // namespace kiln
