// kiln compress --target-ratio R: per-layer precision under a size budget
// (compress/precision_budget.h), wired to the int4 and int8 passes and --fp16.
#include <filesystem>
#include <iostream>
#include <set>

#include "cli_util.h"
#include "cmd_compress.h"
#include "compress/precision_budget.h"

namespace kiln::cli {

Status precision_budget_step(const CompressOptions& o, const CompressPlan& p, const Int4BlockOptions& int4,
                             const CompressMode& int8, Model& model, CompressResults& r) {
  std::error_code ec;
  const auto original_bytes = std::filesystem::file_size(o.input, ec);
  if (ec) return invalid_argument("cannot read the size of " + o.input + ": " + ec.message());
  // The candidates: the layers int4 takes (the user's exclusions and --int4-conv apply) ...
  Model probe = model;
  Int4BlockOptions po = int4;
  po.exclude = o.exclude;
  KILN_ASSIGN_OR_RETURN(Int4BlockStats ps, quantize_int4_block(probe, po));
  // ... and those only int8 takes (depthwise, the stem): int8 or float. Named main-graph
  // nodes only: a subgraph's (If / Loop bodies) or an unnamed one stays as the passes leave it.
  KILN_ASSIGN_OR_RETURN(CompressedModel probe8, int8(probe, o.exclude));
  std::set<std::string> main_graph;
  for (const Node& n : model.graph.nodes)
    if (!n.name.empty()) main_graph.insert(n.name);
  std::vector<std::string> layers;
  for (const auto* list : {&ps.converted_nodes, &probe8.layers})
    for (const std::string& n : *list)
      if (main_graph.count(n)) layers.push_back(n);
  if (layers.empty()) return invalid_argument("--target-ratio: int4 and int8 convert no (named) layer of this model's main graph");
  std::vector<std::string> all_nodes;
  for (const Node& n : model.graph.nodes) all_nodes.push_back(n.name);

  // The mix: int4 with the min form where chosen, then int8 on the layers chosen int8 (with
  // --int8 also on whatever is outside the budget), then, for the measurement, --fp16.
  bool finish = true;
  MixedMode mode = [&](const Model& m, const std::map<std::string, WeightPrecision>& choice) -> Result<MixedModel> {
    MixedModel mm{m, {}};
    Int4BlockOptions io = int4;
    io.exclude = o.exclude;
    io.asymmetric = false;
    std::set<std::string> to_int8;
    std::vector<std::string> keep = o.exclude;
    for (const auto& [node, prec] : choice) {
      if (prec == WeightPrecision::kInt8 || prec == WeightPrecision::kFloat) io.exclude.push_back(node);
      if (prec == WeightPrecision::kInt4Min) io.asymmetric_nodes.push_back(node);
      if (prec == WeightPrecision::kInt8) to_int8.insert(node);
      if (prec == WeightPrecision::kFloat) keep.push_back(node);
    }
    KILN_ASSIGN_OR_RETURN(r.int4, quantize_int4_block(mm.model, io));
    for (const std::string& n : r.int4.converted_nodes) {
      auto it = choice.find(n);
      const bool min = it != choice.end() && it->second == WeightPrecision::kInt4Min;
      mm.converted[size_t(min ? WeightPrecision::kInt4Min : WeightPrecision::kInt4)].push_back(n);
    }
    if (!o.int8)
      for (const std::string& n : all_nodes)
        if (!to_int8.count(n)) keep.push_back(n);
    KILN_ASSIGN_OR_RETURN(CompressedModel q8, int8(mm.model, keep));
    mm.model = std::move(q8.model);
    for (const std::string& n : q8.layers)
      if (to_int8.count(n)) mm.converted[size_t(WeightPrecision::kInt8)].push_back(n);
    for (const auto& [node, prec] : choice)
      if (prec == WeightPrecision::kFloat) mm.converted[size_t(WeightPrecision::kFloat)].push_back(node);
    if (finish && o.fp16) {
      Fp16Options fo;
      fo.min_elements = o.min_elements;
      fo.exclude = o.exclude;
      KILN_ASSIGN_OR_RETURN(Fp16Stats fs, store_weights_fp16(mm.model, fo));
      (void)fs;
    }
    return mm;
  };

  PrecisionBudgetOptions bo;
  bo.target_ratio = o.target_ratio;
  bo.original_bytes = int64_t(original_bytes);
  bo.reserve_bytes = 4096 + 192 * int64_t(layers.size());  // the report stored in the metadata
  bo.eval.data.count = o.eval_count;
  bo.eval.data.seed = 1000;  // not kiln eval's set (seed 1): the choice is scored on inputs it never saw
  bo.eval.data.input_dims = p.dims;
  if (!o.keys.empty()) {
    KILN_ASSIGN_OR_RETURN(bo.eval.keys, load_ctc_keys(o.keys));
  }
  bo.progress = [](const std::string& what, double db) {
    if (what == "final") return;
    std::fprintf(stderr, "  target ratio: %s alone, output SNR %s\n", what.c_str(),
                 std::isinf(db) ? "exact" : fmt("%.1f dB", db).c_str());
  };
  KILN_ASSIGN_OR_RETURN(PrecisionBudgetResult b, precision_budget(model, layers, mode, bo));

  // The chosen mix once more without --fp16 (its own step follows and reports it).
  std::map<std::string, WeightPrecision> choice;
  for (const BudgetedLayer& l : b.layers) choice[l.node] = l.precision;
  finish = false;
  KILN_ASSIGN_OR_RETURN(MixedModel final_model, mode(model, choice));
  model = std::move(final_model.model);

  std::array<int, kWeightPrecisions> count{};
  for (const BudgetedLayer& l : b.layers) ++count[size_t(l.precision)];
  std::cout << "target ratio " << fmt("%.2fx", o.target_ratio) << ": budget " << human_bytes(uint64_t(b.budget_bytes))
            << ", every layer at its cheapest " << human_bytes(uint64_t(b.cheapest_bytes)) << " -> " << count[0] << " int4, "
            << count[1] << " int4-min, " << count[2] << " int8, " << count[3] << " float"
            << (o.fp16 ? " (float16)" : "") << ", " << human_bytes(uint64_t(b.file_bytes))
            << (b.met ? "" : " (over the budget: even every layer at its cheapest does not fit)") << "\n";
  nlohmann::json& out = r.budget_report;
  out["target_ratio"] = o.target_ratio;
  out["budget_bytes"] = b.budget_bytes;
  out["cheapest_bytes"] = b.cheapest_bytes;
  out["bytes_before_report"] = b.file_bytes;
  out["met"] = b.met;
  out["measurements"] = b.measurements;
  out["eval_inputs"] = o.eval_count;
  out["layers"] = nlohmann::json::array();
  for (const BudgetedLayer& l : b.layers) {
    nlohmann::json j{{"node", l.node}, {"precision", weight_precision_name(l.precision)}, {"bytes", l.bytes}};
    std::cout << "  " << l.node << ": " << weight_precision_name(l.precision) << " ("
              << human_bytes(uint64_t(l.bytes)) << "; output SNR alone:";
    for (int q = 0; q < kWeightPrecisions - 1; ++q) {
      const double db = l.snr_db[size_t(q)];
      const char* name = weight_precision_name(static_cast<WeightPrecision>(q));
      std::cout << " " << name << " " << (std::isinf(db) ? std::string("-") : fmt("%.1f dB", db));
      if (!std::isinf(db)) j["output_snr_db_alone"][name] = db;
    }
    std::cout << ")\n";
    out["layers"].push_back(j);
  }
  return Status::Ok();
}

}  // namespace kiln::cli
