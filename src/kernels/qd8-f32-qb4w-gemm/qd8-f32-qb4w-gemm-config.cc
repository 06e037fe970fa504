// The qd8-f32-qb4w config table: every microkernel of this build the CPU can run, and the
// default GEMM (M > 1) and GEMV (M = 1) tiles (the qd8-f32-qc8w defaults' shapes).
#include <string_view>
#include <vector>

#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {
namespace {

bool arch_available(std::string_view arch) {
#if KILN_F32_GEMM_AVX2
  if (arch == "avx2") {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
  }
#endif
  return arch == "simd" || arch == "vec";
}

std::vector<QB4WGemmKernel> available_kernels() {
  std::vector<QB4WGemmKernel> out;
#define KILN_QB4W_GEMM(name, tile_mr, tile_nr, arch) \
  if (arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm-list.h"
#undef KILN_QB4W_GEMM
  return out;
}

const QB4WGemmKernel& first_of(std::initializer_list<const char*> names) {
  const std::span<const QB4WGemmKernel> ks = qb4w_gemm_kernels();
  for (const char* name : names)
    for (const QB4WGemmKernel& k : ks)
      if (std::string_view(name) == k.name) return k;
  return ks.front();  // unreachable: the vec kernels exist everywhere
}

}  // namespace

std::span<const QB4WGemmKernel> qb4w_gemm_kernels() {
  static const std::vector<QB4WGemmKernel> kernels = available_kernels();
  return kernels;
}

const QB4WGemmKernel& qb4w_gemm_default_kernel() {
  static const QB4WGemmKernel& k =
      first_of({"qd8_f32_qb4w_gemm_4x16c2_avx2", "qd8_f32_qb4w_gemm_4x8c2_simd", "qd8_f32_qb4w_gemm_4x8c2_vec"});
  return k;
}

const QB4WGemmKernel& qb4w_gemv_default_kernel() {
  static const QB4WGemmKernel& k =
      first_of({"qd8_f32_qb4w_gemm_1x16c2_avx2", "qd8_f32_qb4w_gemm_1x8c2_simd", "qd8_f32_qb4w_gemm_1x8c2_vec"});
  return k;
}

}  // namespace kiln
