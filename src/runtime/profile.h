// Per-node run-time profile (`kiln run --profile`, Session::set_profiling): wall time and
// call count of every node, subgraph nodes included, summed over the profiled runs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct NodeTiming {
  std::string name;     // the node's name (may be empty in the source model)
  std::string op_type;  // with its domain, e.g. "Conv", "kiln.NhwcConv"
  int depth = 0;        // 0: main graph; n: inside n levels of If / Loop / Scan bodies
  bool control_flow = false;  // If / Loop / Scan: its time includes its subgraph's nodes
  int64_t calls = 0;
  double total_ms = 0;
};

struct RunProfile {
  int64_t runs = 0;       // Session::run calls profiled
  double total_ms = 0;    // their wall time, end to end (input checks and plan lookup included)
  std::vector<NodeTiming> nodes;  // every node of the model, in graph order (a subgraph after its node)
};

struct OpTypeTiming {
  std::string op_type;
  int64_t nodes = 0, calls = 0;
  double total_ms = 0;
};

// Time per op type, most first, over the nodes that are not control flow (their time is
// already in the nodes of their subgraphs).
std::vector<OpTypeTiming> profile_by_op_type(const RunProfile& p);

// Nodes by time, most first; control-flow nodes excluded like above. At most `limit`.
std::vector<NodeTiming> profile_top_nodes(const RunProfile& p, size_t limit);

}  // namespace kiln
