// Structured channel pruning (issue 7, `kiln compress --prune-channels 0.3`): removes whole
// output channels (filters) of Conv / kiln.NhwcConv (group 1), Gemm and MatMul layers with
// constant float32 weights, and the matching input channels downstream, so the result is a
// smaller *dense* graph that runs on the ordinary kernels.
//
// For each producer, the channels are ranked by the L1 norm of their weights (times
// |gamma| / sqrt(var + eps) of a BatchNormalization that reads the output directly, when
// BN is not folded yet); the lowest `fraction` go. The kept count is rounded UP to a
// multiple of 8 (4 below 32 channels): the NHWC convolution and GEMM kernels work on 8
// output channels at a time natively (AVX2) and 4 in WASM SIMD128, so a ragged count only
// adds a slow remainder tile.
//
// The channel set is followed from the producer's output through ops that keep channels
// apart: elementwise unary activations, BatchNormalization, Mul/Add/Sub/Div/kiln.Affine by
// a per-channel (or scalar) constant, depthwise convolutions (their weights lose the same
// channels: a depthwise channel follows its input), pools, ReduceMean over other axes,
// Resize by spatial scales; it ends in the input channels of consumer Conv / kiln.NhwcConv
// (group 1) and Gemm / MatMul weights. A Mul by a computed squeeze-excite gate is followed
// when the gate comes (through unary activations) from a group-1 convolution read by
// nothing else: that convolution loses the same output channels. Anything else (a residual
// Add or a Concat, Reshape/Flatten, a graph output, an unfused x * sigmoid(x), ...) leaves
// that producer unpruned,
// with a line in `skipped` naming the reason. Nothing is edited for a skipped set.
// Declared shapes of the values on the path are updated; the model is validated and its
// shapes re-inferred afterwards.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct ChannelPruneOptions {
  double fraction = 0.3;  // of each producer's output channels to remove, [0, 1)
  int64_t min_channels = 8;  // producers with fewer output channels are left alone
  std::vector<std::string> exclude;  // node or weight names, or prefixes ending in '*'
};

struct PrunedChannels {
  std::string node;
  int64_t before = 0, after = 0;
  std::vector<std::string> through;  // op types followed ("Relu", "NhwcConv(dw)", ...)
  // Nodes whose input channels were cut, with the axis of their weight (input 1) that lost
  // them: removing the channels equals zeroing that slice of those weights in the original.
  std::vector<std::pair<std::string, int>> consumers;
  std::vector<int64_t> kept;  // channel indices kept, ascending
};

struct ChannelPruneStats {
  std::vector<PrunedChannels> pruned;
  std::vector<std::string> skipped;  // "node 'x' (Conv): reason"
  int64_t channels_before = 0, channels_after = 0;  // over the pruned producers
  int64_t params_before = 0, params_after = 0;      // float32 constant elements, whole model
};

Result<ChannelPruneStats> prune_channels(Model& model, const ChannelPruneOptions& options);

// Float32 constant elements in the model.
int64_t float_params(const Model& model);
// Multiply-accumulates of the Conv / kiln.NhwcConv / Gemm / MatMul nodes for the given
// input dims (symbolic dims not given count as 1), from shape inference on a copy. Nodes
// whose output shape stays unknown (behind a Reshape by a computed shape) are not counted.
Result<int64_t> count_macs(const Model& model, const std::map<std::string, Dims>& input_dims);

// "0.3" -> 0.3; must be in (0, 1).
Result<double> parse_channel_fraction(const std::string& text);

}  // namespace kiln
