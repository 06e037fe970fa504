// Tiles a qs8-qc8w IGEMM problem (output pixels x output channels) over one microkernel,
// like the qd8 IGEMM driver: (pixel tiles x panels) is the re-entrant unit a thread pool
// can split; qs8_igemm blocks panels so the packed slice in use stays in cache.
#include <algorithm>

#include "kernels/qs8-qc8w-igemm/qs8-qc8w-igemm.h"

namespace kiln {

namespace {

// Both kernel kinds: the requantizing ones read args.params, the activation ones args.act_params.
const QS8RequantParams* params(const QS8IgemmKernel&, const QS8IgemmArgs& args) { return &args.params; }
const QS8ActParams* params(const QS8IgemmActKernel&, const QS8IgemmArgs& args) { return &args.act_params; }

template <class K>
void tiles(const K& kern, const QS8IgemmArgs& args, size_t tile_begin, size_t tile_end, size_t panel_begin,
           size_t panel_end) {
  if (panel_begin >= panel_end) return;
  const size_t col0 = panel_begin * kern.nr;
  const size_t nc = std::min(args.n, panel_end * kern.nr) - col0;
  const auto* w =
      static_cast<const int8_t*>(args.packed_w) + panel_begin * qs8_igemm_panel_bytes(kern.nr, args.kc, args.ks);
  for (size_t t = tile_begin; t < tile_end; ++t) {
    const size_t p0 = t * kern.mr;
    const size_t mr = std::min(kern.mr, args.m - p0);
    kern.fn(mr, nc, args.kc, args.ks, args.indirection + t * args.ks * kern.mr, w, args.c + p0 * args.c_stride + col0,
            args.c_stride, args.a_offset, args.zero, params(kern, args));
  }
}

template <class K>
void whole(const K& kern, const QS8IgemmArgs& args) {
  if (args.m == 0 || args.n == 0) return;
  const size_t n_tiles = qs8_igemm_pixel_tiles(kern, args.m), panels = qs8_igemm_col_panels(kern, args.n);
  // ~64 KiB of packed int8 panels per block, like the qd8 drivers.
  constexpr size_t kBlockBytes = 64 * 1024;
  const size_t block = std::max<size_t>(1, kBlockBytes / qs8_igemm_panel_bytes(kern.nr, args.kc, args.ks));
  for (size_t p = 0; p < panels; p += block) tiles(kern, args, 0, n_tiles, p, std::min(panels, p + block));
}

}  // namespace

void qs8_igemm_tiles(const QS8IgemmKernel& kern, const QS8IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end) {
  tiles(kern, args, tile_begin, tile_end, panel_begin, panel_end);
}
void qs8_igemm_tiles(const QS8IgemmActKernel& kern, const QS8IgemmArgs& args, size_t tile_begin, size_t tile_end,
                     size_t panel_begin, size_t panel_end) {
  tiles(kern, args, tile_begin, tile_end, panel_begin, panel_end);
}
void qs8_igemm(const QS8IgemmKernel& kern, const QS8IgemmArgs& args) { whole(kern, args); }
void qs8_igemm(const QS8IgemmActKernel& kern, const QS8IgemmArgs& args) { whole(kern, args); }

}  // namespace kiln
