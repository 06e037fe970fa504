// The scalar SpMM microkernel: the packed format read the plainest way (row by row,
// column by column), the oracle the SIMD kernels are tested against.
#include <algorithm>

#include "kernels/f32-spmm/f32-spmm.h"

namespace kiln {

void f32_spmm_ukernel_reference(size_t mr, size_t mc, size_t nc, const float* a, const float* w,
                                const int32_t* dmap, const uint32_t* nnzmap, float* c, const F32MinMax* params) {
  for (size_t i = 0; i < mc; ++i) {
    const float* ap = a + i;
    const float* wp = w;
    const int32_t* dp = dmap;
    for (size_t j = 0; j < nc; ++j) {
      float acc = *wp++;
      for (uint32_t t = 0; t < nnzmap[j]; ++t) {
        acc += *ap * *wp++;
        ap += *dp++ / static_cast<int32_t>(sizeof(float));
      }
      c[j * mr + i] = std::min(std::max(acc, params->min), params->max);
    }
  }
}

}  // namespace kiln
