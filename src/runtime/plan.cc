#include "runtime/plan.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "ops/registry.h"

namespace kiln {

namespace {

void graph_captures(const Graph& g, std::set<int>& out) {
  std::set<int> produced(g.inputs.begin(), g.inputs.end()), reads;
  for (const Node& n : g.nodes) {
    node_reads(n, reads);
    produced.insert(n.outputs.begin(), n.outputs.end());
  }
  reads.insert(g.outputs.begin(), g.outputs.end());
  for (int r : reads)
    if (!produced.count(r)) out.insert(r);
}

bool has_subgraph(const Node& n) {
  for (const auto& [name, a] : n.attrs)
    if (a.kind == Attribute::Kind::kGraph) return true;
  return false;
}

// Ops whose result must not be computed ahead of time even when all inputs are known.
bool nondeterministic(const Node& n) {
  static const std::set<std::string> kRandom = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                "RandomUniformLike", "Multinomial", "Bernoulli"};
  return kRandom.count(n.op_type) > 0;
}

// Small results (shape arithmetic) are computed while planning so later Reshape/Expand/...
// see the values their shapes depend on; big tensors are left to the real run.
constexpr int64_t kMaxPlanTimeElements = 1024;

struct Known {
  bool dims_known = false;
  DType dtype = DType::kUndefined;
  Dims dims;
  std::optional<Tensor> value;
};

// Fills known[] for one node's outputs; returns true when its output dims are known.
bool plan_node(const Node& n, Op* op, std::vector<Known>& known) {
  if (!op) return false;
  std::vector<TensorInfo> in(n.inputs.size());
  bool all_values = !n.inputs.empty();
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == kNoValue) continue;
    const Known& k = known[static_cast<size_t>(n.inputs[i])];
    if (!k.dims_known) return false;
    in[i].dtype = k.dtype;
    in[i].dims = k.dims;
    in[i].value = k.value ? &*k.value : nullptr;
    all_values = all_values && k.value.has_value();
  }
  std::vector<TensorInfo> out(n.outputs.size());
  if (!op->infer(in, out).ok()) return false;
  int64_t out_elements = 0;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] == kNoValue) continue;
    if (!out[i].present()) return false;
    for (int64_t d : out[i].dims)
      if (d < 0) return false;
    Known& k = known[static_cast<size_t>(n.outputs[i])];
    k.dims_known = true;
    k.dtype = out[i].dtype;
    k.dims = out[i].dims;
    out_elements += num_elements(out[i].dims);
  }
  // Shape and Size read only dims, so they are computable without their input's data.
  const bool dims_only = n.domain.empty() && (n.op_type == "Shape" || n.op_type == "Size");
  if ((!all_values && !dims_only) || nondeterministic(n) || out_elements > kMaxPlanTimeElements) return true;
  std::vector<Tensor> ins(n.inputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == kNoValue) continue;
    const Known& k = known[static_cast<size_t>(n.inputs[i])];
    ins[i] = k.value ? *k.value : Tensor::view(k.dtype, k.dims, nullptr, nullptr);
  }
  std::vector<Tensor> outs(n.outputs.size());
  if (!op->is_view())
    for (size_t i = 0; i < outs.size(); ++i) {
      auto t = Tensor::make(out[i].dtype, out[i].dims);
      if (!t.ok()) return true;
      outs[i] = std::move(t).value();
    }
  if (!op->run(ins, outs).ok()) return true;
  for (size_t i = 0; i < outs.size(); ++i)
    if (n.outputs[i] != kNoValue && outs[i].defined())
      known[static_cast<size_t>(n.outputs[i])].value = outs[i];
  return true;
}

size_t round_up64(size_t b) { return (b + 63) / 64 * 64; }

}  // namespace

void node_reads(const Node& n, std::set<int>& out) {
  for (int i : n.inputs)
    if (i != kNoValue) out.insert(i);
  for (const auto& [name, a] : n.attrs)
    if (a.kind == Attribute::Kind::kGraph && a.g) graph_captures(*a.g, out);
}

