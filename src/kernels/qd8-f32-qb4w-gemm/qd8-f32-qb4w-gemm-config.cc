// The qd8-f32-qb4w config table: every microkernel of this build the CPU can run, and the
// default GEMM (M > 1) and GEMV (M = 1) tiles (the qd8-f32-qc8w defaults' shapes).
#include <string_view>
#include <vector>

#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"
#include "kernels/simd/cpu-arch.h"

namespace kiln {
namespace {

std::vector<QB4WGemmKernel> available_kernels() {
  std::vector<QB4WGemmKernel> out;
#define KILN_QB4W_GEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name});
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm-list.h"
#undef KILN_QB4W_GEMM
  return out;
}

std::vector<QB4WGemmKernel> available_min_kernels() {
  std::vector<QB4WGemmKernel> out;
#define KILN_QB4W_MIN_GEMM(name, tile_mr, tile_nr, arch) \
  if (kernel_arch_available(#arch)) out.push_back({#name, tile_mr, tile_nr, name, true});
#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-min-gemm-list.h"
#undef KILN_QB4W_MIN_GEMM
  return out;
}

}  // namespace

std::span<const QB4WGemmKernel> qb4w_gemm_kernels() {
  static const std::vector<QB4WGemmKernel> kernels = available_kernels();
  return kernels;
}

const QB4WGemmKernel& qb4w_gemm_default_kernel() {
  static const QB4WGemmKernel& k = *pick_kernel<QB4WGemmKernel>(
      qb4w_gemm_kernels(), {"qd8_f32_qb4w_gemm_4x16c2_avx2", "qd8_f32_qb4w_gemm_4x8c2_simd", "qd8_f32_qb4w_gemm_4x8c2_vec"});
  return k;
}

const QB4WGemmKernel& qb4w_gemv_default_kernel() {
  static const QB4WGemmKernel& k = *pick_kernel<QB4WGemmKernel>(
      qb4w_gemm_kernels(), {"qd8_f32_qb4w_gemm_1x16c2_avx2", "qd8_f32_qb4w_gemm_1x8c2_simd", "qd8_f32_qb4w_gemm_1x8c2_vec"});
  return k;
}

std::span<const QB4WGemmKernel> qb4w_min_gemm_kernels() {
  static const std::vector<QB4WGemmKernel> kernels = available_min_kernels();
  return kernels;
}

const QB4WGemmKernel& qb4w_min_gemm_default_kernel() {
  static const QB4WGemmKernel& k = *pick_kernel<QB4WGemmKernel>(
      qb4w_min_gemm_kernels(),
      {"qd8_f32_qb4w_min_gemm_4x16c2_avx2", "qd8_f32_qb4w_min_gemm_4x8c2_simd", "qd8_f32_qb4w_min_gemm_1x8c2_simd",
       "qd8_f32_qb4w_min_gemm_4x8c2_vec"});
  return k;
}

}  // namespace kiln
