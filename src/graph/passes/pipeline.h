// The graph optimizer: the default ordered list of passes, run to a fixed point, with a
// report of what each pass changed (for `kiln inspect --passes` and `kiln convert`).
// `kiln convert --no-optimize` skips it and keeps the graph as imported.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct PassReport {
  std::string pass;
  int round = 1;  // 1-based run of the pass list
  int rewrites = 0;
  std::map<std::string, int> patterns;  // rewrites by pattern label
  int nodes_before = 0, nodes_after = 0;
  std::map<std::string, int> op_delta;  // op type -> change in count (non-zero only)
};

struct PipelineOptions {
  int max_rounds = 4;  // rounds of the whole list; stops early once a round changes nothing
  std::vector<std::string> skip;  // pass names not to run
};

// The pass names in the order they run.
std::vector<std::string> default_passes();

// Runs the pipeline on an imported model (validated, sorted). Reports every pass of the
// first round and, in later rounds, only the passes that changed something.
Status optimize(Model& model, const PipelineOptions& options = {}, std::vector<PassReport>* reports = nullptr);

// Runs one pass by name (then the clean-up every pass gets: dead nodes, sort, shapes).
Result<PassReport> run_pass(Model& model, const std::string& name);

// "fuse_activation: 27 rewrites (Conv+HardSigmoid ×12, Conv+Relu ×15); nodes 180 → 153;
// ops HardSigmoid -12, Relu -15"
std::string describe(const PassReport& r);

// Nodes in the main graph and all subgraphs.
int total_nodes(const Model& model);

}  // namespace kiln
