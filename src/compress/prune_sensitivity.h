// Per-set channel-pruning fractions by sensitivity (`kiln compress --prune-channels F
// --prune-sensitivity`): each channel set (prune_channels.h) is pruned alone at F, with bias
// compensation, and the model's outputs on the calibration inputs are compared with the
// original's (SNR over every float output). Sets are then ranked by that SNR and given
// fractions linearly from 0 (the set whose pruning hurts most is kept whole) to 2F (the one
// that hurts least; at most 0.9), so the mean fraction stays F; the model is pruned with them.
#pragma once
#include <string>
#include <vector>

#include "compress/prune_channels.h"
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct SetSensitivity {
  std::string node;   // the set's first producer (PrunedChannels::node)
  size_t layers = 0;  // producers in the set
  double snr_db = 0;  // model outputs with only this set pruned at F, against the original
  double fraction = 0;  // what it is then pruned at
};

struct SensitivityPrune {
  ChannelPruneStats stats;
  std::vector<SetSensitivity> sets;  // most sensitive first
};

// options.calibration must hold at least one input; options.fraction is F.
Result<SensitivityPrune> prune_channels_by_sensitivity(Model& model, const ChannelPruneOptions& options);

}  // namespace kiln
