// Per-channel means (and variances) of the values that convolutions and GEMMs read, measured by running the
// model on calibration inputs: what channel pruning folds into the consumers' biases in place
// of the channels it removes (compress/prune_channels.h).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct ChannelStats {
  std::vector<double> mean, var;  // per channel, over every sample and position
};
using ChannelStatsMap = std::map<int, ChannelStats>;  // by value index

// Value index -> mean and variance of each channel over every sample and position, for each non-constant
// value read as input 0 by a Conv / kiln.NhwcConv (group 1, channel axis 1 / last), Gemm or
// MatMul (last axis). Graph inputs and outputs are left out (channel pruning never cuts them).
Result<ChannelStatsMap> consumer_input_means(const Model& model,
                                            const std::vector<std::map<std::string, Tensor>>& samples);

}  // namespace kiln
