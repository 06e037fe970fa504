// Executor: creates one Op per node once (attribute checks, weight packing), then runs
// graphs node by node, freeing each intermediate after its last use. Control flow (If, Loop, Scan)
// is handled here, running branch / body subgraphs in the same value environment.
#pragma once
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "ops/op.h"
#include "runtime/backend.h"
#include "runtime/profile.h"

namespace kiln {

struct RunPlan;

class Executor {
 public:
  // Creates ops for every node of the model, including subgraphs. Reports every
  // unsupported op at once. With Backend::kXnnpack the nodes XNNPACK covers are delegated
  // to it (the rest keep kiln's ops); an error if this build cannot run XNNPACK.
  Status prepare(const Model& model, Backend backend = Backend::kKiln);
  // How many nodes prepare() handed to a backend other than kiln.
  int delegated_nodes() const { return delegated_; }
  // Runs the main graph with (value index, tensor) inputs; returns graph outputs in order.
  // With a plan (built for these input dims) planned intermediates live in its arena.
  Result<std::vector<Tensor>> run(const Model& model, const std::vector<std::pair<int, Tensor>>& inputs,
                                  RunPlan* plan = nullptr);
  // The prepared op of a node (nullptr for control flow).
  Op* op_for(const Node& n) const;
  // Off by default. On, every node's wall time (freeing its dead inputs included) is added
  // to profile(); turning it on clears what was collected.
  void set_profiling(bool on);
  bool profiling() const { return profiling_; }
  const RunProfile& profile() const { return profile_; }

 private:
  struct Env;
  struct GraphPlan {
    std::vector<std::vector<int>> free_after;  // values whose last reader is node i
  };
  Status prepare_graph(const Model& model, const Graph& g, int depth);
  Status run_graph(const Model& model, const Graph& g, Env& env);
  Status run_node(const Model& model, const Node& n, Env& env);
  Status run_if(const Model& model, const Node& n, Env& env);
  static const void* arena_slot(RunPlan& plan, int value, const TensorInfo& info, Tensor& out, bool zero_fill);
  Status run_loop(const Model& model, const Node& n, Env& env);
  struct ScanShape {
    size_t states = 0, scans_in = 0, scans_out = 0;
    std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
  };
  Status run_scan(const Model& model, const Node& n, Env& env);
  Result<std::vector<Tensor>> scan_once(const Model& model, const Node& n, Env& env, const ScanShape& sh,
                                        std::vector<Tensor> ins, int64_t len);
  Result<Tensor> stack_scan(const Model& model, const Node& n, int body_output, const std::vector<Tensor>& parts);
  // Drops the values a subgraph produced (its inputs and node outputs) from env.
  static void clear_locals(const Graph& g, Env& env);

  // run_node's per-node vectors, kept so their capacity is reused across nodes and runs.
  struct NodeScratch {
    std::vector<Tensor> ins, outs;
    std::vector<TensorInfo> infos, out_infos;
    std::vector<const void*> in_arena;
  };
  NodeScratch scratch_;
  std::unordered_map<const Node*, std::unique_ptr<Op>> ops_;
  std::unordered_map<const Graph*, GraphPlan> plans_;
  Backend backend_ = Backend::kKiln;
  int delegated_ = 0;
  bool profiling_ = false;
  RunProfile profile_;                                  // nodes in prepare order
  std::unordered_map<const Node*, size_t> node_index_;  // index in profile_.nodes
};

}  // namespace kiln
