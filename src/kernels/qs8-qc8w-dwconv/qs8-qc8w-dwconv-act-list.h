// KILN_QS8_QC8W_DWCONV_ACT(name, taps (0: any), CT, KR, arch, act): the kernels with an
// activation epilogue (qs8-act-epilogue.h), the tiles qs8_dwconv_default_kernel picks.
// kiln.wasm links only the generic tap-pair kernel with HardSwish.
#if KILN_F32_GEMM_SIMD
KILN_QS8_QC8W_DWCONV_ACT(qs8_qc8w_dwconv_hswish_anyp16c_dot_simd, 0, 16, 2, simd, kHardSwish)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_QC8W_DWCONV_ACT(qs8_qc8w_dwconv_hswish_9p16c_dot_avx2, 9, 16, 2, avx2, kHardSwish)
KILN_QS8_QC8W_DWCONV_ACT(qs8_qc8w_dwconv_hswish_anyp16c_dot_avx2, 0, 16, 2, avx2, kHardSwish)
#endif
#if KILN_F32_GEMM_VEC && !(KILN_F32_GEMM_SIMD && KILN_KERNEL_PICKED_ONLY)
KILN_QS8_QC8W_DWCONV_ACT(qs8_qc8w_dwconv_hswish_anyp8c_vec, 0, 8, 1, vec, kHardSwish)
#endif
