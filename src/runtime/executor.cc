#include "runtime/executor.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <set>

#include "ops/registry.h"
#include "platform/platform.h"
#include "runtime/axis_slices.h"
#include "runtime/plan.h"

#ifdef KILN_HAVE_XNNPACK
#include "backends/xnnpack/delegate.h"
#endif

namespace kiln {

struct Executor::Env {
  const Model& model;
  std::vector<Tensor> values;  // produced at run time; constants are read from the model
  RunPlan* plan = nullptr;     // dims and arena offsets for this input shape, if any
  const Tensor* get(int v) const {
    if (v == kNoValue) return nullptr;
    const Tensor& t = values[static_cast<size_t>(v)];
    if (t.defined()) return &t;
    const Value& val = model.values[static_cast<size_t>(v)];
    return val.data ? &*val.data : nullptr;
  }
};

namespace {

void collect_unsupported(const Graph& g, std::map<std::string, std::string>& first) {
  for (const Node& n : g.nodes) {
    if (!op_supported(n.domain, n.op_type)) {
      std::string type = n.domain.empty() ? n.op_type : n.domain + "." + n.op_type;
      first.emplace(type, n.name);
    }
    for (const auto& [name, a] : n.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) collect_unsupported(*a.g, first);
  }
}

std::string with_node(const Node& n, const Status& s) {
  return s.message().rfind("node '", 0) == 0 ? s.message() : n.describe() + ": " + s.message();
}

}  // namespace

Status Executor::prepare(const Model& model, Backend backend) {
  KILN_RETURN_IF_ERROR(backend_available(backend));
  backend_ = backend;
  delegated_ = 0;
  std::map<std::string, std::string> unsupported_ops;
  collect_unsupported(model.graph, unsupported_ops);
  if (!unsupported_ops.empty()) {
    std::string msg = "the model uses operators kiln does not support: ";
    bool first = true;
    for (const auto& [type, node] : unsupported_ops) {
      msg += (first ? "" : ", ") + type + " (first at node '" + node + "')";
      first = false;
    }
    return unsupported(msg);
  }
  profile_ = RunProfile();
  node_index_.clear();
  return prepare_graph(model, model.graph, 0);
}

void Executor::set_profiling(bool on) {
  profiling_ = on;
  if (!on) return;
  profile_.runs = 0;
  profile_.total_ms = 0;
  for (NodeTiming& t : profile_.nodes) t.calls = 0, t.total_ms = 0;
}

Status Executor::prepare_graph(const Model& model, const Graph& g, int depth) {
  GraphPlan plan;
  plan.free_after.resize(g.nodes.size());
  std::map<int, size_t> last;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    node_index_[&n] = profile_.nodes.size();
    NodeTiming timing;
    timing.name = n.name;
    timing.op_type = n.domain.empty() ? n.op_type : n.domain + "." + n.op_type;
    timing.depth = depth;
    timing.control_flow = is_control_flow(n.op_type);
    profile_.nodes.push_back(std::move(timing));
    std::set<int> reads;
    node_reads(n, reads);
    for (int r : reads) last[r] = i;
    for (int o : n.outputs)
      if (o != kNoValue && !last.count(o)) last[o] = i;  // unused outputs die at once
    if (is_control_flow(n.op_type)) {
      for (const auto& [name, a] : n.attrs)
        if (a.kind == Attribute::Kind::kGraph && a.g) KILN_RETURN_IF_ERROR(prepare_graph(model, *a.g, depth + 1));
      continue;
    }
    OpContext ctx{n, model, model.opset};
    auto op = create_op(ctx);
    if (!op.ok()) return op.status();
#ifdef KILN_HAVE_XNNPACK
    if (backend_ == Backend::kXnnpack) {
      xnnpack::Delegation d = xnnpack::delegate(ctx, std::move(op).value());
      delegated_ += d.delegated ? 1 : 0;
      ops_[&n] = std::move(d.op);
      continue;
    }
#endif
    ops_[&n] = std::move(op).value();
  }
  // Only values this graph owns (its inputs and its nodes' outputs) are freed here: values
  // captured from an outer scope may still be read after this subgraph finishes.
  std::set<int> owned(g.inputs.begin(), g.inputs.end());
  for (const Node& n : g.nodes) owned.insert(n.outputs.begin(), n.outputs.end());
  std::set<int> keep(g.outputs.begin(), g.outputs.end());
  for (const auto& [v, i] : last)
    if (owned.count(v) && !keep.count(v) && !model.values[static_cast<size_t>(v)].is_constant())
      plan.free_after[i].push_back(v);
  plans_[&g] = std::move(plan);
  return Status::Ok();
}

