// The f32-qc8w depthwise config table: the microkernels of this build the CPU can run
// (then the reference), and per tap count the one the ops use.
#include <string>
#include <string_view>
#include <vector>

#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<F32QC8WDwconvKernel> available_kernels() {
  std::vector<F32QC8WDwconvKernel> out;
#define KILN_F32_QC8W_DWCONV(name, taps, ct, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, taps, ct, name});
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv-list.h"
#undef KILN_F32_QC8W_DWCONV
  out.push_back({"f32_qc8w_dwconv_reference", 0, kF32QC8WDwconvReferenceCt, f32_qc8w_dwconv_reference});
  return out;
}

const F32QC8WDwconvKernel* pick(size_t taps) {
  const std::span<const F32QC8WDwconvKernel> ks = f32_qc8w_dwconv_kernels();
  // Natively the 16-channel AVX2 kernels (fixed 3x3 when it fits); in WASM the generic
  // 8-channel kernel for every tap count, as for f32-dwconv (src/kernels/README.md).
  const std::string t = taps == 9 ? "9" : "any";
  for (const std::string& name : {"f32_qc8w_dwconv_" + t + "p16c_avx2", std::string("f32_qc8w_dwconv_anyp8c_simd"),
                                  std::string("f32_qc8w_dwconv_anyp8c_vec")})
    for (const F32QC8WDwconvKernel& k : ks)
      if (name == k.name) return &k;
  return &ks.back();  // the reference (never reached: the portable kernel is always built)
}

}  // namespace

std::span<const F32QC8WDwconvKernel> f32_qc8w_dwconv_kernels() {
  static const std::vector<F32QC8WDwconvKernel> kernels = available_kernels();
  return kernels;
}

const F32QC8WDwconvKernel& f32_qc8w_dwconv_default_kernel(size_t ks) {
  static const F32QC8WDwconvKernel* k9 = pick(9);
  static const F32QC8WDwconvKernel* any = pick(0);
  return ks == 9 ? *k9 : *any;
}

}  // namespace kiln
