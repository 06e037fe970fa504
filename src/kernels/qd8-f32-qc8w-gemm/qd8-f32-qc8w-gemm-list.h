// The qd8-f32-qc8w GEMM microkernels, one file each (qd8-f32-qc8w-gemm-<MR>x<NR>c2-<arch>.cc).
// KILN_QD8_GEMM(name, MR, NR, arch); the build macros come from kernels/f32-gemm/f32-gemm.h.
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_1x8c2_simd, 1, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_2x8c2_simd, 2, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_4x8c2_simd, 4, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_6x8c2_simd, 6, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_4x4c2_simd, 4, 4, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_3x16c2_simd, 3, 16, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_1x16c2_avx2, 1, 16, avx2)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_4x8c2_avx2, 4, 8, avx2)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_4x16c2_avx2, 4, 16, avx2)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_6x16c2_avx2, 6, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_QD8_GEMM(qd8_f32_qc8w_gemm_4x8c2_vec, 4, 8, vec)
#endif
