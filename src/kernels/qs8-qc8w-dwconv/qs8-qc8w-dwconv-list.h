// KILN_QS8_QC8W_DWCONV(name, taps (0: any), CT, KR (taps per packed row), arch). kiln.wasm
// links only what the config picks (KILN_KERNEL_PICKED_ONLY): the generic tap-pair kernel.
#if KILN_F32_GEMM_SIMD
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp16c_dot_simd, 0, 16, 2, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p16c_dot_simd, 9, 16, 2, simd)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p16c_simd, 9, 16, 1, simd)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_25p16c_simd, 25, 16, 1, simd)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p8c_simd, 9, 8, 1, simd)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp16c_simd, 0, 16, 1, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p16c_avx2, 9, 16, 1, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_25p16c_avx2, 25, 16, 1, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp16c_avx2, 0, 16, 1, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p16c_dot_avx2, 9, 16, 2, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_25p16c_dot_avx2, 25, 16, 2, avx2)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp16c_dot_avx2, 0, 16, 2, avx2)
#endif
// The portable kernels are the native fallback (kiln.wasm always has SIMD128).
#if KILN_F32_GEMM_VEC && !(KILN_F32_GEMM_SIMD && KILN_KERNEL_PICKED_ONLY)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_9p8c_vec, 9, 8, 1, vec)
KILN_QS8_QC8W_DWCONV(qs8_qc8w_dwconv_anyp8c_vec, 0, 8, 1, vec)
#endif
