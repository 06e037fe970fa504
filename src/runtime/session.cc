#include "runtime/session.h"

#include <list>
#include <mutex>
#include <set>
#include <unordered_map>

#include "format/model_io.h"
#include "ops/registry.h"
#include "platform/platform.h"
#include "platform/thread_pool.h"
#include "runtime/executor.h"
#include "runtime/plan.h"
#include "runtime/stored_weights.h"

namespace kiln {

// Beyond this a num_threads is a mistake (a negative number cast to size_t, say).
constexpr size_t kMaxThreads = 256;

struct Session::Impl {
  Executor executor;
  std::unique_ptr<ThreadPool> pool;  // ops reach it through parallel_for while run() holds mu
  size_t cache_size = 8;
  std::mutex mu;
  // Most recently used first; a handful of entries, so a list scan is enough.
  std::list<std::pair<std::vector<Dims>, std::shared_ptr<RunPlan>>> plans;
  PlanCacheStats stats;
  int64_t profiled_runs = 0;  // while the executor profiles
  double profiled_ms = 0;

  Result<RunPlan*> plan_for(const Model& model, const std::vector<Dims>& dims) {
    for (auto it = plans.begin(); it != plans.end(); ++it)
      if (it->first == dims) {
        plans.splice(plans.begin(), plans, it);
        stats.hits++;
        return plans.front().second.get();
      }
    stats.misses++;
    KILN_ASSIGN_OR_RETURN(std::shared_ptr<RunPlan> plan,
                          build_run_plan(model, dims, [this](const Node& n) { return executor.op_for(n); }));
    plans.emplace_front(dims, std::move(plan));
    while (plans.size() > cache_size) plans.pop_back();
    stats.cached = plans.size();
    return plans.front().second.get();
  }
};

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                                 const SessionOptions& options) {
  if (!bytes) return invalid_argument("no model bytes given");
  ReadOptions ro;
  ro.verify_hashes = options.verify_hashes;
  KILN_ASSIGN_OR_RETURN(Model model, read_model(std::move(bytes), ro));
  return create(std::move(model), options);
}

namespace {
TensorDesc describe_value(const Value& v) {
  TensorDesc d;
  d.name = v.name;
  d.dtype = v.dtype;
  if (v.shape) d.shape = *v.shape;
  return d;
}
}  // namespace

Result<std::unique_ptr<Session>> Session::create(Model model, const SessionOptions& options) {
  if (options.num_threads > kMaxThreads)
    return invalid_argument("num_threads must be at most " + std::to_string(kMaxThreads) + " (0 = automatic), got " +
                            std::to_string(options.num_threads));
  std::unique_ptr<Session> s(new Session());
  s->model_ = std::move(model);
  KILN_RETURN_IF_ERROR(validate_and_sort(s->model_));
  KILN_RETURN_IF_ERROR(expand_stored_weights(s->model_).status());
  s->impl_ = std::make_unique<Impl>();
  s->impl_->cache_size = options.plan_cache_size;
  s->backend_ = options.backend;
  s->impl_->pool = std::make_unique<ThreadPool>(options.num_threads == 0 ? default_num_threads() : options.num_threads);
  KILN_RETURN_IF_ERROR(s->impl_->executor.prepare(s->model_, options.backend));
  for (int v : s->model_.graph.inputs) s->inputs_.push_back(describe_value(s->model_.values[v]));
  for (int v : s->model_.graph.outputs) s->outputs_.push_back(describe_value(s->model_.values[v]));
  return s;
}

