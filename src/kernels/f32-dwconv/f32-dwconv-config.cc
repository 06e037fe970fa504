// The f32 depthwise config table: the microkernels of this build the CPU can run, and
// per tap count the one the ops use (channel tile by measurement, src/kernels/README.md).
#include <string>
#include <string_view>
#include <vector>

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<F32DwconvKernel> available_kernels() {
  std::vector<F32DwconvKernel> out;
#define KILN_F32_DWCONV(name, taps, ct, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, taps, ct, name});
#include "kernels/f32-dwconv/f32-dwconv-list.h"
#undef KILN_F32_DWCONV
  return out;
}

const F32DwconvKernel* pick(size_t taps) {
  const std::span<const F32DwconvKernel> ks = f32_dwconv_kernels();
  // Best measured first (src/kernels/README.md): natively the fixed-tap kernels with 16
  // channels; in WASM (V8) the generic 8-channel kernel for every tap count.
  const std::string t = taps ? std::to_string(taps) : std::string("any");
  for (const std::string& name : {"f32_dwconv_" + t + "p16c_avx2", std::string("f32_dwconv_anyp8c_simd"),
                                  "f32_dwconv_" + t + "p8c_vec"})
    for (const F32DwconvKernel& k : ks)
      if (name == k.name) return &k;
  return nullptr;
}

}  // namespace

std::span<const F32DwconvKernel> f32_dwconv_kernels() {
  static const std::vector<F32DwconvKernel> kernels = available_kernels();
  return kernels;
}

const F32DwconvKernel& f32_dwconv_default_kernel(size_t ks) {
  static const F32DwconvKernel* k9 = pick(9);
  static const F32DwconvKernel* k25 = pick(25);
  static const F32DwconvKernel* any = pick(0);
  if (ks == 9 && k9) return *k9;
  if (ks == 25 && k25) return *k25;
  return *any;
}

}  // namespace kiln
