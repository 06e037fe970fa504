// The transposition microkernels of each build: KILN_TRANSPOSEC(name, element bytes, tile, arch).
// The scalar kernels are always built (references and the 1/2/8-byte paths).
KILN_TRANSPOSEC(x8_transposec_8x8_scalar, 1, 8, scalar)
KILN_TRANSPOSEC(x16_transposec_8x8_scalar, 2, 8, scalar)
KILN_TRANSPOSEC(x32_transposec_4x4_scalar, 4, 4, scalar)
KILN_TRANSPOSEC(x64_transposec_4x4_scalar, 8, 4, scalar)
#if KILN_F32_GEMM_SIMD
KILN_TRANSPOSEC(x32_transposec_4x4_simd, 4, 4, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_TRANSPOSEC(x32_transposec_8x8_avx2, 4, 8, avx2)
#endif
#if KILN_F32_GEMM_VEC && !defined(__EMSCRIPTEN__)
KILN_TRANSPOSEC(x32_transposec_4x4_vec, 4, 4, vec)
#endif
