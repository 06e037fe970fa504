// Calibration for static int8 (`kiln compress --int8-static DIR`, issue 7): the float
// model runs on a calibration set with every intermediate float tensor exposed, and each
// tensor's range is estimated from what it held: min/max, a percentile of |x| over a
// histogram, or the clipping range that minimizes the quantization MSE over that histogram.
// compress/int8_static.h turns the ranges into per-tensor int8 scales and zero points.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "runtime/session.h"

namespace kiln {

enum class CalibrationMethod { kMinMax, kPercentile, kMse };
const char* calibration_method_name(CalibrationMethod method);
Result<CalibrationMethod> parse_calibration_method(const std::string& name);  // minmax|percentile|mse

// The range a float tensor is quantized over; always min <= 0 <= max after calibration
// (zero must be exactly representable for padding and Relu).
struct TensorRange {
  float min = 0, max = 0;
};
// The narrowest range calibration returns: a tensor that held only zeros (or values this
// close to zero) still gets a usable scale, and the int32 bias of a convolution reading it
// (bias / (x_scale * w_scale)) stays far from overflow.
inline constexpr float kMinCalibrationRange = 1e-3f;
using CalibrationRanges = std::map<std::string, TensorRange>;  // by value name

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kPercentile;
  double percentile = 99.99;  // kPercentile: share of |x| kept inside the range, in percent
  int histogram_bins = 2048;  // per tensor, over [min, max] seen
  // Called after each sample: ("calibration", done, total).
  std::function<void(const std::string& stage, int done, int total)> progress;
  size_t num_threads = 0;  // per Session run (0: the hardware's, as SessionOptions)
};

// Range estimators over one tensor's observations (exposed for tests and reuse).
// It keeps the exact min / max, the count of exact zeros, and a histogram of the other
// finite values x (signed) on a grid of equal bins whose edges are multiples of the bin
// width, so 0 is always an edge. A value outside the grid doubles the width (merging bin
// pairs, which is exact) until the grid spans at most `bins` bins: one pass over the data,
// at least bins / 2 bins across the final range. Each bin holds the count, sum and sum of
// squares of its values, so clipping errors are exact.
//  - minmax: [min(min, 0), max(max, 0)].
//  - percentile(pct): the smallest t with pct% of all values (zeros included) inside
//    [-t, t] (linear inside a bin), intersected with the minmax range.
//  - mse_optimal: over every pair of bin edges a <= 0 <= b (the data's min / max as the
//    outermost), the range minimizing clipping error (exact) + rounding noise of the values
//    inside (step^2 / 12 each, step = (b - a) / 255; exact zeros excluded: zero is exact).
// Every result contains 0 and is at least kMinCalibrationRange wide.
class RangeObserver {
 public:
  explicit RangeObserver(int bins = 2048);  // bins is clamped to [16, 1 << 20]
  void add(const float* x, int64_t n);  // may be called per sample; NaN / inf are ignored
  TensorRange minmax() const;
  TensorRange percentile(double pct) const;
  TensorRange mse_optimal() const;
  int64_t count() const;  // finite values seen

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Loads a calibration set for `inputs` from a directory: `<input name>_<i>.npy` or, for a
// single-input model, any `*.npy` (one sample each, leading batch 1 optional) and PNG images
// (resized and normalized like the OCR eval set for image inputs [N,3,H,W]). Files are
// taken in name order. Errors name the file and what is wrong with it.
//  - One input: every `*.npy` file is one sample, or every `*.png` file is one sample
//    (not both kinds in one directory). A PNG is stretched to the input's H x W (from
//    `input_dims`, else the declared shape; batch 1) with bilinear sampling and normalized
//    as PP-OCR's classifier and recognizer are: (pixel / 255 - 0.5) / 0.5 per channel
//    (RGB, or gray for C = 1; alpha is ignored). For other normalizations write .npy files.
//  - Several inputs: only `.npy`, named calibration_file_name(input, i); sample i is the
//    files with index i, samples ordered by i; every input needs a file for every index.
//  - An .npy must have the input's dtype and fit its shape: fixed dims equal (all dims
//    equal to `input_dims` when given), the batch dimension may be left out when it is 1.
//  - Hidden files and files that are neither .npy nor .png are ignored.
Result<std::vector<TensorMap>> load_calibration_set(const std::string& dir, const std::vector<TensorDesc>& inputs,
                                                    const std::map<std::string, Dims>& input_dims = {});

// "<input>_<i>.npy" with the input's name made file-safe (characters other than letters,
// digits, '-', '_' and '.' become '_') and i zero-padded to 4 digits, so name order is
// sample order: what `kiln eval --write-inputs` writes and load_calibration_set reads.
std::string calibration_file_name(const std::string& input, int index);

// Runs `model` (float) on every sample with all intermediate float values exposed and
// returns the range of each (graph inputs included, constants left out). Every value the
// main graph computes with float32 data is covered (values inside If / Loop bodies are not);
// the observers see all samples (one Session run each), then `options.method` picks the
// ranges. Errors: no samples, a sample the model rejects (with its index).
Result<CalibrationRanges> calibrate(const Model& model, const std::vector<TensorMap>& samples,
                                    const CalibrationOptions& options = {});

}  // namespace kiln