Op* Executor::op_for(const Node& n) const {
  auto it = ops_.find(&n);
  return it == ops_.end() ? nullptr : it->second.get();
}

Result<std::vector<Tensor>> Executor::run(const Model& model, const std::vector<std::pair<int, Tensor>>& inputs,
                                          RunPlan* plan) {
  Env env{model, std::vector<Tensor>(model.values.size()), plan};
  for (const auto& [v, t] : inputs) env.values[static_cast<size_t>(v)] = t;
  KILN_RETURN_IF_ERROR(run_graph(model, model.graph, env));
  std::vector<Tensor> outs;
  for (int o : model.graph.outputs) {
    const Tensor* t = env.get(o);
    if (!t) return internal_error("graph output '" + model.values[static_cast<size_t>(o)].name + "' was not computed");
    outs.push_back(*t);
  }
  return outs;
}

Status Executor::run_graph(const Model& model, const Graph& g, Env& env) {
  const GraphPlan& plan = plans_.at(&g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const double t0 = profiling_ ? now_ms() : 0;
    Status s = !is_control_flow(n.op_type) ? run_node(model, n, env)
               : n.op_type == "Loop"        ? run_loop(model, n, env)
               : n.op_type == "Scan"        ? run_scan(model, n, env)
                                            : run_if(model, n, env);
    KILN_RETURN_IF_ERROR(s);
    for (int v : plan.free_after[i]) env.values[static_cast<size_t>(v)] = Tensor();
    if (profiling_) {
      NodeTiming& t = profile_.nodes[node_index_.at(&n)];
      t.calls++;
      t.total_ms += now_ms() - t0;
    }
  }
  return Status::Ok();
}

Status Executor::run_node(const Model& model, const Node& n, Env& env) {
  Op* op = ops_.at(&n).get();
  // Scratch reused from node to node (run_node never nests), emptied before returning so
  // no tensor outlives its last reader.
  NodeScratch& sc = scratch_;
  struct Clear {
    NodeScratch& sc;
    ~Clear() {
      sc.ins.clear();
      sc.outs.clear();
    }
  } clear{sc};
  const size_t ni = n.inputs.size(), no = n.outputs.size();
  sc.ins.resize(ni);
  sc.infos.resize(ni);
  for (size_t i = 0; i < ni; ++i) {
    TensorInfo& info = sc.infos[i];
    if (n.inputs[i] == kNoValue) {
      info = TensorInfo();
      continue;
    }
    const Tensor* t = env.get(n.inputs[i]);
    if (!t)
      return internal_error(n.describe() + ": input '" + model.values[static_cast<size_t>(n.inputs[i])].name +
                            "' has no value");
    sc.ins[i] = *t;
    info.dtype = t->dtype();
    info.dims = t->dims();  // reuses the scratch's capacity
    info.value = &sc.ins[i];
  }
  sc.out_infos.assign(no, TensorInfo());
  Status s = op->infer(std::span<const TensorInfo>(sc.infos.data(), ni), sc.out_infos);
  if (!s.ok()) return Status(s.code(), with_node(n, s));
  sc.outs.resize(no);
  sc.in_arena.assign(no, nullptr);
  if (!op->is_view()) {
    for (size_t i = 0; i < no; ++i) {
      if (n.outputs[i] != kNoValue && env.plan) {
        sc.in_arena[i] =
            arena_slot(*env.plan, n.outputs[i], sc.out_infos[i], sc.outs[i], !op->writes_every_output());
        if (sc.in_arena[i]) continue;
      }
      auto t = Tensor::make(sc.out_infos[i].dtype, std::move(sc.out_infos[i].dims));
      if (!t.ok()) return Status(t.status().code(), with_node(n, t.status()));
      sc.outs[i] = std::move(t).value();
    }
  }
  s = op->run(sc.ins, sc.outs);
  if (!s.ok()) return Status(s.code(), with_node(n, s));
  // An op that swapped an arena output for another tensor may alias a value the plan
  // thought dead: stop reusing the arena (from here on and for this shape).
  for (size_t i = 0; i < no; ++i)
    if (sc.in_arena[i] && sc.outs[i].raw() != sc.in_arena[i]) env.plan->arena_disabled = true;
  for (size_t i = 0; i < no; ++i)
    if (n.outputs[i] != kNoValue) env.values[static_cast<size_t>(n.outputs[i])] = std::move(sc.outs[i]);
  return Status::Ok();
}

