// The qs8-gavgpool sums kernel over c32 channels per block (avx2); see qs8-gavgpool-ukernel.h.
#include "kernels/qs8-gavgpool/qs8-gavgpool-ukernel.h"

namespace kiln {
#if defined(KILN_HAVE_AVX2)
void qs8_gavgpool_sums_c32_avx2(size_t rows, size_t channels, const int8_t* x, size_t x_stride, int32_t* sums) {
  qs8_gavgpool_sums_ukernel<I16x16Avx2, 2, I16x8Sse4>(rows, channels, x, x_stride, sums);
}
#endif  // KILN_HAVE_AVX2
}  // namespace kiln
