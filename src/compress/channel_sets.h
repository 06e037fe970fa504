// Channel sets of structured pruning (prune_channels.h, internal): what one set touches —
// the producers that make it (a residual group), every constant to cut, the readers whose
// input channels go, the values whose declared shapes shrink — found by walking the graph
// both ways from one producer. Nothing is edited here; prune_channels.cc ranks and applies.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "compress/prune_channels.h"
#include "graph/passes/pass_util.h"

namespace kiln::channel_sets {

bool is_conv(const Node& n);  // Conv or kiln.NhwcConv
bool is_onnx(const Node& n);
bool group1_conv(const Node& n);
bool gemm_like(const Node& n);  // ONNX Gemm or MatMul

// One constant input of one node to cut along `axis` (negative: from the end). On a wider
// tensor past a Concat (`width` > 0) only the slice [off, off + m) loses channels.
struct Cut {
  Node* node;
  size_t input;
  int axis;
  int64_t off = 0, width = 0;
};

// A weight that loses input channels, and the value its node reads them from.
struct ConsumerCut {
  Node* node;
  int axis;
  int value;
  int64_t off = 0, width = 0;
};

struct Plan {
  int ax = 0;          // channel axis from the end
  int64_t m = 0;       // channels of the set
  int rank0 = -1;      // rank of the carrying values when a convolution fixes it
  std::vector<Cut> cuts;
  struct Carried {
    int v;
    int64_t off, width;  // width 0: the set's own m channels; else a slice of a Concat's
  };
  std::vector<Carried> values;                  // carrying the channels
  std::vector<Node*> members;                   // producers of the set, the seed first
  std::vector<ConsumerCut> consumers;
  std::vector<std::string> through;
};

// A producer's own cuts (weight first, output axis) and channel axis; "" when it can be one.
std::string producer_cuts(const Model& model, Node& p, int& ax, int64_t& m, std::vector<Cut>& cuts);

// Fills `plan` (its ax, m and rank0 set from the seed) with the set found from `seed`; returns
// why it cannot be pruned, or "". plan.members lists every producer walked, even on failure.
std::string follow_channel_set(Model& model, GraphView& view, const ChannelPruneOptions& options, Plan& plan,
                               Node& seed);

}  // namespace kiln::channel_sets
