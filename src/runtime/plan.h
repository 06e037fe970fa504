// Run plan for one set of concrete input dims: XNNPACK's "reshape" step, done once per
// shape and cached by the Session. Every main-graph node whose output dims follow from the
// input dims alone (including shape arithmetic such as Shape->Gather->Concat->Reshape)
// gets them here, and those outputs get offsets in one arena, reused by liveness
// (greedy by size, like TFLite's arena planner). Nodes whose shapes depend on data computed
// at run time (NonZero, control-flow outputs, ...) stay dynamic: inferred and heap-allocated
// as they run. Graph outputs never live in the arena, so results outlive the next run.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/op.h"

namespace kiln {

struct PlannedValue {
  bool planned = false;  // dtype/dims known before running
  DType dtype = DType::kUndefined;
  Dims dims;
  int64_t offset = -1;  // byte offset in the arena; -1: allocated on its own
};

struct RunPlan {
  std::vector<PlannedValue> values;  // indexed like Model::values
  size_t arena_bytes = 0;            // one arena holds every planned intermediate
  size_t unshared_bytes = 0;         // what those intermediates would take without reuse
  int planned_nodes = 0, dynamic_nodes = 0, arena_values = 0;
  bool arena_disabled = false;       // set if an op's output turned out to alias another value
  std::shared_ptr<void> arena;       // allocated on first use
};

// Values a node reads: its inputs plus the captures of its subgraphs.
void node_reads(const Node& n, std::set<int>& out);

// Builds the plan for `input_dims` (one entry per main-graph input, in order). `op_for`
// returns the prepared Op of a main-graph node (nullptr for control flow).
Result<std::shared_ptr<RunPlan>> build_run_plan(const Model& model, const std::vector<Dims>& input_dims,
                                                const std::function<Op*(const Node&)>& op_for);

}  // namespace kiln
