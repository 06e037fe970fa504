// The qs8-qc8w IGEMM config table: every microkernel of this build the CPU can run, and
// the default (measured in src/kernels/README.md): natively the qs8 GEMM's 4x16c2 tile
// (6x16c2 was within the noise), in WASM 4x8c2 (2x8c2 was 10-30% slower; 4x16 spills).
#include <string_view>
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

std::vector<QS8IgemmActKernel> available_act_kernels() {
  std::vector<QS8IgemmActKernel> out;
#define KILN_QS8_IGEMM_ACT(name, tile_mr, tile_nr, arch, act) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, QS8Act::act, name});
#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm-act-list.h"
#undef KILN_QS8_IGEMM_ACT
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

namespace kiln {

std::span<const QS8IgemmActKernel> qs8_igemm_act_kernels() {
  static const std::vector<QS8IgemmActKernel> kernels = available_act_kernels();
  return kernels;
}

const QS8IgemmActKernel* qs8_igemm_default_act_kernel(QS8Act act) {
  // The tiles of qs8_igemm_default_kernel, in the same order.
  for (const char* name : {"qs8_qc8w_igemm_4x16c2_hswish_avx2", "qs8_qc8w_igemm_4x8c2_hswish_simd",
                           "qs8_qc8w_igemm_4x8c2_hswish_vec"})
    for (const QS8IgemmActKernel& k : qs8_igemm_act_kernels())
      if (k.act == act && std::string_view(k.name) == name) return &k;
  return nullptr;
}

}  // namespace kiln
