// A size budget per layer (`kiln compress --int4 --target-ratio R`, issue 7): every layer
// int4 (or only int8, e.g. depthwise) can take gets the precision, among int4 (symmetric
// blocks), int4-min (blocks with a min), int8 (per output channel) and float (float16 with
// --fp16), that the file can afford:
// all start at their cheapest, then, while the file stays <= original / R, the upgrade that
// removes the most measured noise per extra byte is taken.
//
// "Measured noise": the model with that one layer at that precision (every other candidate
// float) against the original on the task's inputs: the noise / signal power of its outputs
// (mean over outputs). One layer's rounding is judged where it matters, at the outputs; the
// sum over layers approximates the mix (errors of independent roundings add as powers).
// That is 3 evaluations per layer (int4, int4-min, int8); float counts as exact.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compress/eval.h"
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

enum class WeightPrecision { kInt4 = 0, kInt4Min = 1, kInt8 = 2, kFloat = 3 };
inline constexpr int kWeightPrecisions = 4;
const char* weight_precision_name(WeightPrecision p);  // "int4", "int4-min", "int8", "float"

struct PrecisionOption {
  int64_t bytes = -1;  // the layer's weight bytes at this precision; < 0: not available
  double nsr = 0;      // output noise / signal power with this layer alone at this precision (0: exact)
};
struct BudgetLayer {
  std::string node;
  std::array<PrecisionOption, kWeightPrecisions> at;
};
struct BudgetAllocation {
  std::vector<WeightPrecision> choice;  // per layer, in the order given
  int64_t bytes = 0;                    // fixed_bytes + the chosen layers' bytes
  double nsr = 0;                       // sum of the chosen layers' noise
  bool met = false;                     // bytes <= budget (false: even the cheapest does not fit)
};

// The greedy on measured numbers (no model): each layer starts at its cheapest available
// precision; then, repeatedly, among the upgrades that still fit, the one with the largest
// noise removed per extra byte (an upgrade that costs no bytes first), ties to the earlier
// layer. Errors: a layer with no available precision, negative sizes.
Result<BudgetAllocation> allocate_precision(const std::vector<BudgetLayer>& layers, int64_t fixed_bytes,
                                            int64_t budget_bytes);

// Compresses a copy of the original with the given precision per layer (node name; layers
// not named stay as the mode leaves them) and returns the model as it will be written (any
// later step such as fp16 applied) and, per precision, the layers it actually converted.
struct MixedModel {
  Model model;
  std::array<std::vector<std::string>, kWeightPrecisions> converted;
};
using MixedMode =
    std::function<Result<MixedModel>(const Model& original, const std::map<std::string, WeightPrecision>& choice)>;

struct PrecisionBudgetOptions {
  double target_ratio = 6;     // file bytes <= original_bytes / target_ratio
  int64_t original_bytes = 0;  // the original file's size
  int64_t reserve_bytes = 0;   // kept free for what is added after (the report in the metadata)
  EvalOptions eval;            // the measurement's inputs and task (outputs only: no latency, no layers)
  // After each measurement: what was measured ("<node> <precision>") and the output SNR.
  std::function<void(const std::string& what, double worst_db)> progress;
};

struct BudgetedLayer {
  std::string node;
  WeightPrecision precision = WeightPrecision::kInt4;
  int64_t bytes = 0;
  std::array<double, kWeightPrecisions> snr_db{};  // output SNR with it alone at each precision (+inf: exact / n.a.)
};
struct PrecisionBudgetResult {
  MixedModel compressed;  // the final model (as written, before the report is added)
  std::vector<BudgetedLayer> layers;
  int64_t budget_bytes = 0, file_bytes = 0, cheapest_bytes = 0;  // target, final, every layer at its cheapest (estimate)
  bool met = false;
  int measurements = 0;
};

// `layers`: the candidate layers (node names), e.g. those int4 converts.
Result<PrecisionBudgetResult> precision_budget(const Model& original, const std::vector<std::string>& layers,
                                               const MixedMode& mode, const PrecisionBudgetOptions& options);

}  // namespace kiln
