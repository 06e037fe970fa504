// Tiles an IGEMM problem (output pixels x output channels) over one microkernel, like
// f32-gemm-driver.cc: the unit is (pixel tiles x panels), re-entrant, so a thread pool
// can split it; f32_igemm blocks panels so ~128 KiB of packed weights stay in cache.
#include <algorithm>

#include "kernels/f32-igemm/f32-igemm.h"

namespace kiln {

void f32_igemm_tiles(const F32IgemmKernel& kern, const F32IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end) {
  if (panel_begin >= panel_end) return;
  const size_t col0 = panel_begin * kern.nr;
  const size_t nc = std::min(args.n, panel_end * kern.nr) - col0;
  const float* w = args.packed_w + panel_begin * kern.nr * (1 + args.ks * args.kc);
  for (size_t t = tile_begin; t < tile_end; ++t) {
    const size_t p0 = t * kern.mr;
    const size_t mr = std::min(kern.mr, args.m - p0);
    kern.fn(mr, nc, args.kc, args.ks, args.indirection + t * args.ks * kern.mr, w, args.c + p0 * args.c_stride + col0,
            args.c_stride, args.a_offset, args.zero, &args.minmax);
  }
}

void f32_igemm(const F32IgemmKernel& kern, const F32IgemmArgs& args) {
  if (args.m == 0 || args.n == 0) return;
  const size_t tiles = f32_igemm_pixel_tiles(kern, args.m), panels = f32_igemm_col_panels(kern, args.n);
  constexpr size_t kBlockBytes = 128 * 1024;
  const size_t panel_bytes = kern.nr * (1 + args.ks * args.kc) * sizeof(float);
  const size_t block = std::max<size_t>(1, kBlockBytes / panel_bytes);
  for (size_t p = 0; p < panels; p += block)
    f32_igemm_tiles(kern, args, 0, tiles, p, std::min(panels, p + block));
}

}  // namespace kiln
