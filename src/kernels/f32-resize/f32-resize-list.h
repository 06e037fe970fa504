// The resize microkernels of each build: KILN_F32_IBILINEAR / _CHW / KILN_X32_IGATHER(name,
// tile, arch). The scalar kernels are the references the testers compare against and are
// always built; kiln.wasm links only the SIMD kernels its config picks.
KILN_F32_IBILINEAR(f32_ibilinear_c1_scalar, 1, scalar)
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_F32_IBILINEAR(f32_ibilinear_c4_simd, 4, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_F32_IBILINEAR(f32_ibilinear_c8_simd, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_F32_IBILINEAR(f32_ibilinear_c8_avx2, 8, avx2)
KILN_F32_IBILINEAR(f32_ibilinear_c16_avx2, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC && !defined(__EMSCRIPTEN__)
KILN_F32_IBILINEAR(f32_ibilinear_c4_vec, 4, vec)
#endif

KILN_F32_IBILINEAR_CHW(f32_ibilinear_chw_p1_scalar, 1, scalar)
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_F32_IBILINEAR_CHW(f32_ibilinear_chw_p4_simd, 4, simd)
#endif
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_F32_IBILINEAR_CHW(f32_ibilinear_chw_p8_simd, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_F32_IBILINEAR_CHW(f32_ibilinear_chw_p8_avx2, 8, avx2)
#endif
#if KILN_F32_GEMM_VEC && !defined(__EMSCRIPTEN__)
KILN_F32_IBILINEAR_CHW(f32_ibilinear_chw_p4_vec, 4, vec)
#endif

KILN_X32_IGATHER(x32_igather_c1_scalar, 1, scalar)
#if KILN_F32_GEMM_SIMD && !KILN_KERNEL_PICKED_ONLY
KILN_X32_IGATHER(x32_igather_c4_simd, 4, simd)
#endif
#if KILN_F32_GEMM_SIMD
KILN_X32_IGATHER(x32_igather_c8_simd, 8, simd)
#endif
#if KILN_F32_GEMM_AVX2
KILN_X32_IGATHER(x32_igather_c8_avx2, 8, avx2)
KILN_X32_IGATHER(x32_igather_c16_avx2, 16, avx2)
#endif
#if KILN_F32_GEMM_VEC && !defined(__EMSCRIPTEN__)
KILN_X32_IGATHER(x32_igather_c4_vec, 4, vec)
#endif