const void* Executor::arena_slot(RunPlan& plan, int value, const TensorInfo& info, Tensor& out, bool zero_fill) {
  if (plan.arena_disabled) return nullptr;
  const PlannedValue& pv = plan.values[static_cast<size_t>(value)];
  if (pv.offset < 0 || pv.dtype != info.dtype || pv.dims != info.dims) return nullptr;
  if (!plan.arena) {
    // 64 bytes of slack: vector kernels (XNNPACK's among them) may read a little past a
    // tensor's end without using the values; the last tensor in the arena stays in bounds.
    plan.arena = aligned_alloc_shared(plan.arena_bytes + 64);
    if (!plan.arena) return nullptr;  // fall back to one allocation per tensor
  }
  uint8_t* p = static_cast<uint8_t*>(plan.arena.get()) + pv.offset;
  // Ops may rely on zero-filled outputs, as Tensor::make gives them (all but those that
  // declare writes_every_output).
  if (zero_fill) std::memset(p, 0, static_cast<size_t>(num_elements(info.dims)) * dtype_size(info.dtype));
  out = Tensor::view(info.dtype, info.dims, plan.arena, p);
  return p;
}

Status Executor::run_if(const Model& model, const Node& n, Env& env) {
  const Tensor* cond = n.inputs.empty() ? nullptr : env.get(n.inputs[0]);
  if (!cond || cond->size() != 1)
    return invalid_argument(n.describe() + ": condition must be a tensor with one element");
  const bool take_then = cond->get_f64(0) != 0;
  const Attribute* a = n.attr(take_then ? "then_branch" : "else_branch");
  if (!a || a->kind != Attribute::Kind::kGraph || !a->g)
    return invalid_model(n.describe() + ": missing " + (take_then ? "then_branch" : "else_branch") + " graph");
  const Graph& branch = *a->g;
  if (branch.outputs.size() != n.outputs.size())
    return invalid_model(n.describe() + ": branch has " + std::to_string(branch.outputs.size()) +
                         " outputs, node has " + std::to_string(n.outputs.size()));
  KILN_RETURN_IF_ERROR(run_graph(model, branch, env));
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Tensor* t = env.get(branch.outputs[i]);
    if (!t) return internal_error(n.describe() + ": branch output " + std::to_string(i) + " was not computed");
    if (n.outputs[i] != kNoValue) env.values[static_cast<size_t>(n.outputs[i])] = *t;
  }
  clear_locals(branch, env);
  return Status::Ok();
}

void Executor::clear_locals(const Graph& g, Env& env) {
  for (int v : g.inputs)
    if (v != kNoValue) env.values[static_cast<size_t>(v)] = Tensor();
  for (const Node& n : g.nodes)
    for (int o : n.outputs)
      if (o != kNoValue) env.values[static_cast<size_t>(o)] = Tensor();
}

