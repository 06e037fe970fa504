// KILN_QS8_GAVGPOOL(name, channel_tile, arch); the SIMD128 c32 kernel is the one kiln.wasm links.
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QS8_GAVGPOOL(qs8_gavgpool_sums_c16_simd, 16, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_QS8_GAVGPOOL(qs8_gavgpool_sums_c32_simd, 32, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_GAVGPOOL(qs8_gavgpool_sums_c32_avx2, 32, avx2)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_QS8_GAVGPOOL(qs8_gavgpool_sums_c16_vec, 16, vec)
#endif
