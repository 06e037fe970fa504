// Runs an f32-qc8w depthwise problem over one microkernel, for a range of output pixels.
#include "kernels/f32-qc8w-dwconv/f32-qc8w-dwconv.h"

namespace kiln {

void f32_qc8w_dwconv_pixels(const F32QC8WDwconvKernel& kern, const F32QC8WDwconvArgs& args, size_t begin,
                            size_t end) {
  if (begin >= end || args.channels == 0) return;
  kern.fn(args.channels, end - begin, args.ks, args.indirection + begin * args.ks, args.packed_w,
          args.out + begin * args.out_stride, args.out_stride, args.a_offset, args.zero, &args.minmax);
}

void f32_qc8w_dwconv(const F32QC8WDwconvKernel& kern, const F32QC8WDwconvArgs& args) {
  f32_qc8w_dwconv_pixels(kern, args, 0, args.pixels);
}

}  // namespace kiln
