// Pooling drivers: a range of output pixels through one microkernel (the unit a thread
// pool splits; every pixel writes only its own outputs).
#include "kernels/f32-pool/f32-pool.h"

namespace kiln {

void f32_maxpool_pixels(const F32MaxPoolKernel& kern, const F32PoolArgs& a, size_t begin, size_t end) {
  if (begin >= end || a.ks == 0) return;
  kern.fn(end - begin, a.ks, a.channels, a.indirection + begin * a.ks, a.a_offset, a.pad,
          a.out + begin * a.out_stride, a.out_stride, &a.minmax);
}

void f32_avgpool_pixels(const F32AvgPoolKernel& kern, const F32PoolArgs& a, size_t begin, size_t end) {
  if (begin >= end || a.ks == 0) return;
  kern.fn(end - begin, a.ks, a.channels, a.indirection + begin * a.ks, a.a_offset, a.pad, a.multiplier + begin,
          a.out + begin * a.out_stride, a.out_stride, &a.minmax);
}

}  // namespace kiln
