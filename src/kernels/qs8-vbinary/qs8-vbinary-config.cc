// The qs8-vbinary config table (defaults by measurement, src/kernels/README.md).
#include <vector>

#include "kernels/qs8-vbinary/qs8-vbinary.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {

std::span<const QS8VBinaryKernel> qs8_vbinary_kernels() {
  static const std::vector<QS8VBinaryKernel> kernels = [] {
    std::vector<QS8VBinaryKernel> out;
#define KILN_QS8_VBINARY(name, op, scalar_b, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, QS8VBinaryOp::op, scalar_b, tile, name});
#include "kernels/qs8-vbinary/qs8-vbinary-list.h"
#undef KILN_QS8_VBINARY
    return out;
  }();
  return kernels;
}

namespace {
const QS8VBinaryKernel* pick(std::initializer_list<std::string_view> names) {
  const QS8VBinaryKernel* k = pick_kernel<QS8VBinaryKernel>(qs8_vbinary_kernels(), names);
  return k;
}
}  // namespace

const QS8VBinaryKernel& qs8_vbinary_default_kernel(QS8VBinaryOp op, bool scalar_b) {
  static const QS8VBinaryKernel* k[4] = {
      pick({"qs8_vadd_x32_avx2", "qs8_vadd_x16_simd", "qs8_vadd_x16_vec"}),
      pick({"qs8_vaddc_x32_avx2", "qs8_vaddc_x16_simd", "qs8_vaddc_x16_vec"}),
      pick({"qs8_vmul_x32_avx2", "qs8_vmul_x16_simd", "qs8_vmul_x16_vec"}),
      pick({"qs8_vmulc_x32_avx2", "qs8_vmulc_x16_simd", "qs8_vmulc_x16_vec"}),
  };
  return *k[(op == QS8VBinaryOp::kMul ? 2 : 0) + (scalar_b ? 1 : 0)];
}

std::span<const QS8VMulRowKernel> qs8_vmulrow_kernels() {
  static const std::vector<QS8VMulRowKernel> kernels = [] {
    std::vector<QS8VMulRowKernel> out;
#define KILN_QS8_VMULROW(name, tile, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile, name});
#include "kernels/qs8-vbinary/qs8-vmulrow-list.h"
#undef KILN_QS8_VMULROW
    return out;
  }();
  return kernels;
}

const QS8VMulRowKernel& qs8_vmulrow_default_kernel() {
  static const QS8VMulRowKernel* k = pick_kernel<QS8VMulRowKernel>(
      qs8_vmulrow_kernels(), {"qs8_vmulrow_x32_avx2", "qs8_vmulrow_x16_simd", "qs8_vmulrow_x16_vec"});
  return *k;
}

}  // namespace kiln
