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
using CalibrationRanges = std::map<std::string, TensorRange>;  // by value name

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kPercentile;
  double percentile = 99.99;  // kPercentile: share of |x| kept inside the range, in percent
  int histogram_bins = 2048;  // per tensor, over [min, max] seen
  // Called after each sample: ("calibration", done, total).
  std::function<void(const std::string& stage, int done, int total)> progress;
};

// Range estimators over one tensor's observations (exposed for tests and reuse).
class RangeObserver {
 public:
  explicit RangeObserver(int bins = 2048);
  void add(const float* x, int64_t n);  // may be called per sample; NaN / inf are ignored
  TensorRange minmax() const;
  TensorRange percentile(double pct) const;
  TensorRange mse_optimal() const;
  int64_t count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Loads a calibration set for `inputs` from a directory: `<input name>_<i>.npy` or, for a
// single-input model, any `*.npy` (one sample each, leading batch 1 optional) and PNG images
// (resized and normalized like the OCR eval set for image inputs [N,3,H,W]). Files are
// taken in name order. Errors name the file and what is wrong with it.
Result<std::vector<TensorMap>> load_calibration_set(const std::string& dir, const std::vector<TensorDesc>& inputs,
                                                    const std::map<std::string, Dims>& input_dims = {});

// Runs `model` (float) on every sample with all intermediate float values exposed and
// returns the range of each (graph inputs included, constants left out).
Result<CalibrationRanges> calibrate(const Model& model, const std::vector<TensorMap>& samples,
                                    const CalibrationOptions& options = {});

}  // namespace kiln
