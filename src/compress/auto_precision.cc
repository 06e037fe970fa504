#include "compress/auto_precision.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "format/model_io.h"

namespace kiln {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Noise / signal power from an SNR in dB (0 for +inf).
double nsr(double db) { return std::isinf(db) && db > 0 ? 0.0 : std::pow(10.0, -db / 10.0); }

struct Measured {
  std::string node, output;
  double snr_db = kInf, own_db = kInf;
};

// Each compressed layer's output SNR and its own share, from one eval report.
std::vector<Measured> measure_layers(const CompressedModel& cm, const EvalReport& rep) {
  std::map<std::string, double> snr;
  for (const NamedError& e : rep.layers) snr[e.name] = e.stats.snr_db();
  for (const NamedError& e : rep.outputs) snr[e.name] = e.stats.snr_db();  // a layer may write an output
  const Model& m = cm.model;
  std::vector<Measured> out;
  for (const std::string& name : cm.layers) {
    auto it = std::find_if(m.graph.nodes.begin(), m.graph.nodes.end(), [&](const Node& n) { return n.name == name; });
    if (name.empty() || it == m.graph.nodes.end() || it->outputs.empty() || it->outputs[0] == kNoValue) continue;
    Measured x;
    x.node = name;
    x.output = m.values[size_t(it->outputs[0])].name;
    auto so = snr.find(x.output);
    if (so == snr.end()) continue;  // not comparable (layout or dtype differs): nothing to judge it by
    x.snr_db = so->second;
    // The data input: a model input or constant is exact; an unmeasured one counts as exact too,
    // which blames this layer for all of its error (the conservative choice).
    double in_db = kInf;
    if (!it->inputs.empty() && it->inputs[0] != kNoValue)
      if (auto si = snr.find(m.values[size_t(it->inputs[0])].name); si != snr.end()) in_db = si->second;
    const double own = nsr(x.snr_db) - nsr(in_db);
    x.own_db = own > 0 ? -10.0 * std::log10(own) : kInf;
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

Result<AutoPrecisionResult> auto_precision(const Model& original, const CompressMode& mode,
                                           const AutoPrecisionOptions& o) {
  if (!mode) return invalid_argument("auto precision needs a compression mode");
  if (!(o.threshold_db > -200 && o.threshold_db < 200))
    return invalid_argument("the auto-precision threshold must be an SNR in dB between -200 and 200, got " +
                            std::to_string(o.threshold_db));
  if (o.max_kept < 0) return invalid_argument("the limit of layers kept in float must be >= 0");
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> ref_raw, write_model(original));
  auto ref_bytes = std::make_shared<const std::vector<uint8_t>>(std::move(ref_raw));
  EvalOptions eo = o.eval;
  eo.latency_runs = 0;
  eo.layer_runs = std::max(1, eo.data.count);
  if (!eo.user_inputs.empty()) eo.layer_runs = int(eo.user_inputs.size());

  AutoPrecisionResult r;
  r.exclude = o.exclude;
  for (;;) {
    auto cm = mode(original, r.exclude);
    if (!cm.ok()) return cm.status().with_context("compressing with " + std::to_string(r.kept.size()) + " layers kept");
    KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, write_model(cm->model));
    auto test_bytes = std::make_shared<const std::vector<uint8_t>>(std::move(raw));
    auto rep = evaluate(ref_bytes, test_bytes, eo);
    if (!rep.ok()) return rep.status().with_context("measuring the per-layer SNR");
    const std::vector<Measured> layers = measure_layers(*cm, *rep);
    double worst = kInf;
    for (const Measured& x : layers) worst = std::min(worst, x.snr_db);
    if (r.rounds == 0) {
      r.worst_db_before = worst;
      r.first = *rep;
    }
    ++r.rounds;
    if (o.progress) o.progress(r.rounds - 1, int(r.kept.size()), worst);
    r.compressed = std::move(cm).value();
    r.last = std::move(rep).value();
    r.worst_db_after = worst;
    // While a layer is below the threshold, keep the one whose own rounding costs most: a
    // failing layer that only inherits its error (attention and normalization downstream
    // amplify it) would not get better in float, the noisiest source would.
    const Measured* pick = nullptr;
    bool failing = false;
    for (const Measured& x : layers) {
      failing |= x.snr_db < o.threshold_db;
      if (!pick || x.own_db < pick->own_db) pick = &x;
    }
    r.met = !failing;
    if (!failing || !pick || int(r.kept.size()) >= o.max_kept) break;
    r.kept.push_back({pick->node, pick->output, pick->snr_db, pick->own_db});
    r.exclude.push_back(pick->node);
  }
  return r;
}

}  // namespace kiln
