// The qd8-f32-qb4w GEMM/GEMV microkernels, one file each (qd8-f32-qb4w-gemm-<MR>x<NR>c2-<arch>.cc).
// KILN_QB4W_GEMM(name, MR, NR, arch); the build macros come from kernels/f32-gemm/f32-gemm.h.
#if KILN_F32_GEMM_SIMD
KILN_QB4W_GEMM(qd8_f32_qb4w_gemm_1x8c2_simd, 1, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_QB4W_GEMM(qd8_f32_qb4w_gemm_4x8c2_simd, 4, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QB4W_GEMM(qd8_f32_qb4w_gemm_1x16c2_avx2, 1, 16, avx2)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QB4W_GEMM(qd8_f32_qb4w_gemm_4x16c2_avx2, 4, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_QB4W_GEMM(qd8_f32_qb4w_gemm_1x8c2_vec, 1, 8, vec)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_QB4W_GEMM(qd8_f32_qb4w_gemm_4x8c2_vec, 4, 8, vec)
#endif
