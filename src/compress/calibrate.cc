// calibrate(): the float model once per sample with every float value it computes exposed
// as an output; one RangeObserver per value (compress/range_observer.cc).
#include "compress/calibrate.h"

#include <set>

#include "compress/exposed_values.h"

namespace kiln {

const char* calibration_method_name(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kMinMax: return "minmax";
    case CalibrationMethod::kPercentile: return "percentile";
    case CalibrationMethod::kMse: return "mse";
  }
  return "?";
}

Result<CalibrationMethod> parse_calibration_method(const std::string& name) {
  for (CalibrationMethod m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse})
    if (name == calibration_method_name(m)) return m;
  return invalid_argument("unknown calibration method '" + name + "' (minmax, percentile or mse)");
}

Result<CalibrationRanges> calibrate(const Model& model, const std::vector<TensorMap>& samples,
                                    const CalibrationOptions& o) {
  if (samples.empty()) return invalid_argument("calibration needs at least one sample; the set is empty");
  if (o.method == CalibrationMethod::kPercentile && !(o.percentile > 0 && o.percentile <= 100))
    return invalid_argument("the calibration percentile must be in (0, 100], got " + std::to_string(o.percentile));
  if (o.histogram_bins < 16 || o.histogram_bins > (1 << 16))
    return invalid_argument("calibration histograms need 16 to 65536 bins, got " + std::to_string(o.histogram_bins));

  // Graph inputs come from the samples; everything computed, from the exposed outputs.
  std::set<std::string> inputs;
  for (int v : model.graph.inputs)
    if (model.values[size_t(v)].dtype == DType::kF32) inputs.insert(model.values[size_t(v)].name);
  const std::set<std::string> computed = computed_float_values(model, /*with_outputs=*/true);
  SessionOptions so;
  so.num_threads = o.num_threads;
  auto session = Session::create(expose_values(model, computed), so);
  if (!session.ok()) return session.status().with_context("the model with its intermediate values exposed");

  std::map<std::string, RangeObserver> observers;
  auto observe = [&](const std::string& name, const Tensor& t) {
    if (t.dtype() != DType::kF32) return;  // a value of unknown dtype that turned out not float
    observers.try_emplace(name, o.histogram_bins).first->second.add(t.data<float>(), t.size());
  };
  const int total = int(samples.size());
  for (int i = 0; i < total; ++i) {
    const TensorMap& feeds = samples[size_t(i)];
    auto out = (*session)->run(feeds);
    if (!out.ok()) return out.status().with_context("calibration sample " + std::to_string(i + 1) + " of " +
                                                    std::to_string(total));
    for (const std::string& name : inputs)
      if (auto it = feeds.find(name); it != feeds.end()) observe(name, it->second);
    for (const std::string& name : computed)
      if (auto it = out->find(name); it != out->end()) observe(name, it->second);
    if (o.progress) o.progress("calibration", i + 1, total);
  }

  CalibrationRanges ranges;
  for (const auto& [name, obs] : observers) {
    switch (o.method) {
      case CalibrationMethod::kMinMax: ranges[name] = obs.minmax(); break;
      case CalibrationMethod::kPercentile: ranges[name] = obs.percentile(o.percentile); break;
      case CalibrationMethod::kMse: ranges[name] = obs.mse_optimal(); break;
    }
  }
  return ranges;
}

}  // namespace kiln
