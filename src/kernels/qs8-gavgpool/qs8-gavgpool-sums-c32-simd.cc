// The qs8-gavgpool sums kernel over c32 channels per block (simd); see qs8-gavgpool-ukernel.h.
#include "kernels/qs8-gavgpool/qs8-gavgpool-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_SIMD128)
void qs8_gavgpool_sums_c32_simd(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums) {
  qs8_gavgpool_sums_ukernel<I16x8Simd128, 4>(rows, channels, x, x_stride, sums);
}
#endif  // KILN_HAVE_SIMD128
}  // namespace kiln
