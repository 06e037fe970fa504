// Sensitivity-ranked channel pruning (prune_sensitivity.h): one pruning run per set on a copy
// of the model, then one with the fractions chosen from what each did to the outputs.
#include "compress/prune_sensitivity.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "compress/channel_means.h"
#include "runtime/session.h"

namespace kiln {
namespace {

Result<std::vector<TensorMap>> run_all(const Model& model, const std::vector<TensorMap>& samples) {
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(model));
  std::vector<TensorMap> out;
  for (const TensorMap& s : samples) {
    KILN_ASSIGN_OR_RETURN(TensorMap o, session->run(s));
    out.push_back(std::move(o));
  }
  return out;
}

// 10 log10(sum ref^2 / sum err^2) over every float32 output of every sample (200 when equal).
double snr_db(const std::vector<TensorMap>& ref, const std::vector<TensorMap>& test) {
  double sig = 0, err = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    for (const auto& [name, r] : ref[i]) {
      auto it = test[i].find(name);
      if (r.dtype() != DType::kF32 || it == test[i].end() || it->second.size() != r.size()) continue;
      const float* a = r.data<float>();
      const float* b = it->second.data<float>();
      for (int64_t k = 0; k < r.size(); ++k) {
        sig += double(a[k]) * a[k];
        err += (double(a[k]) - b[k]) * (double(a[k]) - b[k]);
      }
    }
  if (err == 0) return 200.0;
  return 10.0 * std::log10(std::max(sig, 1e-30) / err);
}

}  // namespace

Result<SensitivityPrune> prune_channels_by_sensitivity(Model& model, const ChannelPruneOptions& options) {
  if (options.calibration.empty())
    return invalid_argument("pruning by sensitivity needs calibration inputs (--calib-count at least 1)");
  ChannelPruneOptions o = options;
  if (!o.channel_means) {
    KILN_ASSIGN_OR_RETURN(auto means, consumer_input_means(model, o.calibration));
    o.channel_means = std::make_shared<const ChannelStatsMap>(std::move(means));
  }
  KILN_ASSIGN_OR_RETURN(const std::vector<TensorMap> ref, run_all(model, o.calibration));
  Model dry = model;
  KILN_ASSIGN_OR_RETURN(const ChannelPruneStats all, prune_channels(dry, o));
  SensitivityPrune r;
  for (const PrunedChannels& p : all.pruned) {
    Model one = model;
    ChannelPruneOptions so = o;
    so.fractions = {{p.node, o.fraction}};
    so.listed_only = true;
    auto st = prune_channels(one, so);
    if (!st.ok()) return st.status().with_context("pruning set '" + p.node + "' alone");
    auto out = run_all(one, o.calibration);
    if (!out.ok()) return out.status().with_context("running with set '" + p.node + "' pruned alone");
    r.sets.push_back({p.node, p.group.size(), snr_db(ref, *out), 0.0});
  }
  std::stable_sort(r.sets.begin(), r.sets.end(),
                   [](const SetSensitivity& a, const SetSensitivity& b) { return a.snr_db < b.snr_db; });
  const size_t n = r.sets.size();
  ChannelPruneOptions fo = o;
  for (size_t i = 0; i < n; ++i) {
    const double f = n > 1 ? 2.0 * o.fraction * double(i) / double(n - 1) : o.fraction;
    r.sets[i].fraction = std::min(f, 0.9);
    fo.fractions[r.sets[i].node] = r.sets[i].fraction;
  }
  KILN_ASSIGN_OR_RETURN(r.stats, prune_channels(model, fo));
  return r;
}

}  // namespace kiln
