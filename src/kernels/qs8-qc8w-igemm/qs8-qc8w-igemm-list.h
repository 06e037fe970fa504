// The qs8-qc8w IGEMM microkernels, one file each (qs8-qc8w-igemm-<MR>x<NR>c2-<arch>.cc).
// KILN_QS8_IGEMM(name, MR, NR, arch); the build macros come from kernels/f32-gemm/f32-gemm.h.
// kiln.wasm links only the default SIMD tile (KILN_KERNEL_PICKED_ONLY, f32-gemm.h).
#if KILN_F32_GEMM_SIMD
KILN_QS8_IGEMM(qs8_qc8w_igemm_4x8c2_simd, 4, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QS8_IGEMM(qs8_qc8w_igemm_2x8c2_simd, 2, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_IGEMM(qs8_qc8w_igemm_4x16c2_avx2, 4, 16, avx2)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_IGEMM(qs8_qc8w_igemm_6x16c2_avx2, 6, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC
KILN_QS8_IGEMM(qs8_qc8w_igemm_4x8c2_vec, 4, 8, vec)
#endif
