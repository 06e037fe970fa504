// The qs8-qc8w IGEMM microkernels with an activation epilogue (qs8-act-epilogue.h), one
// file each (qs8-qc8w-igemm-<MR>x<NR>c2-<act>-<arch>.cc): the default tile of each ISA
// only, so kiln.wasm links one (HardSwish, the activation of the PP-OCR and MobileNetV3
// convolutions). KILN_QS8_IGEMM_ACT(name, MR, NR, arch, act).
#if KILN_F32_GEMM_SIMD
KILN_QS8_IGEMM_ACT(qs8_qc8w_igemm_4x8c2_hswish_simd, 4, 8, simd, kHardSwish)
#endif
#if KILN_F32_GEMM_AVX2
KILN_QS8_IGEMM_ACT(qs8_qc8w_igemm_4x16c2_hswish_avx2, 4, 16, avx2, kHardSwish)
#endif
#if KILN_F32_GEMM_VEC && !KILN_KERNEL_PICKED_ONLY
KILN_QS8_IGEMM_ACT(qs8_qc8w_igemm_4x8c2_hswish_vec, 4, 8, vec, kHardSwish)
#endif
