// The qs8-qc8w IGEMM config table: every microkernel of this build the CPU can run, and
// the default, chosen by measurement (src/kernels/README.md).
#include <vector>

#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<QS8IgemmKernel> available_kernels() {
  std::vector<QS8IgemmKernel> out;
#define KILN_QS8_IGEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm-list.h"
#undef KILN_QS8_IGEMM
  return out;
}

}  // namespace

std::span<const QS8IgemmKernel> qs8_igemm_kernels() {
  static const std::vector<QS8IgemmKernel> kernels = available_kernels();
  return kernels;
}

const QS8IgemmKernel& qs8_igemm_default_kernel() {
  static const QS8IgemmKernel* chosen = pick_kernel<QS8IgemmKernel>(
      qs8_igemm_kernels(), {"qs8_qc8w_igemm_4x16c2_avx2", "qs8_qc8w_igemm_4x8c2_simd", "qs8_qc8w_igemm_4x8c2_vec"});
  return *chosen;
}

}  // namespace kiln
