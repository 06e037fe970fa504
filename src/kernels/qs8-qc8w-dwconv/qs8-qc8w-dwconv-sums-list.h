// KILN_QS8_QC8W_DWCONV_SUMS(name, CT, KR, arch): the int32-sums variants of the generic
// kernels the config picks (qs8-qc8w-dwconv.h), one per ISA.
#if KILN_F32_GEMM_SIMD
KILN_QS8_QC8W_DWCONV_SUMS(qs8_qc8w_dwconv_sums_anyp16c_dot_simd, 16, 2, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_QC8W_DWCONV_SUMS(qs8_qc8w_dwconv_sums_anyp16c_dot_avx2, 16, 2, avx2)
#endif
#if KILN_F32_GEMM_VEC && !(KILN_F32_GEMM_SIMD && KILN_KERNEL_PICKED_ONLY)
KILN_QS8_QC8W_DWCONV_SUMS(qs8_qc8w_dwconv_sums_anyp8c_vec, 8, 1, vec)
#endif
