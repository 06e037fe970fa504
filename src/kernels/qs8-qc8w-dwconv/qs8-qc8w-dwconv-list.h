// KILN_QS8_QC8W_DWCONV(name, taps (0: any), CT, arch). kiln.wasm links only the kernels
// the config picks (KILN_KERNEL_PICKED_ONLY): the 3x3 and the generic 16-channel ones.
#if KILN_F32_GEMM_SIMD
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p16c_simd, 9, 16, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_25p16c_simd, 25, 16, simd)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p8c_simd, 9, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp16c_simd, 0, 16, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p16c_avx2, 9, 16, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_25p16c_avx2, 25, 16, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp16c_avx2, 0, 16, avx2)
#endif
// The portable kernels are the native fallback (kiln.wasm always has SIMD128).
#if KILN_F32_GEMM_VEC && !(KILN_F32_GEMM_SIMD && KILN_KERNEL_PICKED_ONLY)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p8c_vec, 9, 8, vec)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp8c_vec, 0, 8, vec)
#endif
