// Per-layer precision under a size budget (precision_budget.h): measure every layer at each
// precision, then a greedy over noise removed per byte.
#include "compress/precision_budget.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <set>

#include "format/model_io.h"

namespace kiln {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The bytes of the constants a node reads, directly or through a Cast (fp16 storage is a
// float16 constant and a Cast to float32).
int64_t node_weight_bytes(const Model& m, const Node& node, const std::map<int, const Node*>& producer) {
  int64_t bytes = 0;
  for (int v : node.inputs) {
    if (v == kNoValue) continue;
    const Value& val = m.values[size_t(v)];
    if (val.is_constant()) {
      bytes += int64_t(val.data->bytes());
    } else if (auto it = producer.find(v); it != producer.end() && it->second->op_type == "Cast" &&
                                           !it->second->inputs.empty() && it->second->inputs[0] != kNoValue) {
      const Value& src = m.values[size_t(it->second->inputs[0])];
      if (src.is_constant()) bytes += int64_t(src.data->bytes());
    }
  }
  return bytes;
}

// Weight bytes of each named node of the main graph (absent: not in the graph).
std::map<std::string, int64_t> layer_bytes(const Model& m, const std::vector<std::string>& names) {
  std::map<int, const Node*> producer;
  for (const Node& n : m.graph.nodes)
    for (int o : n.outputs)
      if (o != kNoValue) producer[o] = &n;
  const std::set<std::string> wanted(names.begin(), names.end());
  std::map<std::string, int64_t> out;
  for (const Node& n : m.graph.nodes)
    if (wanted.count(n.name)) out[n.name] = node_weight_bytes(m, n, producer);
  return out;
}

double nsr_of(double db) { return std::isinf(db) && db > 0 ? 0.0 : std::pow(10.0, -db / 10.0); }

}  // namespace

const char* weight_precision_name(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::kInt4: return "int4";
    case WeightPrecision::kInt4Min: return "int4-min";
    case WeightPrecision::kInt8: return "int8";
    case WeightPrecision::kFloat: return "float";
  }
  return "?";
}

Result<BudgetAllocation> allocate_precision(const std::vector<BudgetLayer>& layers, int64_t fixed_bytes,
                                            int64_t budget_bytes) {
  if (fixed_bytes < 0) return invalid_argument("the bytes outside the budgeted layers must be >= 0");
  BudgetAllocation a;
  a.bytes = fixed_bytes;
  std::vector<int> level(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    int best = -1;
    for (int l = 0; l < kWeightPrecisions; ++l)
      if (layers[i].at[size_t(l)].bytes >= 0 && (best < 0 || layers[i].at[size_t(l)].bytes < layers[i].at[size_t(best)].bytes))
        best = l;
    if (best < 0) return invalid_argument("layer '" + layers[i].node + "' has no precision to choose from");
    level[i] = best;
    a.bytes += layers[i].at[size_t(best)].bytes;
  }
  for (;;) {
    size_t pick_i = 0;
    int pick_l = -1;
    double pick_gain = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      const PrecisionOption& cur = layers[i].at[size_t(level[i])];
      for (int l = 0; l < kWeightPrecisions; ++l) {
        const PrecisionOption& to = layers[i].at[size_t(l)];
        if (l == level[i] || to.bytes < 0 || !(to.nsr < cur.nsr)) continue;
        const int64_t extra = to.bytes - cur.bytes;
        if (a.bytes + extra > budget_bytes) continue;
        const double gain = extra <= 0 ? kInf : (cur.nsr - to.nsr) / double(extra);
        if (pick_l < 0 || gain > pick_gain) pick_i = i, pick_l = l, pick_gain = gain;
      }
    }
    if (pick_l < 0) break;
    a.bytes += layers[pick_i].at[size_t(pick_l)].bytes - layers[pick_i].at[size_t(level[pick_i])].bytes;
    level[pick_i] = pick_l;
  }
  a.met = a.bytes <= budget_bytes;
  for (size_t i = 0; i < layers.size(); ++i) {
    a.choice.push_back(static_cast<WeightPrecision>(level[i]));
    a.nsr += layers[i].at[size_t(level[i])].nsr;
  }
  return a;
}

