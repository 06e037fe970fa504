// The qs8-qc8w depthwise config table: the microkernels of this build the CPU can run, and
// per tap count the one the ops use.
#include <string_view>
#include <vector>

#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<QS8DwconvKernel> available_kernels() {
  std::vector<QS8DwconvKernel> out;
#define KILN_QS8_QC8W_DWCONV(name, taps, ct, kr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, taps, ct, name, kr});
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-list.h"
#undef KILN_QS8_QC8W_DWCONV
  return out;
}

std::vector<QS8DwconvSumsKernel> available_sums_kernels() {
  std::vector<QS8DwconvSumsKernel> out;
#define KILN_QS8_QC8W_DWCONV_SUMS(name, ct, kr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, ct, name, kr});
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-sums-list.h"
#undef KILN_QS8_QC8W_DWCONV_SUMS
  return out;
}

std::vector<QS8DwconvActKernel> available_act_kernels() {
  std::vector<QS8DwconvActKernel> out;
#define KILN_QS8_QC8W_DWCONV_ACT(name, taps, ct, kr, arch, act) \
  if (kernel_arch_available(#arch)) out.push_back({#name, taps, ct, name, kr, QS8Act::act});
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv-act-list.h"
#undef KILN_QS8_QC8W_DWCONV_ACT
  return out;
}

}  // namespace

std::span<const QS8DwconvKernel> qs8_dwconv_kernels() {
  static const std::vector<QS8DwconvKernel> kernels = available_kernels();
  return kernels;
}

const QS8DwconvKernel& qs8_dwconv_default_kernel(size_t ks) {
  // Best measured first (src/kernels/README.md): the AVX2 tap-pair kernels natively (fixed
  // 3x3 and 5x5), in WASM the generic tap-pair kernel for every tap count (faster than the
  // fixed-tap ones in the measurements), the portable kernels as the fallback.
  static const QS8DwconvKernel* k9 = pick_kernel<QS8DwconvKernel>(
      qs8_dwconv_kernels(),
      {"qs8_qc8w_dwconv_9p16c_dot_avx2", "qs8_qc8w_dwconv_anyp16c_dot_simd", "qs8_qc8w_dwconv_9p8c_vec"});
  static const QS8DwconvKernel* k25 = pick_kernel<QS8DwconvKernel>(
      qs8_dwconv_kernels(),
      {"qs8_qc8w_dwconv_25p16c_dot_avx2", "qs8_qc8w_dwconv_anyp16c_dot_simd", "qs8_qc8w_dwconv_anyp8c_vec"});
  static const QS8DwconvKernel* any = pick_kernel<QS8DwconvKernel>(
      qs8_dwconv_kernels(),
      {"qs8_qc8w_dwconv_anyp16c_dot_avx2", "qs8_qc8w_dwconv_anyp16c_dot_simd", "qs8_qc8w_dwconv_anyp8c_vec"});
  return ks == 9 ? *k9 : ks == 25 ? *k25 : *any;
}

std::span<const QS8DwconvSumsKernel> qs8_dwconv_sums_kernels() {
  static const std::vector<QS8DwconvSumsKernel> kernels = available_sums_kernels();
  return kernels;
}

const QS8DwconvSumsKernel& qs8_dwconv_default_sums_kernel() {
  // The same order as the generic requantizing kernels above.
  static const QS8DwconvSumsKernel* k = pick_kernel<QS8DwconvSumsKernel>(
      qs8_dwconv_sums_kernels(), {"qs8_qc8w_dwconv_sums_anyp16c_dot_avx2", "qs8_qc8w_dwconv_sums_anyp16c_dot_simd",
                                  "qs8_qc8w_dwconv_sums_anyp8c_vec"});
  return *k;
}

std::span<const QS8DwconvActKernel> qs8_dwconv_act_kernels() {
  static const std::vector<QS8DwconvActKernel> kernels = available_act_kernels();
  return kernels;
}

const QS8DwconvActKernel* qs8_dwconv_default_act_kernel(QS8Act act, size_t ks) {
  // The order of the requantizing kernels: AVX2 3x3, then the generic tap-pair kernels.
  for (const char* name : {"qs8_qc8w_dwconv_hswish_9p16c_dot_avx2", "qs8_qc8w_dwconv_hswish_anyp16c_dot_avx2",
                           "qs8_qc8w_dwconv_hswish_anyp16c_dot_simd", "qs8_qc8w_dwconv_hswish_anyp8c_vec"})
    for (const QS8DwconvActKernel& k : qs8_dwconv_act_kernels())
      if (k.act == act && (k.taps == 0 || k.taps == ks) && std::string_view(k.name) == name) return &k;
  return nullptr;
}

}  // namespace kiln
