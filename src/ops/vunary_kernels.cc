#include "ops/vunary_kernels.h"

#include <algorithm>

#include "ops/packed_gemm.h"
#include "platform/thread_pool.h"

namespace kiln {

void run_f32_vunary(F32VunaryOp op, const float* x, float* y, size_t n, const F32VunaryParams& params) {
  const F32VunaryUkernelFn fn =
      use_reference_kernels() ? f32_vunary_reference_kernel(op).fn : f32_vunary_default_kernel(op).fn;
  const size_t chunks = (n + kF32VunaryChunk - 1) / kF32VunaryChunk;
  if (chunks <= 1) {
    if (n != 0) fn(n, x, y, &params);
    return;
  }
  parallel_for(chunks, [&](size_t begin, size_t end) {
    const size_t lo = begin * kF32VunaryChunk, hi = std::min(n, end * kF32VunaryChunk);
    fn(hi - lo, x + lo, y + lo, &params);
  });
}

}  // namespace kiln