Result<PrecisionBudgetResult> precision_budget(const Model& original, const std::vector<std::string>& layers,
                                               const MixedMode& mode, const PrecisionBudgetOptions& o) {
  if (!mode) return invalid_argument("the precision budget needs a compression mode");
  if (!(o.target_ratio >= 1 && o.target_ratio <= 1000))
    return invalid_argument("the target ratio must be in [1, 1000], got " + std::to_string(o.target_ratio));
  if (o.original_bytes <= 0) return invalid_argument("the original file size must be known");
  if (layers.empty()) return invalid_argument("no layer to choose a precision for");
  PrecisionBudgetResult r;
  r.budget_bytes = static_cast<int64_t>(std::floor(double(o.original_bytes) / o.target_ratio));
  KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> ref_raw, write_model(original));
  auto ref_bytes = std::make_shared<const std::vector<uint8_t>>(std::move(ref_raw));
  EvalOptions eo = o.eval;
  eo.latency_runs = 0;
  eo.layer_runs = 0;  // the outputs only

  // Bytes: every layer at one precision, read off the model as written.
  std::vector<BudgetLayer> budget(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) budget[i].node = layers[i];
  int64_t cheapest_file = -1, cheapest_sum = 0;
  for (int l = 0; l < kWeightPrecisions; ++l) {
    const auto prec = static_cast<WeightPrecision>(l);
    std::map<std::string, WeightPrecision> all;
    for (const std::string& n : layers) all[n] = prec;
    auto mm = mode(original, all);
    if (!mm.ok()) return mm.status().with_context(std::string("compressing every layer to ") + weight_precision_name(prec));
    const std::vector<std::string>& done = mm->converted[size_t(l)];
    const std::set<std::string> converted(done.begin(), done.end());
    const auto bytes = layer_bytes(mm->model, layers);
    for (BudgetLayer& b : budget)
      if (auto bi = bytes.find(b.node); bi != bytes.end() && (prec == WeightPrecision::kFloat || converted.count(b.node)))
        b.at[size_t(l)].bytes = bi->second;
    if (prec == WeightPrecision::kInt4) {
      KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, write_model(mm->model));
      cheapest_file = int64_t(raw.size());
      for (const auto& [name, n] : bytes) cheapest_sum += n;  // whatever precision each landed at
    }
  }
  // Noise: each layer alone at each precision (every other layer float), the mean noise /
  // signal of the model's outputs against the original. One layer's rounding seen where it
  // matters, at the outputs: a layer whose noise later layers amplify shows it here.
  for (BudgetLayer& b : budget)
    for (int l = 0; l < kWeightPrecisions - 1; ++l) {
      if (b.at[size_t(l)].bytes < 0) continue;
      std::map<std::string, WeightPrecision> one;
      for (const std::string& n : layers) one[n] = WeightPrecision::kFloat;
      one[b.node] = static_cast<WeightPrecision>(l);
      auto mm = mode(original, one);
      if (!mm.ok()) return mm.status().with_context("compressing " + b.node + " alone");
      KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, write_model(mm->model));
      auto test_bytes = std::make_shared<const std::vector<uint8_t>>(std::move(raw));
      auto rep = evaluate(ref_bytes, test_bytes, eo);
      if (!rep.ok()) return rep.status().with_context("measuring " + b.node + " alone");
      ++r.measurements;
      double nsr = 0;
      for (const NamedError& e : rep->outputs) nsr += nsr_of(e.stats.snr_db());
      if (!rep->outputs.empty()) nsr /= double(rep->outputs.size());
      b.at[size_t(l)].nsr = nsr;
      if (o.progress)
        o.progress(b.node + " " + weight_precision_name(static_cast<WeightPrecision>(l)),
                   nsr > 0 ? -10.0 * std::log10(nsr) : kInf);
    }
  for (BudgetLayer& b : budget)
    if (b.at[0].bytes < 0) {
      bool any = false;
      for (const PrecisionOption& p : b.at) any |= p.bytes >= 0;
      if (!any) return internal_error("layer '" + b.node + "' was converted at no precision");
    }
  const int64_t fixed = std::max<int64_t>(0, cheapest_file - cheapest_sum);
  r.cheapest_bytes = fixed;
  for (const BudgetLayer& b : budget) {
    int64_t least = -1;
    for (const PrecisionOption& p : b.at)
      if (p.bytes >= 0 && (least < 0 || p.bytes < least)) least = p.bytes;
    r.cheapest_bytes += std::max<int64_t>(0, least);
  }

  // The greedy, then the real file: its size decides (alignment and the like are not in the
  // per-layer sums); if it is over, the budget shrinks by the excess and the greedy reruns.
  int64_t target = r.budget_bytes - o.reserve_bytes;
  for (int attempt = 0; attempt < 4; ++attempt) {
    KILN_ASSIGN_OR_RETURN(BudgetAllocation a, allocate_precision(budget, fixed, target));
    std::map<std::string, WeightPrecision> choice;
    for (size_t i = 0; i < budget.size(); ++i) choice[budget[i].node] = a.choice[i];
    auto mm = mode(original, choice);
    if (!mm.ok()) return mm.status().with_context("compressing with the chosen precisions");
    KILN_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, write_model(mm->model));
    r.file_bytes = int64_t(raw.size());
    const auto bytes = layer_bytes(mm->model, layers);
    r.layers.clear();
    for (size_t i = 0; i < budget.size(); ++i) {
      BudgetedLayer bl;
      bl.node = budget[i].node;
      bl.precision = a.choice[i];
      auto bi = bytes.find(bl.node);
      bl.bytes = bi == bytes.end() ? 0 : bi->second;
      for (int l = 0; l < kWeightPrecisions; ++l)
        bl.snr_db[size_t(l)] = budget[i].at[size_t(l)].bytes < 0 || budget[i].at[size_t(l)].nsr <= 0
                                   ? kInf
                                   : -10.0 * std::log10(budget[i].at[size_t(l)].nsr);
      r.layers.push_back(std::move(bl));
    }
    r.compressed = std::move(mm).value();
    r.met = r.file_bytes + o.reserve_bytes <= r.budget_bytes;
    const int64_t over = r.file_bytes + o.reserve_bytes - r.budget_bytes;
    if (over <= 0 || !a.met) break;
    target -= over;
  }
  if (o.progress) o.progress("final", kInf);
  return r;
}

}  // namespace kiln
