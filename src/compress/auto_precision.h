// Automatic per-layer precision for `kiln compress --auto-precision DB` (issue 7): compress
// the whole model, measure every compressed layer's output against the original (the
// per-layer SNR of kiln eval, compress/eval.h, on the same inputs), and keep the layer that
// hurts most in float (add it to the mode's exclude list), then compress and measure again,
// until every remaining compressed layer's output is at least `threshold_db` or the limit of
// kept layers is reached.
//
// "Hurts most": a layer's measured SNR includes the error of everything upstream, so the
// layers after a sensitive one fail too. Errors of independent roundings add as powers, so
// each layer's own share is estimated as noise/signal(output) - noise/signal(data input);
// while any layer fails, the layer with the lowest own SNR (failing or not: it may be the
// source of a later layer's failure) is kept first.
//
// The mode is a callback (compress a copy of the model with an exclude list, name the layers
// it changed), so int8 dynamic and any later mode (int4, static int8) share the loop.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "compress/eval.h"
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct CompressedModel {
  Model model;
  std::vector<std::string> layers;  // names of the nodes the mode rewrote (main graph)
};

// Compresses a copy of `original`, leaving the nodes / weights matched by `exclude`
// (compress/int8_dynamic.h's name_matches patterns) as they are.
using CompressMode = std::function<Result<CompressedModel>(const Model& original, const std::vector<std::string>& exclude)>;

struct AutoPrecisionOptions {
  double threshold_db = 25;  // minimum SNR of each compressed layer's output
  int max_kept = 32;         // layers kept in float at most (rounds of the loop)
  std::vector<std::string> exclude;  // the user's own exclusions, always passed on
  // Inputs and task of the measurement (data.count inputs; layer_runs is set to all of them,
  // latency_runs to 0). Generic models get compare.h's random inputs.
  EvalOptions eval;
  // Called after each measurement: round (0 = all compressed), layers kept so far, worst SNR.
  std::function<void(int round, int kept, double worst_db)> progress;
};

struct LayerPrecision {
  std::string node;         // the node kept in float
  std::string output;       // its output value
  double snr_db = 0;        // measured SNR of its output when it was chosen
  double own_snr_db = 0;    // estimated SNR of its own rounding alone
};

struct AutoPrecisionResult {
  CompressedModel compressed;          // the final model
  std::vector<std::string> exclude;    // the user's patterns + the kept layers' node names
  std::vector<LayerPrecision> kept;    // in the order they were chosen
  double worst_db_before = 0;          // lowest compressed-layer SNR with every layer compressed
  double worst_db_after = 0;           // ... in the final model (+inf: no compressed layer left)
  bool met = false;                    // every remaining compressed layer >= threshold
  int rounds = 0;                      // compress + measure passes
  EvalReport first, last;              // the measurements of the first and final models
};

Result<AutoPrecisionResult> auto_precision(const Model& original, const CompressMode& mode,
                                           const AutoPrecisionOptions& options);

}  // namespace kiln