// Loop (opsets 11..21, tensors only): inputs M, cond (each optional), then N loop-carried
// initial values; the body maps (iteration, cond, N carried) to (cond, N carried, K scan
// outputs). Node outputs: the N final carried values, then the K scan outputs stacked
// along a new first axis.
Status Executor::run_loop(const Model& model, const Node& n, Env& env) {
  const Attribute* a = n.attr("body");
  if (!a || a->kind != Attribute::Kind::kGraph || !a->g) return invalid_model(n.describe() + ": missing body graph");
  const Graph& body = *a->g;
  if (n.inputs.size() < 2)
    return invalid_model(n.describe() + ": expects inputs M, cond and loop-carried values, got " +
                         std::to_string(n.inputs.size()) + " inputs");
  const size_t carried_count = n.inputs.size() - 2;
  if (body.inputs.size() != carried_count + 2 || body.outputs.size() < carried_count + 1 ||
      n.outputs.size() != body.outputs.size() - 1)
    return invalid_model(n.describe() + ": body has " + std::to_string(body.inputs.size()) + " inputs and " +
                         std::to_string(body.outputs.size()) + " outputs, node has " + std::to_string(n.inputs.size()) +
                         " inputs and " + std::to_string(n.outputs.size()) + " outputs");
  const size_t scan_count = body.outputs.size() - 1 - carried_count;
  auto scalar_input = [&](size_t i, const char* what) -> Result<const Tensor*> {
    if (n.inputs[i] == kNoValue) return nullptr;
    const Tensor* t = env.get(n.inputs[i]);
    if (!t || t->size() != 1)
      return invalid_argument(n.describe() + ": " + what + " must be a tensor with one element");
    return t;
  };
  KILN_ASSIGN_OR_RETURN(const Tensor* trip, scalar_input(0, "trip count M"));
  KILN_ASSIGN_OR_RETURN(const Tensor* cond_in, scalar_input(1, "cond"));
  if (!trip && !cond_in)
    return unsupported(n.describe() + ": a Loop with neither trip count nor condition never ends");
  const int64_t max_trips = trip ? trip->get_i64(0) : INT64_MAX;
  bool cond = cond_in ? cond_in->get_f64(0) != 0 : true;
  std::vector<Tensor> carried(carried_count);
  for (size_t k = 0; k < carried_count; ++k) {
    const Tensor* t = env.get(n.inputs[2 + k]);
    if (!t) return invalid_argument(n.describe() + ": loop-carried input " + std::to_string(k) + " has no value");
    carried[k] = *t;
  }
  std::vector<std::vector<Tensor>> scans(scan_count);
  int64_t i = 0;
  for (; i < max_trips && cond; ++i) {
    auto cond_t = Tensor::make(DType::kBool, {});
    if (!cond_t.ok()) return cond_t.status();
    cond_t->mutable_data<uint8_t>()[0] = 1;
    const Tensor iter = Tensor::from_i64({i}, {});
    auto bind = [&](int v, const Tensor& t) {
      if (v != kNoValue) env.values[static_cast<size_t>(v)] = t;
    };
    bind(body.inputs[0], iter);
    bind(body.inputs[1], *cond_t);
    for (size_t k = 0; k < carried_count; ++k) bind(body.inputs[2 + k], carried[k]);
    KILN_RETURN_IF_ERROR(run_graph(model, body, env));
    std::vector<Tensor> outs(body.outputs.size());
    for (size_t j = 0; j < outs.size(); ++j) {
      const Tensor* t = env.get(body.outputs[j]);
      if (!t) return internal_error(n.describe() + ": body output " + std::to_string(j) + " was not computed");
      outs[j] = *t;
    }
    clear_locals(body, env);
    if (cond_in) {  // without a cond input the body's condition is ignored (a for loop)
      if (outs[0].size() != 1)
        return invalid_argument(n.describe() + ": body condition output must have one element, got shape " +
                                dims_to_string(outs[0].dims()));
      cond = outs[0].get_f64(0) != 0;
    }
    for (size_t k = 0; k < carried_count; ++k) carried[k] = std::move(outs[1 + k]);
    for (size_t j = 0; j < scan_count; ++j) scans[j].push_back(std::move(outs[1 + carried_count + j]));
  }
  for (size_t k = 0; k < carried_count; ++k)
    if (n.outputs[k] != kNoValue) env.values[static_cast<size_t>(n.outputs[k])] = carried[k];
  for (size_t j = 0; j < scan_count; ++j) {
    const int out = n.outputs[carried_count + j];
    if (out == kNoValue) continue;
    KILN_ASSIGN_OR_RETURN(Tensor stacked, stack_scan(model, n, body.outputs[1 + carried_count + j], scans[j]));
    env.values[static_cast<size_t>(out)] = std::move(stacked);
  }
  return Status::Ok();
}

