// The asymmetric (qb4w-min) GEMM microkernels, one file each
// (qd8-f32-qb4w-min-gemm-<MR>x<NR>c2-<arch>.cc); one tile per build serves GEMM and GEMV (a
// 4-row tile runs one row with the others aliased). kiln.wasm (KILN_KERNEL_PICKED_ONLY)
// links only the 1x8 SIMD tile: the 4x8 one does not fit its 1.5 MB budget.
// KILN_QB4W_MIN_GEMM(name, MR, NR, arch); the build macros come from kernels/f32-gemm/f32-gemm.h.
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QB4W_MIN_GEMM(qd8_f32_qb4w_min_gemm_4x8c2_simd, 4, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_QB4W_MIN_GEMM(qd8_f32_qb4w_min_gemm_1x8c2_simd, 1, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QB4W_MIN_GEMM(qd8_f32_qb4w_min_gemm_4x16c2_avx2, 4, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_QB4W_MIN_GEMM(qd8_f32_qb4w_min_gemm_4x8c2_vec, 4, 8, vec)
#endif
