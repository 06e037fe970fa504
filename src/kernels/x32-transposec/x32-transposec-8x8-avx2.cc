// x32 transposition, 8x8 tiles in AVX2 registers: unpcklps/unpckhps of row pairs, shufps
// of those pairs, then vperm2f128 to swap 128-bit halves. Only lane moves, so any 32-bit
// payload (NaN bits, integers) is copied unchanged.
#include "kernels/simd/f32-vec.h"
#include "kernels/x32-transposec/transposec-tile.h"
#include "kernels/x32-transposec/x32-transposec.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void x32_transposec_8x8_avx2(const void* input, void* output, size_t input_stride, size_t output_stride,
                             size_t block_width, size_t block_height) {
  transposec_tiles<4, 8>(input, output, input_stride, output_stride, block_width, block_height,
                         [](const uint8_t* in, uint8_t* out, size_t is, size_t os) {
    __m256 r[8];
#pragma GCC unroll 8
    for (size_t i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(reinterpret_cast<const float*>(in + i * is));
    __m256 t[8], u[8];
#pragma GCC unroll 4
    for (size_t i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 2
    for (size_t i = 0; i < 8; i += 4) {
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (size_t j = 0; j < 4; ++j) {
      _mm256_storeu_ps(reinterpret_cast<float*>(out + j * os), _mm256_permute2f128_ps(u[j], u[j + 4], 0x20));
      _mm256_storeu_ps(reinterpret_cast<float*>(out + (j + 4) * os), _mm256_permute2f128_ps(u[j], u[j + 4], 0x31));
    }
  });
}
#endif
}  // namespace kiln