// Scan, opset 9+: inputs are N initial states then M scan inputs; the body maps (N states,
// one slice of each scan input) to (N states, K scan output slices). Opset 8 adds a first
// input sequence_lens and a batch axis 0 on every input and output; the scan axis is 1.
Status Executor::run_scan(const Model& model, const Node& n, Env& env) {
  const Attribute* a = n.attr("body");
  if (!a || a->kind != Attribute::Kind::kGraph || !a->g) return invalid_model(n.describe() + ": missing body graph");
  const Graph& body = *a->g;
  const bool batched = model.opset > 0 && model.opset < 9;
  const size_t first = batched ? 1 : 0;
  KILN_ASSIGN_OR_RETURN(int64_t m, n.attr_int("num_scan_inputs"));
  if (m < 1 || static_cast<size_t>(m) + first > n.inputs.size())
    return invalid_model(n.describe() + ": num_scan_inputs " + std::to_string(m) + " does not fit " +
                         std::to_string(n.inputs.size()) + " inputs");
  ScanShape sh;
  sh.states = n.inputs.size() - first - static_cast<size_t>(m);
  sh.scans_in = static_cast<size_t>(m);
  if (body.inputs.size() != sh.states + sh.scans_in || body.outputs.size() < sh.states ||
      n.outputs.size() != body.outputs.size())
    return invalid_model(n.describe() + ": body has " + std::to_string(body.inputs.size()) + " inputs and " +
                         std::to_string(body.outputs.size()) + " outputs, node has " +
                         std::to_string(n.inputs.size()) + " inputs and " + std::to_string(n.outputs.size()) +
                         " outputs");
  sh.scans_out = body.outputs.size() - sh.states;
  auto flags = [&](const char* name, size_t count, bool axes) -> Result<std::vector<int64_t>> {
    KILN_ASSIGN_OR_RETURN(auto v, n.attr_ints(name, std::vector<int64_t>(count, 0)));
    if (v.size() != count)
      return invalid_model(n.describe() + ": attribute " + name + " has " + std::to_string(v.size()) +
                           " entries, expected " + std::to_string(count));
    for (int64_t x : v)
      if (!axes && x != 0 && x != 1)
        return invalid_model(n.describe() + ": attribute " + name + " entries must be 0 or 1, got " + std::to_string(x));
    return v;
  };
  std::vector<Tensor> ins(n.inputs.size() - first);
  for (size_t i = 0; i < ins.size(); ++i) {
    const Tensor* t = env.get(n.inputs[first + i]);
    if (!t) return invalid_argument(n.describe() + ": input " + std::to_string(first + i) + " has no value");
    ins[i] = *t;
  }
  if (!batched) {
    KILN_ASSIGN_OR_RETURN(sh.in_dirs, flags("scan_input_directions", sh.scans_in, false));
    KILN_ASSIGN_OR_RETURN(sh.in_axes, flags("scan_input_axes", sh.scans_in, true));
    KILN_ASSIGN_OR_RETURN(sh.out_dirs, flags("scan_output_directions", sh.scans_out, false));
    KILN_ASSIGN_OR_RETURN(sh.out_axes, flags("scan_output_axes", sh.scans_out, true));
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> outs, scan_once(model, n, env, sh, std::move(ins), -1));
    for (size_t k = 0; k < outs.size(); ++k)
      if (n.outputs[k] != kNoValue) env.values[static_cast<size_t>(n.outputs[k])] = std::move(outs[k]);
    return Status::Ok();
  }
  // Opset 8: run each batch entry on its own (its sequence length may differ), scanning axis
  // 0 of the per-entry slices; scan outputs shorter than the longest are zero-padded.
  KILN_ASSIGN_OR_RETURN(sh.in_dirs, flags("directions", sh.scans_in, false));
  sh.in_axes.assign(sh.scans_in, 0);
  sh.out_dirs.assign(sh.scans_out, 0);
  sh.out_axes.assign(sh.scans_out, 0);
  if (ins.empty() || ins[0].rank() < 1) return invalid_argument(n.describe() + ": inputs need a batch axis");
  const int64_t batch = ins[0].dim(0);
  int64_t max_len = -1;
  for (size_t j = 0; j < sh.scans_in; ++j) {
    const Tensor& t = ins[sh.states + j];
    if (t.rank() < 2)
      return invalid_argument(n.describe() + ": scan input " + std::to_string(j) + " needs batch and sequence axes, got shape " +
                              dims_to_string(t.dims()));
    max_len = t.dim(1);
  }
  for (const Tensor& t : ins)
    if (t.rank() < 1 || t.dim(0) != batch)
      return invalid_argument(n.describe() + ": inputs disagree on the batch size " + std::to_string(batch) + ": shape " +
                              dims_to_string(t.dims()));
  const Tensor* lens = env.get(n.inputs[0]);
  if (lens && lens->size() != batch)
    return invalid_argument(n.describe() + ": sequence_lens has " + std::to_string(lens->size()) +
                            " entries, batch size is " + std::to_string(batch));
  std::vector<std::vector<Tensor>> per_output(n.outputs.size());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = lens ? lens->get_i64(b) : max_len;
    if (len < 0 || len > max_len)
      return invalid_argument(n.describe() + ": sequence length " + std::to_string(len) + " of batch entry " +
                              std::to_string(b) + " is outside [0, " + std::to_string(max_len) + "]");
    std::vector<Tensor> entry(ins.size());
    for (size_t i = 0; i < ins.size(); ++i) {
      auto s = take_along_axis(ins[i], 0, b);
      if (!s.ok()) return Status(s.status().code(), with_node(n, s.status()));
      entry[i] = std::move(s).value();
    }
    KILN_ASSIGN_OR_RETURN(std::vector<Tensor> outs, scan_once(model, n, env, sh, std::move(entry), len));
    for (size_t k = 0; k < outs.size(); ++k) {
      if (k >= sh.states && outs[k].dim(0) < max_len) {  // pad the scan axis to max_len
        std::vector<Tensor> rows;
        for (int64_t r = 0; r < outs[k].dim(0); ++r) {
          KILN_ASSIGN_OR_RETURN(Tensor row, take_along_axis(outs[k], 0, r));
          rows.push_back(std::move(row));
        }
        if (rows.empty()) {  // nothing scanned: a zero row of the declared shape
          Dims d(outs[k].dims().begin() + 1, outs[k].dims().end());
          KILN_ASSIGN_OR_RETURN(Tensor zero, Tensor::make(outs[k].dtype(), d));
          rows.push_back(std::move(zero));
        }
        KILN_ASSIGN_OR_RETURN(outs[k], stack_along_axis(rows, 0, max_len));
      }
      per_output[k].push_back(std::move(outs[k]));
    }
  }
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    if (n.outputs[k] == kNoValue || per_output[k].empty()) continue;
    auto stacked = stack_along_axis(per_output[k], 0, batch);
    if (!stacked.ok()) return Status(stacked.status().code(), with_node(n, stacked.status()));
    env.values[static_cast<size_t>(n.outputs[k])] = std::move(stacked).value();
  }
  return Status::Ok();
}

