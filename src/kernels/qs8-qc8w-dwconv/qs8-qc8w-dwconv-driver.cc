// Runs a qs8-qc8w depthwise problem over one microkernel, for a range of output pixels.
#include "kernels/qs8-qc8w-dwconv/qs8-qc8w-dwconv.h"

namespace kiln {

void qs8_dwconv_pixels(const QS8DwconvKernel& kern, const QS8DwconvArgs& args, size_t begin, size_t end) {
  if (begin >= end || args.channels == 0) return;
  kern.fn(args.channels, end - begin, args.ks, args.indirection + begin * args.ks, args.packed_w,
          args.out + begin * args.out_stride, args.out_stride, args.a_offset, args.zero, &args.params);
}

}  // namespace kiln
