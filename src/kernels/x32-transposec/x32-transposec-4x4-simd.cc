// x32 transposition, 4x4 tiles in SIMD128 registers: two rounds of i32x4.shuffle
// (interleave row pairs, then combine 64-bit halves).
#include "kernels/simd/f32-vec.h"
#include "kernels/x32-transposec/transposec-tile.h"
#include "kernels/x32-transposec/x32-transposec.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void x32_transposec_4x4_simd(const void* input, void* output, size_t input_stride, size_t output_stride,
                             size_t block_width, size_t block_height) {
  transposec_tiles<4, 4>(input, output, input_stride, output_stride, block_width, block_height,
                         [](const uint8_t* in, uint8_t* out, size_t is, size_t os) {
    const v128_t r0 = wasm_v128_load(in), r1 = wasm_v128_load(in + is);
    const v128_t r2 = wasm_v128_load(in + 2 * is), r3 = wasm_v128_load(in + 3 * is);
    const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
    const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
    wasm_v128_store(out, wasm_i64x2_shuffle(t0, t2, 0, 2));
    wasm_v128_store(out + os, wasm_i64x2_shuffle(t0, t2, 1, 3));
    wasm_v128_store(out + 2 * os, wasm_i64x2_shuffle(t1, t3, 0, 2));
    wasm_v128_store(out + 3 * os, wasm_i64x2_shuffle(t1, t3, 1, 3));
  });
}
#endif
}  // namespace kiln
