// Tiles an M x N qd8-f32-qb4w problem over one microkernel, like the qd8-f32-qc8w driver:
// (row tiles x column panels) is the unit of work, N blocked so the packed slice in use
// stays in cache while every row tile streams past it.
#include <algorithm>

#include "kernels/qd8-f32-qb4w-gemm/qd8-f32-qb4w-gemm.h"

namespace kiln {

void qb4w_gemm_tiles(const QB4WGemmKernel& kern, const QD8GemmArgs& args, size_t row_begin, size_t row_end,
                     size_t panel_begin, size_t panel_end) {
  if (panel_begin >= panel_end) return;
  const size_t col0 = panel_begin * kern.nr;
  const size_t nc = std::min(args.n, panel_end * kern.nr) - col0;
  const auto* w = static_cast<const uint8_t*>(args.packed_w) + panel_begin * qb4w_kernel_panel_bytes(kern, args.k);
  for (size_t t = row_begin; t < row_end; ++t) {
    const size_t row0 = t * kern.mr;
    const size_t mr = std::min(kern.mr, args.m - row0);
    kern.fn(mr, nc, args.k, args.qa + row0 * args.qa_stride, args.qa_stride, args.row_params + row0, w,
            args.c + row0 * args.c_stride + col0, args.c_stride, &args.minmax);
  }
}

void qb4w_gemm(const QB4WGemmKernel& kern, const QD8GemmArgs& args) {
  if (args.m == 0 || args.n == 0) return;
  const size_t rows = (args.m + kern.mr - 1) / kern.mr, panels = (args.n + kern.nr - 1) / kern.nr;
  // ~32 KiB of packed panels per block (int4: twice the columns of the int8 GEMM's 64 KiB).
  constexpr size_t kBlockBytes = 32 * 1024;
  const size_t block = std::max<size_t>(1, kBlockBytes / qb4w_kernel_panel_bytes(kern, args.k));
  for (size_t p = 0; p < panels; p += block) qb4w_gemm_tiles(kern, args, 0, rows, p, std::min(panels, p + block));
}

}  // namespace kiln
