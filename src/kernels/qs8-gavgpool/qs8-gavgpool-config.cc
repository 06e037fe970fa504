// The qs8-gavgpool config table (defaults by measurement, src/kernels/README.md).
#include <vector>

#include "kernels/qs8-gavgpool/qs8-gavgpool.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {

std::span<const QS8GavgpoolKernel> qs8_gavgpool_kernels() {
  static const std::vector<QS8GavgpoolKernel> kernels = [] {
    std::vector<QS8GavgpoolKernel> out;
#define KILN_QS8_GAVGPOOL(name, channel_tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, channel_tile, name});
#include "kernels/qs8-gavgpool/qs8-gavgpool-list.h"
#undef KILN_QS8_GAVGPOOL
    return out;
  }();
  return kernels;
}

const QS8GavgpoolKernel& qs8_gavgpool_default_kernel() {
  static const QS8GavgpoolKernel* k = pick_kernel<QS8GavgpoolKernel>(
      qs8_gavgpool_kernels(),
      {"qs8_gavgpool_sums_c32_avx2", "qs8_gavgpool_sums_c32_simd", "qs8_gavgpool_sums_c16_vec"});
  return *k;
}

}  // namespace kiln
