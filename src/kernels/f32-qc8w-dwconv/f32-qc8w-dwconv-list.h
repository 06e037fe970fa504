// KILN_F32_QC8W_DWCONV(name, taps (0: any), CT, arch). WASM picks the generic 8-channel
// kernel (as f32-dwconv does), so kiln.wasm links only that one.
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_F32_QC8W_DWCONV(f32_qc8w_dwconv_9p8c_simd, 9, 8, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_F32_QC8W_DWCONV(f32_qc8w_dwconv_anyp8c_simd, 0, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_F32_QC8W_DWCONV(f32_qc8w_dwconv_9p16c_avx2, 9, 16, avx2)
KILN_F32_QC8W_DWCONV(f32_qc8w_dwconv_anyp16c_avx2, 0, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_F32_QC8W_DWCONV(f32_qc8w_dwconv_9p8c_vec, 9, 8, vec)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_F32_QC8W_DWCONV(f32_qc8w_dwconv_anyp8c_vec, 0, 8, vec)
#endif
