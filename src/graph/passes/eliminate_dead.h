// Dead-node elimination: drops nodes none of whose outputs is needed by a graph output
// (looking through subgraph captures), then compacts the value table so unused values
// (including unused initializers) disappear. Main-graph inputs are always kept.
#pragma once
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct DeadStats {
  int removed_nodes = 0;
  int removed_values = 0;
};

Status eliminate_dead(Model& model, DeadStats* stats = nullptr);

}  // namespace kiln
