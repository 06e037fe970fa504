// Session: load a model once, run it many times. The same shape as the JS API:
// create(bytes) -> inputs()/outputs() -> run({name: tensor}) -> {name: tensor}.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "runtime/backend.h"
#include "runtime/profile.h"

namespace kiln {

struct TensorDesc {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;  // symbolic dims have size -1 and a name
};

struct SessionOptions {
  bool verify_hashes = true;
  // Plans (dims + arena layout) kept for this many distinct input shapes (least recently
  // used dropped first); 0 runs without plans: every tensor allocated on its own.
  size_t plan_cache_size = 8;
  // Who runs the ops: kiln's kernels, or XNNPACK for the nodes it covers (native builds with
  // XNNPACK only; Session::create fails with a clear error elsewhere).
  Backend backend = Backend::kKiln;
  // Threads a run may use, the calling thread included: 1 runs single-threaded, 0 picks
  // the hardware's threads, at most 4 (platform/thread_pool.h). Results are bit-identical
  // for every count. Single-threaded WebAssembly always runs with 1.
  size_t num_threads = 0;
};

// What the plan for one input shape does (see runtime/plan.h).
struct PlanInfo {
  int planned_nodes = 0;     // dims known before running
  int dynamic_nodes = 0;     // dims known only while running (data-dependent, control flow)
  int arena_values = 0;      // intermediates placed in the arena
  size_t arena_bytes = 0;    // the arena's size
  size_t unshared_bytes = 0; // those intermediates' total size without reuse
};

struct PlanCacheStats {
  size_t cached = 0, hits = 0, misses = 0;
};

using TensorMap = std::map<std::string, Tensor>;

class Session {
 public:
  ~Session();
  // From .kiln bytes (verified before use) or an in-memory model.
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                                 const SessionOptions& options = {});
  static Result<std::unique_ptr<Session>> create(Model model, const SessionOptions& options = {});

  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  const std::vector<TensorDesc>& outputs() const { return outputs_; }
  const Model& model() const { return model_; }
  // Threads a run uses (the calling thread included): SessionOptions::num_threads resolved.
  size_t num_threads() const;

  // Checks names, dtypes and shapes of the inputs against the model, then runs. Symbolic
  // dims take their sizes from the inputs; the plan is built once per concrete shape.
  // Calls on one Session are serialized (the plan's arena is reused).
  Result<TensorMap> run(const TensorMap& inputs);

  // The plan for these input dims (one per model input, in order), built if needed.
  Result<PlanInfo> plan_info(const std::vector<Dims>& input_dims);
  PlanCacheStats plan_cache_stats() const;
  Backend backend() const { return backend_; }
  // Nodes of the model (subgraphs included) that run on the backend rather than on kiln's
  // own ops; 0 for Backend::kKiln.
  int delegated_nodes() const;

  // Per-node timing of the runs that follow (runtime/profile.h). Turning it on clears what
  // was collected; off (the default), a run pays one branch per node.
  void set_profiling(bool on);
  RunProfile profile() const;

 private:
  Session() = default;
  struct Impl;
  Model model_;
  std::vector<TensorDesc> inputs_, outputs_;
  Backend backend_ = Backend::kKiln;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
