// The resize config table: the microkernels of this build the CPU can run, and the ones
// the ops use (chosen by measurement, src/kernels/README.md).
#include <string_view>
#include <vector>

#include "kernels/f32-resize/f32-resize.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

template <class K>
const K& pick(std::span<const K> ks, std::initializer_list<std::string_view> best_first) {
  for (std::string_view name : best_first)
    for (const K& k : ks)
      if (name == k.name) return k;
  return ks.front();  // the scalar kernel, always built
}

}  // namespace

std::span<const F32IbilinearKernel> f32_ibilinear_kernels() {
  static const std::vector<F32IbilinearKernel> kernels = [] {
    std::vector<F32IbilinearKernel> out;
#define KILN_F32_IBILINEAR(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#define KILN_F32_IBILINEAR_CHW(name, tile, arch)
#define KILN_X32_IGATHER(name, tile, arch)
#include "kernels/f32-resize/f32-resize-list.h"
#undef KILN_F32_IBILINEAR
#undef KILN_F32_IBILINEAR_CHW
#undef KILN_X32_IGATHER
    return out;
  }();
  return kernels;
}

std::span<const F32IbilinearChwKernel> f32_ibilinear_chw_kernels() {
  static const std::vector<F32IbilinearChwKernel> kernels = [] {
    std::vector<F32IbilinearChwKernel> out;
#define KILN_F32_IBILINEAR(name, tile, arch)
#define KILN_F32_IBILINEAR_CHW(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#define KILN_X32_IGATHER(name, tile, arch)
#include "kernels/f32-resize/f32-resize-list.h"
#undef KILN_F32_IBILINEAR
#undef KILN_F32_IBILINEAR_CHW
#undef KILN_X32_IGATHER
    return out;
  }();
  return kernels;
}

std::span<const X32IgatherKernel> x32_igather_kernels() {
  static const std::vector<X32IgatherKernel> kernels = [] {
    std::vector<X32IgatherKernel> out;
#define KILN_F32_IBILINEAR(name, tile, arch)
#define KILN_F32_IBILINEAR_CHW(name, tile, arch)
#define KILN_X32_IGATHER(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#include "kernels/f32-resize/f32-resize-list.h"
#undef KILN_F32_IBILINEAR
#undef KILN_F32_IBILINEAR_CHW
#undef KILN_X32_IGATHER
    return out;
  }();
  return kernels;
}

const F32IbilinearKernel& f32_ibilinear_default_kernel() {
  static const F32IbilinearKernel& k =
      pick(f32_ibilinear_kernels(), {"f32_ibilinear_c8_avx2", "f32_ibilinear_c8_simd", "f32_ibilinear_c4_vec"});
  return k;
}

const F32IbilinearChwKernel& f32_ibilinear_chw_default_kernel() {
  // In V8 the SIMD128 kernels' stack-array gather is slower than the scalar loop (README).
  static const F32IbilinearChwKernel& k =
      pick(f32_ibilinear_chw_kernels(), {"f32_ibilinear_chw_p8_avx2", "f32_ibilinear_chw_p4_vec", "f32_ibilinear_chw_p1_scalar"});
  return k;
}

const X32IgatherKernel& x32_igather_default_kernel() {
  static const X32IgatherKernel& k =
      pick(x32_igather_kernels(), {"x32_igather_c8_avx2", "x32_igather_c8_simd", "x32_igather_c4_vec"});
  return k;
}

}  // namespace kiln