Result<std::shared_ptr<RunPlan>> build_run_plan(const Model& model, const std::vector<Dims>& input_dims,
                                                const std::function<Op*(const Node&)>& op_for) {
  const Graph& g = model.graph;
  if (input_dims.size() != g.inputs.size())
    return internal_error("run plan: " + std::to_string(input_dims.size()) + " input shapes for " +
                          std::to_string(g.inputs.size()) + " inputs");
  const size_t nv = model.values.size();
  std::vector<Known> known(nv);
  for (size_t v = 0; v < nv; ++v)
    if (const auto& data = model.values[v].data) known[v] = Known{true, data->dtype(), data->dims(), *data};
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    Known& k = known[static_cast<size_t>(g.inputs[i])];
    k.dims_known = true;
    k.dtype = model.values[static_cast<size_t>(g.inputs[i])].dtype;
    k.dims = input_dims[i];
  }

  auto plan = std::make_shared<RunPlan>();
  plan->values.resize(nv);
  constexpr size_t kForever = std::numeric_limits<size_t>::max();
  std::vector<size_t> def(nv, kForever), last(nv, 0);
  std::vector<std::vector<int>> roots(nv);  // the arena candidates a value may alias
  std::vector<bool> candidate(nv, false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const bool control = has_subgraph(n) || is_control_flow(n.op_type);
    Op* op = control ? nullptr : op_for(n);
    const bool planned = plan_node(n, op, known);
    (planned ? plan->planned_nodes : plan->dynamic_nodes)++;
    std::set<int> reads;
    node_reads(n, reads);
    for (int r : reads) last[static_cast<size_t>(r)] = i;
    // A view (or a control-flow node returning an outer value) may alias anything it reads.
    const bool aliases = control || !op || op->is_view();
    std::vector<int> read_roots;
    if (aliases)
      for (int r : reads) read_roots.insert(read_roots.end(), roots[static_cast<size_t>(r)].begin(),
                                            roots[static_cast<size_t>(r)].end());
    for (int o : n.outputs) {
      if (o == kNoValue) continue;
      const size_t ov = static_cast<size_t>(o);
      def[ov] = last[ov] = i;
      if (aliases) {
        roots[ov] = read_roots;
      } else {
        roots[ov] = {o};
        candidate[ov] = planned;
      }
      if (planned) {
        PlannedValue& pv = plan->values[ov];
        pv.planned = true;
        pv.dtype = known[ov].dtype;
        pv.dims = known[ov].dims;
      }
    }
  }

  // Lifetime of each candidate buffer: until the last read of anything aliasing it.
  std::vector<size_t> end(nv, 0);
  for (size_t v = 0; v < nv; ++v)
    for (int r : roots[v]) end[static_cast<size_t>(r)] = std::max(end[static_cast<size_t>(r)], last[v]);
  for (int o : g.outputs)
    if (o != kNoValue)
      for (int r : roots[static_cast<size_t>(o)]) candidate[static_cast<size_t>(r)] = false;

  struct Buf {
    size_t v, bytes, first, last;
    int64_t offset;
  };
  std::vector<Buf> bufs;
  for (size_t v = 0; v < nv; ++v) {
    if (!candidate[v]) continue;
    const PlannedValue& pv = plan->values[v];
    const size_t bytes = static_cast<size_t>(num_elements(pv.dims)) * dtype_size(pv.dtype);
    if (bytes == 0) continue;
    bufs.push_back({v, round_up64(bytes), def[v], std::max(end[v], def[v]), -1});
  }
  std::sort(bufs.begin(), bufs.end(), [](const Buf& a, const Buf& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.first < b.first;
  });
  std::vector<const Buf*> placed;
  for (Buf& b : bufs) {
    std::vector<const Buf*> live;
    for (const Buf* p : placed)
      if (p->first <= b.last && b.first <= p->last) live.push_back(p);
    std::sort(live.begin(), live.end(), [](const Buf* x, const Buf* y) { return x->offset < y->offset; });
    size_t offset = 0;
    for (const Buf* p : live) {
      if (offset + b.bytes <= static_cast<size_t>(p->offset)) break;
      offset = std::max(offset, static_cast<size_t>(p->offset) + p->bytes);
    }
    b.offset = static_cast<int64_t>(offset);
    placed.push_back(&b);
    plan->values[b.v].offset = b.offset;
    plan->arena_bytes = std::max(plan->arena_bytes, offset + b.bytes);
    plan->unshared_bytes += b.bytes;
    plan->arena_values++;
  }
  return plan;
}

}  // namespace kiln
