// Runs a depthwise problem over one microkernel in row blocks of output pixels.
#include <algorithm>

#include "kernels/f32-dwconv/f32-dwconv.h"

namespace kiln {

void f32_dwconv_pixels(const F32DwconvKernel& kern, const F32DwconvArgs& args, size_t begin, size_t end) {
  if (begin >= end || args.channels == 0) return;
  kern.fn(args.channels, end - begin, args.ks, args.indirection + begin * args.ks, args.packed_w,
          args.out + begin * args.out_stride, args.out_stride, args.a_offset, args.zero, &args.minmax);
}

void f32_dwconv(const F32DwconvKernel& kern, const F32DwconvArgs& args) {
  f32_dwconv_pixels(kern, args, 0, args.pixels);
}

}  // namespace kiln
