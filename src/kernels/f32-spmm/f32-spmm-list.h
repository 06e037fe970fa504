// The f32 SpMM microkernels: KILN_F32_SPMM(name, MR, arch), each instantiating
// f32-spmm-ukernel.h in its own file (f32-spmm-<MR>x1-<arch>.cc).
#if KILN_F32_GEMM_AVX2
KILN_F32_SPMM(f32_spmm_16x1_avx2, 16, avx2)
KILN_F32_SPMM(f32_spmm_32x1_avx2, 32, avx2)
KILN_F32_SPMM(f32_spmm_64x1_avx2, 64, avx2)
#endif
#if KILN_F32_GEMM_SIMD
KILN_F32_SPMM(f32_spmm_16x1_simd, 16, simd)
#endif
// kiln.wasm links only the tile the config picks (KILN_KERNEL_PICKED_ONLY, f32-gemm.h).
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_F32_SPMM(f32_spmm_32x1_simd, 32, simd)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_F32_SPMM(f32_spmm_16x1_vec, 16, vec)
#endif
