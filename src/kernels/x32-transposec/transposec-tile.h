// The tile walk shared by the transposition microkernels: full TILE x TILE tiles go to
// `full(in, out, input_stride, output_stride)`, the right and bottom edges are copied
// element by element. Rows of input tiles are read in order; each tile writes TILE short
// runs into TILE output rows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kiln {
namespace {

template <size_t ES>
inline __attribute__((always_inline)) void transposec_edge(const uint8_t* in, uint8_t* out, size_t is, size_t os,
                                                           size_t cols, size_t rows) {
  for (size_t j = 0; j < cols; ++j)
    for (size_t i = 0; i < rows; ++i) std::memcpy(out + j * os + i * ES, in + i * is + j * ES, ES);
}

template <size_t ES, size_t TILE, class Full>
inline __attribute__((always_inline)) void transposec_tiles(const void* input, void* output, size_t is, size_t os,
                                                            size_t bw, size_t bh, Full full) {
  const uint8_t* in = static_cast<const uint8_t*>(input);
  uint8_t* out = static_cast<uint8_t*>(output);
  size_t i0 = 0;
  for (; i0 + TILE <= bh; i0 += TILE) {
    const uint8_t* row = in + i0 * is;
    size_t j0 = 0;
    for (; j0 + TILE <= bw; j0 += TILE) full(row + j0 * ES, out + j0 * os + i0 * ES, is, os);
    if (j0 < bw) transposec_edge<ES>(row + j0 * ES, out + j0 * os + i0 * ES, is, os, bw - j0, TILE);
  }
  if (i0 < bh) transposec_edge<ES>(in + i0 * is, out + i0 * ES, is, os, bw, bh - i0);
}

// The plain tile: element copies in tile order (the scalar kernels and the oracle's order).
template <size_t ES, size_t TILE>
inline __attribute__((always_inline)) void transposec_scalar(const void* input, void* output, size_t is, size_t os,
                                                             size_t bw, size_t bh) {
  transposec_tiles<ES, TILE>(input, output, is, os, bw, bh, [](const uint8_t* in, uint8_t* out, size_t is, size_t os) {
#pragma GCC unroll 8
    for (size_t j = 0; j < TILE; ++j)
#pragma GCC unroll 8
      for (size_t i = 0; i < TILE; ++i) std::memcpy(out + j * os + i * ES, in + i * is + j * ES, ES);
  });
}

}  // namespace
}  // namespace kiln
