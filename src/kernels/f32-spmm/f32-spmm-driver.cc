// The f32 SpMM driver: per tile of MR rows, A is transposed into a_t[k][MR], the
// microkernel runs one block of columns at a time into c_t[cols][MR], and c_t is
// transposed back into C's rows.
#include <algorithm>

#include "kernels/f32-spmm/f32-spmm.h"

namespace kiln {

size_t f32_spmm_workspace_size(const F32SpmmKernel& kern, const F32SpmmPacked& w) {
  return kern.mr * std::max<size_t>(w.k, 1) + kern.mr * kF32SpmmBlockCols;
}

void f32_spmm_tiles(const F32SpmmKernel& kern, const F32SpmmArgs& args, size_t tile_begin, size_t tile_end,
                    float* workspace) {
  const F32SpmmPacked& w = *args.w;
  const size_t mr = kern.mr, k = w.k, n = w.n;
  float* a_t = workspace;
  float* c_t = workspace + mr * std::max<size_t>(k, 1);
  for (size_t t = tile_begin; t < tile_end; ++t) {
    const size_t m0 = t * mr, mc = std::min(mr, args.m - m0);
    // Rows past mc are left as they are: only a full tile's pass reads all MR rows.
    for (size_t i = 0; i < mc; ++i) {
      const float* row = args.a + (m0 + i) * args.a_stride;
      for (size_t p = 0; p < k; ++p) a_t[p * mr + i] = row[p];
    }
    for (size_t b = 0; b < w.blocks.size(); ++b) {
      const F32SpmmBlock& blk = w.blocks[b];
      const size_t j0 = b * kF32SpmmBlockCols, nc = std::min(kF32SpmmBlockCols, n - j0);
      kern.fn(mc, nc, a_t + blk.first_k * mr, w.values.data() + blk.w_offset, w.dmap.data() + blk.dmap_offset,
              w.nnzmap.data() + j0, c_t, &args.minmax);
      for (size_t i = 0; i < mc; ++i) {
        float* out = args.c + (m0 + i) * args.c_stride + j0;
        for (size_t j = 0; j < nc; ++j) out[j] = c_t[j * mr + i];
      }
    }
  }
}

}  // namespace kiln
