// KILN_F32_QS8_VCVT(name, tile, arch); the SIMD128 x16 kernel is the one kiln.wasm links.
#if KILN_F32_GEMM_SIMD
KILN_F32_QS8_VCVT(f32_qs8_vcvt_x16_simd, 16, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_F32_QS8_VCVT(f32_qs8_vcvt_x32_avx2, 32, avx2)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_F32_QS8_VCVT(f32_qs8_vcvt_x16_vec, 16, vec)
#endif
