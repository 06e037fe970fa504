// The transposition config table: the kernels of this build the CPU can run and, per
// element size, the one transpose_nd uses (src/kernels/README.md has the measurements).
#include <string_view>
#include <vector>

#include "kernels/x32-transposec/x32-transposec.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

const TransposecKernel* pick(size_t element_size) {
  for (std::string_view name : {"x32_transposec_8x8_avx2", "x32_transposec_4x4_simd", "x32_transposec_4x4_vec"})
    for (const TransposecKernel& k : transposec_kernels())
      if (name == k.name && k.element_size == element_size) return &k;
  for (const TransposecKernel& k : transposec_kernels())
    if (k.element_size == element_size) return &k;  // the scalar kernel of that size
  return nullptr;
}

}  // namespace

std::span<const TransposecKernel> transposec_kernels() {
  static const std::vector<TransposecKernel> kernels = [] {
    std::vector<TransposecKernel> out;
#define KILN_TRANSPOSEC(name, element_size, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, element_size, tile, name});
#include "kernels/x32-transposec/x32-transposec-list.h"
#undef KILN_TRANSPOSEC
    return out;
  }();
  return kernels;
}

const TransposecKernel& transposec_default_kernel(size_t element_size) {
  static const TransposecKernel* k[4] = {pick(1), pick(2), pick(4), pick(8)};
  return *k[element_size == 1 ? 0 : element_size == 2 ? 1 : element_size == 4 ? 2 : 3];
}

}  // namespace kiln
