// What kiln.NhwcMaxPool / kiln.NhwcAveragePool run: 2-D pooling on channels-last float32
// data through the f32-pool microkernels (src/kernels/f32-pool). The indirection buffer
// (one pointer per output pixel and tap, padding -> a shared -inf or zero row) and the
// average's per-pixel multipliers are built once per input shape and reused while the
// shape stays; output rows are split over the session's thread pool (each row writes
// only its own outputs: the same result for any thread count).
#pragma once
#include <cstddef>
#include <vector>

#include "kernels/f32-pool/f32-pool.h"
#include "kernels/reference/reference.h"

namespace kiln {

class NhwcPoolKernels {
 public:
  // x [g.planes (batch), in0, in1, channels] -> y [g.planes, out0, out1, channels]; g.rank 2.
  void max_pool(const PoolGeometry& g, size_t channels, const float* x, float* y);
  void average_pool(const PoolGeometry& g, size_t channels, bool count_include_pad, const float* x, float* y);

 private:
  enum class Mode { kNone, kMax, kAvgExcludePad, kAvgIncludePad };
  void prepare(const PoolGeometry& g, size_t channels, Mode mode, const float* x);
  template <class Run>
  void run_rows(const PoolGeometry& g, size_t channels, const float* x, float* y, Run run);

  PoolGeometry key_{};
  size_t key_channels_ = 0;
  Mode key_mode_ = Mode::kNone;
  const float* base_ = nullptr;
  std::vector<const float*> indirection_;
  std::vector<float> pad_, multiplier_;
};

}  // namespace kiln
