// Structured channel pruning (issue 7, `kiln compress --prune-channels 0.3`): removes whole
// output channels (filters) of Conv / kiln.NhwcConv (group 1), Gemm and MatMul layers with
// constant float32 weights, and the matching input channels downstream, so the result is a
// smaller *dense* graph that runs on the ordinary kernels.
//
// Channel sets. Starting from a producer's output, the set is followed through ops that
// keep channels apart: elementwise unary activations, BatchNormalization, Mul/Add/Sub/Div/
// kiln.Affine by a per-channel (or scalar) constant, depthwise convolutions (their weights
// lose the same channels), pools, ReduceMean over other axes, Resize by spatial scales; it
// ends in the input channels of consumer Conv / kiln.NhwcConv (group 1) and Gemm / MatMul
// weights. Three joins:
//  * Residual groups: an Add (or Sub) of two computed tensors makes both operands one set,
//    followed backwards to every producer that feeds it (transitively through chains of
//    x + f(x) blocks): all of them lose the same channels, ranked by their summed importance
//    (each member's per-channel importance divided by its mean, so no layer dominates).
//  * Concat along the channel axis: each input keeps its own set; past the Concat the set
//    is a slice [offset, offset + C) of the wider tensor, and its consumers lose those
//    channels only.
//  * Squeeze-excite: a Mul by a computed gate that comes (through unary activations) from a
//    group-1 convolution read by nothing else: that convolution loses the same channels.
// Anything else (Reshape/Flatten, a graph input or output, a Split, an unfused
// x * sigmoid(x), a Concat output meeting another computed tensor, ...) leaves the whole
// set unpruned, with a line in `skipped` naming the reason. Nothing is edited for a skipped
// set. Importance is the L1 norm of a producer's filter (times |gamma| / sqrt(var + eps) of
// a BatchNormalization that reads its output directly, when BN is not folded yet). The
// kept count is rounded UP to a multiple of 8 (4 below 32 channels): the NHWC convolution
// and GEMM kernels work on 8 output channels at a time natively (AVX2) and 4 in WASM
// SIMD128, so a ragged count only adds a slow remainder tile.
//
// Bias compensation (no fine-tuning): when calibration inputs are given, the model first
// runs on them and the per-channel mean of every value a consumer reads is measured; a
// removed channel's mean times the consumer's weights for it (summed over the taps) is
// added to the consumer's bias. That is exact when the removed channel was constant and
// the consumer is 1x1 / a GEMM (a k x k convolution differs only where padding is read).
// Declared shapes of the values on the path are updated; the model is validated and its
// shapes re-inferred afterwards.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct ChannelStats;  // compress/channel_means.h

struct ChannelPruneOptions {
  double fraction = 0.3;  // of each producer's output channels to remove, [0, 1)
  int64_t min_channels = 8;  // producers with fewer output channels are left alone
  std::vector<std::string> exclude;  // node or weight names, or prefixes ending in '*'
  // Inputs the model runs on to measure channel means for bias compensation (empty: none).
  std::vector<std::map<std::string, Tensor>> calibration;
  // Channel means already measured on this model (consumer_input_means in channel_means.h):
  // the measuring run is skipped. Value indices refer to the model as passed.
  std::shared_ptr<const std::map<int, ChannelStats>> channel_means;
  // A set's own fraction, by the name of the producer it is found from (PrunedChannels::node);
  // with listed_only, sets not listed are kept whole.
  std::map<std::string, double> fractions;
  bool listed_only = false;
};

// A node whose weight (input 1) lost input channels.
struct ChannelConsumer {
  std::string node;
  int axis = 0;                  // of its weight that lost them
  std::vector<int64_t> removed;  // those channels, numbered as in the original model
  bool compensated = false;      // their means were folded into its bias
};

struct PrunedChannels {
  std::string node;                 // the producer the set was found from
  std::vector<std::string> group;   // every producer that lost these channels (node first)
  int64_t before = 0, after = 0;
  std::vector<std::string> through;  // op types followed ("Relu", "NhwcConv(dw)", ...)
  // Removing the channels equals zeroing these slices of the consumers' weights in the
  // original (without bias compensation).
  std::vector<ChannelConsumer> consumers;
  std::vector<int64_t> kept;  // output channel indices the group keeps, ascending
};

struct ChannelPruneStats {
  std::vector<PrunedChannels> pruned;
  std::vector<std::string> skipped;  // "node 'x' (Conv): reason"
  int64_t channels_before = 0, channels_after = 0;  // over the pruned producers
  int64_t params_before = 0, params_after = 0;      // float32 constant elements, whole model
  int calibration_samples = 0;       // inputs the channel means were measured on
  int64_t compensated = 0, uncompensated = 0;  // consumer edits with / without bias compensation
  size_t layers() const {  // producers that lost output channels (a residual group counts each)
    size_t n = 0;
    for (const PrunedChannels& p : pruned) n += p.group.size();
    return n;
  }
};

Result<ChannelPruneStats> prune_channels(Model& model, const ChannelPruneOptions& options);

// Float32 constant elements in the model.
int64_t float_params(const Model& model);
// Multiply-accumulates of the Conv / kiln.NhwcConv / Gemm / MatMul nodes for the given
// input dims (symbolic dims not given count as 1), from shape inference on a copy. Nodes
// whose output shape stays unknown (behind a Reshape by a computed shape) are not counted.
Result<int64_t> count_macs(const Model& model, const std::map<std::string, Dims>& input_dims);

// `count` inputs for ChannelPruneOptions::calibration: the rendered eval set of the task the
// model's interface suggests (compress/eval_data.h; another seed than kiln eval's, so an
// eval scores inputs the means were not measured on), or compress/compare.h's deterministic
// inputs for other models; `dims` for symbolic input dims.
Result<std::vector<std::map<std::string, Tensor>>> channel_calibration_set(const Model& model, int count,
                                                                         const std::map<std::string, Dims>& dims);

// "0.3" -> 0.3; must be in (0, 1).
Result<double> parse_channel_fraction(const std::string& text);

}  // namespace kiln
