// Tiles an M x N problem over one microkernel. The unit of work is (row tiles x column
// panels); f32_gemm_blocked blocks N so the packed slice in use stays in L2 while every
// row tile streams past it. The ops split the same ranges over a thread pool.
#include <algorithm>

#include "kernels/f32-gemm/f32-gemm.h"

namespace kiln {

void f32_gemm_tiles(const F32GemmKernel& kern, const F32GemmArgs& args, size_t row_begin, size_t row_end,
                    size_t panel_begin, size_t panel_end) {
  if (panel_begin >= panel_end) return;
  const size_t col0 = panel_begin * kern.nr;
  const size_t nc = std::min(args.n, panel_end * kern.nr) - col0;
  const float* w = args.packed_w + panel_begin * kern.nr * (args.k + 1);
  for (size_t t = row_begin; t < row_end; ++t) {
    const size_t row0 = t * kern.mr;
    const size_t mr = std::min(kern.mr, args.m - row0);
    kern.fn(mr, nc, args.k, args.a + row0 * args.a_stride, args.a_stride, w, args.c + row0 * args.c_stride + col0,
            args.c_stride, &args.minmax);
  }
}

void f32_gemm_blocked(const F32GemmKernel& kern, const F32GemmArgs& args, size_t row_begin, size_t row_end,
                      size_t panel_begin, size_t panel_end) {
  if (args.m == 0 || args.n == 0 || row_begin >= row_end) return;
  // ~128 KiB of packed weights per block: fits L2 beside the A rows and C tiles.
  constexpr size_t kBlockBytes = 128 * 1024;
  const size_t panel_bytes = kern.nr * (args.k + 1) * sizeof(float);
  const size_t block = std::max<size_t>(1, kBlockBytes / panel_bytes);
  for (size_t p = panel_begin; p < panel_end; p += block)
    f32_gemm_tiles(kern, args, row_begin, row_end, p, std::min(panel_end, p + block));
}

void f32_gemm(const F32GemmKernel& kern, const F32GemmArgs& args) {
  f32_gemm_blocked(kern, args, 0, f32_gemm_row_tiles(kern, args.m), 0, f32_gemm_col_panels(kern, args.n));
}

}  // namespace kiln
