// The fast kernels behind Resize / Upsample. From the per-axis tap tables (resize_plan's
// build_resize_tables, i.e. every coordinate_transformation_mode and nearest_mode), plan()
// builds once per shape an XNNPACK-style indirection buffer of input offsets plus packed
// weights, then run() lets the microkernels (src/kernels/f32-resize) do the per-pixel work,
// split over output rows with parallel_for.
//
// Fast cases: at most two resized axes, adjacent (H, W), every other axis unchanged, each
// resized axis nearest (1 tap) or linear (2 taps). The dims after W are the channels:
//   channels > 1 (NHWC, what the nhwc_layout pass leaves)  -> f32-ibilinear / x32-igather
//   channels = 1 (NCHW: the planes are N*C)                 -> f32-ibilinear-chw / x32-igather
// tf_crop_and_resize's outside points are written with the extrapolation value after the
// kernel ran on clamped taps. Everything else (cubic, 3+ resized axes, ...) returns false
// from plan() and the op runs the reference kernel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/f32-resize/f32-resize.h"
#include "kernels/reference/reference.h"

namespace kiln {

class ResizeKernels {
 public:
  enum class Path { kNone, kCopy, kLinear, kLinearChw, kNearest };

  // axes: `rank` tables as the reference kernel takes them. False: no fast kernel applies.
  bool plan(size_t rank, const ResizeAxis* axes);
  Path path() const { return path_; }
  // Tests and benchmarks pick kernels (defaults: the config tables' choice).
  void set_kernels(const F32IbilinearKernel* linear, const F32IbilinearChwKernel* chw, const X32IgatherKernel* nearest);

  // Output rows of the planned shape: run_rows(begin, end) is re-entrant; run() splits
  // [0, rows()) with parallel_for. Results do not depend on the split.
  size_t rows() const { return outer_ * oh_; }
  void run_rows(const float* x, float* y, float extrapolation, size_t begin, size_t end) const;
  void run(const float* x, float* y, float extrapolation) const;

 private:
  void compute_rows(const float* x, float* y, size_t image, size_t row0, size_t row1) const;
  void fix_outside(float* y, float extrapolation, size_t image, size_t row) const;

  Path path_ = Path::kNone;
  size_t outer_ = 0, ih_ = 1, iw_ = 1, oh_ = 1, ow_ = 1, c_ = 1, copy_elements_ = 0;
  std::vector<const float*> indirection_;  // byte offsets from the input base
  std::vector<float> weights_;             // (alpha_h, alpha_v) per output pixel
  std::vector<uint8_t> same_as_previous_;  // per output row: same source rows as the row before
  std::vector<uint8_t> outside_h_, outside_w_;  // tf_crop_and_resize (empty: none)
  const F32IbilinearKernel* linear_ = nullptr;
  const F32IbilinearChwKernel* chw_ = nullptr;
  const X32IgatherKernel* nearest_ = nullptr;
};

}  // namespace kiln