namespace {

// Checks one input against its declaration; `symbols` binds symbolic dim names across inputs.
Status check_input(const TensorDesc& d, const Tensor& t, std::unordered_map<std::string, int64_t>& symbols) {
  const std::string where = "input '" + d.name + "'";
  if (!t.defined()) return invalid_argument(where + ": tensor has no data");
  if (d.dtype != DType::kUndefined && t.dtype() != d.dtype)
    return invalid_argument(where + ": expected dtype " + dtype_name(d.dtype) + ", got " + dtype_name(t.dtype()));
  if (!d.shape.empty() || t.rank() == 0) {
    // An empty declared shape with rank-0 data is a scalar; otherwise ranks must agree.
    if (static_cast<size_t>(t.rank()) != d.shape.size())
      return invalid_argument(where + ": expected shape " + shape_to_string(d.shape) + " (rank " +
                              std::to_string(d.shape.size()) + "), got " + dims_to_string(t.dims()));
  }
  for (size_t i = 0; i < d.shape.size() && i < t.dims().size(); ++i) {
    const Dim& dim = d.shape[i];
    int64_t got = t.dims()[i];
    if (dim.fixed() && dim.size != got)
      return invalid_argument(where + ": expected shape " + shape_to_string(d.shape) + ", got " +
                              dims_to_string(t.dims()) + " (dimension " + std::to_string(i) + ")");
    if (!dim.fixed() && !dim.param.empty()) {
      auto [it, fresh] = symbols.emplace(dim.param, got);
      if (!fresh && it->second != got)
        return invalid_argument(where + ": dimension '" + dim.param + "' is " + std::to_string(got) +
                                " here but " + std::to_string(it->second) + " in another input");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TensorMap> Session::run(const TensorMap& inputs) {
  const double t0 = now_ms();
  std::unordered_map<std::string, int64_t> symbols;
  std::vector<std::pair<int, Tensor>> bound;
  for (const auto& [name, t] : inputs) {
    size_t i = 0;
    while (i < inputs_.size() && inputs_[i].name != name) ++i;
    if (i == inputs_.size()) {
      std::string names;
      for (const auto& d : inputs_) names += (names.empty() ? "'" : ", '") + d.name + "'";
      return invalid_argument("unknown input '" + name + "'; the model's inputs are " + names);
    }
    KILN_RETURN_IF_ERROR(check_input(inputs_[i], t, symbols));
    bound.emplace_back(model_.graph.inputs[i], t);
  }
  for (const auto& d : inputs_)
    if (!inputs.count(d.name)) return invalid_argument("missing input '" + d.name + "'");
  std::lock_guard<std::mutex> lock(impl_->mu);
  RunPlan* plan = nullptr;
  if (impl_->cache_size > 0) {
    std::vector<Dims> dims(model_.graph.inputs.size());
    for (const auto& [v, t] : bound)
      for (size_t i = 0; i < dims.size(); ++i)
        if (model_.graph.inputs[i] == v) dims[i] = t.dims();
    KILN_ASSIGN_OR_RETURN(plan, impl_->plan_for(model_, dims));
  }
  ThreadPoolScope threads(impl_->pool.get());
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> outs, impl_->executor.run(model_, bound, plan));
  TensorMap result;
  for (size_t i = 0; i < outputs_.size(); ++i) result[outputs_[i].name] = std::move(outs[i]);
  if (impl_->executor.profiling()) {
    impl_->profiled_runs++;
    impl_->profiled_ms += now_ms() - t0;
  }
  return result;
}

void Session::set_profiling(bool on) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->executor.set_profiling(on);
  if (on) impl_->profiled_runs = 0, impl_->profiled_ms = 0;
}

RunProfile Session::profile() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  RunProfile p = impl_->executor.profile();
  p.runs = impl_->profiled_runs;
  p.total_ms = impl_->profiled_ms;
  return p;
}

Result<PlanInfo> Session::plan_info(const std::vector<Dims>& input_dims) {
  if (input_dims.size() != inputs_.size())
    return invalid_argument("plan_info: " + std::to_string(input_dims.size()) + " shapes given for " +
                            std::to_string(inputs_.size()) + " inputs");
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::shared_ptr<RunPlan> keep;  // when the cache is off the plan is built just to report
  RunPlan* plan = nullptr;
  if (impl_->cache_size > 0) {
    KILN_ASSIGN_OR_RETURN(plan, impl_->plan_for(model_, input_dims));
  } else {
    KILN_ASSIGN_OR_RETURN(keep, build_run_plan(model_, input_dims,
                                               [this](const Node& n) { return impl_->executor.op_for(n); }));
    plan = keep.get();
  }
  return PlanInfo{plan->planned_nodes, plan->dynamic_nodes, plan->arena_values, plan->arena_bytes,
                  plan->unshared_bytes};
}

int Session::delegated_nodes() const { return impl_->executor.delegated_nodes(); }
size_t Session::num_threads() const { return impl_->pool->num_threads(); }

PlanCacheStats Session::plan_cache_stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace kiln