// One scan: `ins` holds the N initial states then the M scan inputs; `len` < 0 means the
// full scan-axis length. Returns the N final states then the K stacked scan outputs.
Result<std::vector<Tensor>> Executor::scan_once(const Model& model, const Node& n, Env& env, const ScanShape& sh,
                                                std::vector<Tensor> ins, int64_t len) {
  const Graph& body = *n.attr("body")->g;
  std::vector<int64_t> axes(sh.scans_in);
  int64_t full = -1;
  for (size_t j = 0; j < sh.scans_in; ++j) {
    const Tensor& t = ins[sh.states + j];
    int64_t ax = sh.in_axes[j] < 0 ? sh.in_axes[j] + t.rank() : sh.in_axes[j];
    if (ax < 0 || ax >= t.rank())
      return invalid_argument(n.describe() + ": scan input axis " + std::to_string(sh.in_axes[j]) +
                              " is out of range for shape " + dims_to_string(t.dims()));
    if (full >= 0 && t.dim(ax) != full)
      return invalid_argument(n.describe() + ": scan inputs disagree on the sequence length: " + std::to_string(full) +
                              " vs " + std::to_string(t.dim(ax)));
    full = t.dim(ax);
    axes[j] = ax;
  }
  if (len < 0) len = full;
  std::vector<Tensor> states(ins.begin(), ins.begin() + static_cast<std::ptrdiff_t>(sh.states));
  std::vector<std::vector<Tensor>> parts(sh.scans_out);
  for (int64_t it = 0; it < len; ++it) {
    auto bind = [&](int v, Tensor t) {
      if (v != kNoValue) env.values[static_cast<size_t>(v)] = std::move(t);
    };
    for (size_t k = 0; k < sh.states; ++k) bind(body.inputs[k], states[k]);
    for (size_t j = 0; j < sh.scans_in; ++j) {
      const int64_t at = sh.in_dirs[j] ? len - 1 - it : it;
      auto slice = take_along_axis(ins[sh.states + j], axes[j], at);
      if (!slice.ok()) return Status(slice.status().code(), with_node(n, slice.status()));
      bind(body.inputs[sh.states + j], std::move(slice).value());
    }
    KILN_RETURN_IF_ERROR(run_graph(model, body, env));
    std::vector<Tensor> outs(body.outputs.size());
    for (size_t j = 0; j < outs.size(); ++j) {
      const Tensor* t = env.get(body.outputs[j]);
      if (!t) return internal_error(n.describe() + ": body output " + std::to_string(j) + " was not computed");
      outs[j] = *t;
    }
    clear_locals(body, env);
    for (size_t k = 0; k < sh.states; ++k) states[k] = std::move(outs[k]);
    for (size_t j = 0; j < sh.scans_out; ++j) parts[j].push_back(std::move(outs[sh.states + j]));
  }
  std::vector<Tensor> result = std::move(states);
  for (size_t j = 0; j < sh.scans_out; ++j) {
    if (parts[j].empty()) {  // no iteration: an empty scan axis, the rest from the body's declaration
      KILN_ASSIGN_OR_RETURN(Tensor empty, stack_scan(model, n, body.outputs[sh.states + j], {}));
      result.push_back(std::move(empty));
      continue;
    }
    if (sh.out_dirs[j]) std::reverse(parts[j].begin(), parts[j].end());  // reverse: last iteration first
    const int64_t rank = parts[j][0].rank() + 1;
    const int64_t ax = sh.out_axes[j] < 0 ? sh.out_axes[j] + rank : sh.out_axes[j];
    if (ax < 0 || ax >= rank)
      return invalid_argument(n.describe() + ": scan output axis " + std::to_string(sh.out_axes[j]) +
                              " is out of range for rank " + std::to_string(rank));
    auto stacked = stack_along_axis(parts[j], ax, static_cast<int64_t>(parts[j].size()));
    if (!stacked.ok()) return Status(stacked.status().code(), with_node(n, stacked.status()));
    result.push_back(std::move(stacked).value());
  }
  return result;
}

