#include "graph/passes/pipeline.h"

#include <algorithm>

#include "graph/passes/eliminate_dead.h"
#include "graph/passes/fold_constants.h"
#include "graph/passes/inline_constant_if.h"
#include "graph/passes/passes.h"
#include "graph/shape_inference.h"

namespace kiln {
namespace {

using PassFn = Result<PassResult> (*)(Model&);

Result<PassResult> fold_constants_pass(Model& m) {
  FoldStats s;
  KILN_RETURN_IF_ERROR(fold_constants(m, {}, &s));
  PassResult r;
  if (s.folded_nodes > 0) {
    r.rewrites = s.folded_nodes;
    r.patterns["folded"] = s.folded_nodes;
  }
  if (s.removed_nodes > 0) {
    r.rewrites += s.removed_nodes;
    r.patterns["dead"] = s.removed_nodes;
  }
  return r;
}

Result<PassResult> inline_constant_if_pass(Model& m) {
  KILN_ASSIGN_OR_RETURN(int inlined, inline_constant_if(m));
  PassResult r;
  if (inlined > 0) {
    r.rewrites = inlined;
    r.patterns["If with constant condition"] = inlined;
  }
  return r;
}

struct Entry {
  const char* name;
  PassFn fn;
};
// Order matters: folding first (shapes, constant weights); identities before pattern
// matching; hard-swish and layer-norm/GELU recognized before fuse_mul_add could take their
// Mul/Add parts; MatMul+Add before Mul+Add may fold into it; activations onto the final
// producers; the channels-last layout on the fused convolutions, then whole static int8
// QDQ groups onto the int8 ops, then the remaining int8 QDQ weights (under float
// activations) onto the kiln.NhwcConv it made.
constexpr Entry kPasses[] = {
    {"fold_constants", fold_constants_pass},
    {"inline_constant_if", inline_constant_if_pass},  // folding made the condition constant
    {"unfold_quant_ops", unfold_quant_ops},  // pre-quantized ONNX ops -> QDQ, before any fusion
    {"eliminate_identity", eliminate_identity},
    {"sink_transposes", sink_transposes},
    {"fuse_hard_swish", fuse_hard_swish},
    {"fold_batchnorm", fold_batchnorm},
    {"fuse_layer_norm", fuse_layer_norm},
    {"fuse_gelu", fuse_gelu},
    {"fuse_matmul_add", fuse_matmul_add},
    {"fuse_mul_add", fuse_mul_add},
    {"fold_affine_into_conv", fold_affine_into_conv},
    {"fuse_activation", fuse_activation},
    {"nhwc_layout", nhwc_layout},  // after fusion: copies the fused activations
    {"fuse_qdq", fuse_qdq},        // static int8: DQ -> op -> Q on kiln.NhwcConv / MatMul
    {"import_qdq_weights", import_qdq_weights},  // int8 QDQ weights, on kiln.NhwcConv too
};

void count(const Graph& g, int& n) {
  for (const Node& node : g.nodes) {
    ++n;
    for (const auto& [name, a] : node.attrs)
      if (a.kind == Attribute::Kind::kGraph && a.g) count(*a.g, n);
  }
}

// After a rewrite: drop killed nodes and unused values, re-sort, re-infer shapes.
Status clean_up(Model& m, const char* pass) {
  Status s = validate_and_sort(m);
  if (s.ok()) s = eliminate_dead(m);
  if (s.ok()) s = infer_shapes(m);
  if (!s.ok()) return internal_error(std::string("graph optimizer pass ") + pass + " broke the graph: " + s.message());
  return Status::Ok();
}

}  // namespace

int total_nodes(const Model& model) {
  int n = 0;
  count(model.graph, n);
  return n;
}

std::vector<std::string> default_passes() {
  std::vector<std::string> r;
  for (const Entry& e : kPasses) r.push_back(e.name);
  return r;
}

namespace {
Result<PassReport> run_entry(Model& model, const Entry& e, int round) {
  PassReport rep;
  rep.pass = e.name;
  rep.round = round;
  rep.nodes_before = total_nodes(model);
  const std::map<std::string, int> ops_before = op_histogram(model);
  auto res = e.fn(model);
  if (!res.ok()) return res.status().with_context(std::string("graph optimizer pass ") + e.name);
  if (res->rewrites > 0) KILN_RETURN_IF_ERROR(clean_up(model, e.name));
  rep.rewrites = res->rewrites;
  rep.patterns = res->patterns;
  rep.nodes_after = total_nodes(model);
  std::map<std::string, int> delta;
  for (const auto& [op, n] : ops_before) delta[op] -= n;
  for (const auto& [op, n] : op_histogram(model)) delta[op] += n;
  for (const auto& [op, d] : delta)
    if (d != 0) rep.op_delta[op] = d;
  return rep;
}
}  // namespace

Result<PassReport> run_pass(Model& model, const std::string& name) {
  for (const Entry& e : kPasses)
    if (name == e.name) {
      KILN_RETURN_IF_ERROR(infer_shapes(model));
      return run_entry(model, e, 1);
    }
  return invalid_argument("no graph optimizer pass named '" + name + "'");
}

Status optimize(Model& model, const PipelineOptions& options, std::vector<PassReport>* reports) {
  KILN_RETURN_IF_ERROR(infer_shapes(model));
  for (int round = 1; round <= std::max(1, options.max_rounds); ++round) {
    int changed = 0;
    for (const Entry& e : kPasses) {
      if (std::find(options.skip.begin(), options.skip.end(), e.name) != options.skip.end()) continue;
      KILN_ASSIGN_OR_RETURN(PassReport rep, run_entry(model, e, round));
      if (rep.rewrites > 0) ++changed;
      if (reports && (round == 1 || rep.rewrites > 0)) reports->push_back(std::move(rep));
    }
    if (changed == 0) break;
  }
  return Status::Ok();
}

std::string describe(const PassReport& r) {
  std::string s = r.pass;
  if (r.round > 1) s += " (round " + std::to_string(r.round) + ")";
  s += ": " + std::to_string(r.rewrites) + (r.rewrites == 1 ? " rewrite" : " rewrites");
  if (!r.patterns.empty()) {
    s += " (";
    bool first = true;
    for (const auto& [label, n] : r.patterns) {
      s += (first ? "" : ", ") + label + " \u00d7" + std::to_string(n);
      first = false;
    }
    s += ")";
  }
  s += "; nodes " + std::to_string(r.nodes_before) + " \u2192 " + std::to_string(r.nodes_after);
  if (!r.op_delta.empty()) {
    s += "; ops";
    for (const auto& [op, d] : r.op_delta) s += " " + op + (d > 0 ? " +" : " ") + std::to_string(d);
  }
  return s;
}

}  // namespace kiln
