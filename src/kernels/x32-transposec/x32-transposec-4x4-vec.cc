// x32 transposition, 4x4 tiles with portable vector shuffles (__builtin_shufflevector
// lowers to SSE unpck/shufps on x86-64, NEON zip on ARM): the native fallback.
#include "kernels/x32-transposec/transposec-tile.h"
#include "kernels/x32-transposec/x32-transposec.h"

namespace kiln {
#if !defined(__EMSCRIPTEN__)
void x32_transposec_4x4_vec(const void* input, void* output, size_t input_stride, size_t output_stride,
                            size_t block_width, size_t block_height) {
  typedef uint32_t U __attribute__((vector_size(16)));
  transposec_tiles<4, 4>(input, output, input_stride, output_stride, block_width, block_height,
                         [](const uint8_t* in, uint8_t* out, size_t is, size_t os) {
    U r0, r1, r2, r3;
    std::memcpy(&r0, in, 16), std::memcpy(&r1, in + is, 16);
    std::memcpy(&r2, in + 2 * is, 16), std::memcpy(&r3, in + 3 * is, 16);
    const U t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    const U t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    const U o0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5), o1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    const U o2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5), o3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    std::memcpy(out, &o0, 16), std::memcpy(out + os, &o1, 16);
    std::memcpy(out + 2 * os, &o2, 16), std::memcpy(out + 3 * os, &o3, 16);
  });
}
#endif
}  // namespace kiln