// Stacks the per-iteration values of one scan output along a new first axis. With no
// iteration the result is empty, shaped from what the body declares.
Result<Tensor> Executor::stack_scan(const Model& model, const Node& n, int body_output, const std::vector<Tensor>& parts) {
  if (parts.empty()) {
    const Value& v = model.values[static_cast<size_t>(body_output)];
    Dims dims = {0};
    if (v.shape && shape_is_fixed(*v.shape))
      for (int64_t d : shape_dims(*v.shape)) dims.push_back(d);
    return Tensor::make(v.dtype == DType::kUndefined ? DType::kF32 : v.dtype, dims);
  }
  Dims dims = parts[0].dims();
  dims.insert(dims.begin(), static_cast<int64_t>(parts.size()));
  KILN_ASSIGN_OR_RETURN(Tensor out, Tensor::make(parts[0].dtype(), dims));
  uint8_t* dst = static_cast<uint8_t*>(out.mutable_raw());
  for (const Tensor& p : parts) {
    if (p.dtype() != parts[0].dtype() || p.dims() != parts[0].dims())
      return invalid_argument(n.describe() + ": scan output changes from " + dtype_name(parts[0].dtype()) +
                              dims_to_string(parts[0].dims()) + " to " + dtype_name(p.dtype()) +
                              dims_to_string(p.dims()) + " between iterations");
    std::memcpy(dst, p.raw(), p.bytes());
    dst += p.bytes();
  }
  return out;
}

}  // namespace kiln
