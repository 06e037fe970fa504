// kiln inspect: what a .kiln file holds (interface, ops, weights, segments, metadata), or
// with --passes what each graph-optimizer pass changes on a model (.onnx or .kiln).
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "commands.h"
#include "format/model_generated.h"
#include "format/model_io.h"
#include "graph/passes/pipeline.h"
#include "graph/shape_inference.h"
#include "import/onnx_import.h"
#include "runtime/session.h"

namespace kiln::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
  bool passes = false;
};

nlohmann::ordered_json shape_json(const Value& v) {
  if (!v.shape) return nullptr;
  auto a = nlohmann::ordered_json::array();
  for (const Dim& d : *v.shape) {
    if (d.fixed()) a.push_back(d.size);
    else if (!d.param.empty()) a.push_back(d.param);
    else a.push_back(nullptr);
  }
  return a;
}

std::string shape_text(const Value& v) { return v.shape ? shape_to_string(*v.shape) : "(rank unknown)"; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Runs the optimizer on the model as stored (an ONNX file as imported, a .kiln file as
// converted) and prints one line per pass.
int run_passes(const InspectOptions& o) {
  Result<Model> model = invalid_argument("unreachable");
  if (ends_with(o.path, ".onnx")) {
    model = import_onnx(o.path);
  } else {
    auto bytes = read_model_file(o.path);
    if (!bytes.ok()) return fail(bytes.status());
    model = read_model(*bytes);
  }
  if (!model.ok()) return fail(model.status().with_context(o.path));
  Model& m = *model;
  std::vector<PassReport> reports;
  const int before = total_nodes(m);
  Status s = optimize(m, {}, &reports);
  if (!s.ok()) return fail(s.with_context(o.path));
  if (o.json) {
    auto list = nlohmann::ordered_json::array();
    for (const PassReport& r : reports)
      list.push_back({{"pass", r.pass}, {"round", r.round}, {"rewrites", r.rewrites}, {"patterns", r.patterns},
                      {"nodes_before", r.nodes_before}, {"nodes_after", r.nodes_after}, {"op_delta", r.op_delta}});
    nlohmann::ordered_json j;
    j["file"] = o.path;
    j["nodes_before"] = before;
    j["nodes_after"] = total_nodes(m);
    j["passes"] = list;
    j["ops_after"] = op_histogram(m);
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return 0;
  }
  std::cout << o.path << ": " << before << " nodes as stored\n";
  for (const PassReport& r : reports) std::cout << "  " << describe(r) << "\n";
  std::cout << "optimized: " << total_nodes(m) << " nodes\n";
  for (const auto& [op, n] : op_histogram(m)) std::cout << "  " << op << " " << n << "\n";
  return 0;
}

// The run plan's arena when every input shape is fixed; empty when shapes are symbolic.
std::string memory_plan_text(const std::shared_ptr<const std::vector<uint8_t>>& bytes, const Model& m) {
  std::vector<Dims> dims;
  for (int v : m.graph.inputs) {
    const Value& val = m.values[static_cast<size_t>(v)];
    if (!val.shape || !shape_is_fixed(*val.shape)) return "";
    dims.push_back(shape_dims(*val.shape));
  }
  auto session = Session::create(bytes);
  if (!session.ok()) return "cannot plan: " + session.status().message();
  auto info = (*session)->plan_info(dims);
  if (!info.ok()) return "cannot plan: " + info.status().message();
  return "arena " + human_bytes(info->arena_bytes) + " for " + std::to_string(info->arena_values) +
         " intermediates (" + human_bytes(info->unshared_bytes) + " without reuse); " +
         std::to_string(info->planned_nodes) + " nodes planned, " + std::to_string(info->dynamic_nodes) +
         " resolved while running";
}

int run_inspect(const InspectOptions& o) {
  if (o.passes) return run_passes(o);
  auto bytes = read_model_file(o.path);
  if (!bytes.ok()) return fail(bytes.status());
  auto model = read_model(*bytes);
  if (!model.ok()) return fail(model.status().with_context(o.path));
  const Model& m = *model;
  // The reader verified the table, so reading the header fields directly is safe.
  const fb::Model* table = fb::GetSizePrefixedModel((*bytes)->data());
  const uint32_t version = table->format_version();
  uint64_t segment_bytes = 0;
  const int segments = table->segments() ? static_cast<int>(table->segments()->size()) : 0;
  for (int i = 0; i < segments; ++i) segment_bytes += table->segments()->Get(static_cast<flatbuffers::uoffset_t>(i))->length();

  if (o.json) {
    nlohmann::ordered_json j;
    j["file"] = o.path;
    j["file_bytes"] = (*bytes)->size();
    j["format_version"] = version;
    j["producer"] = m.producer;
    j["source_sha256"] = m.source_sha256;
    j["opset"] = m.opset;
    for (const char* which : {"inputs", "outputs"}) {
      auto list = nlohmann::ordered_json::array();
      for (int idx : std::string(which) == "inputs" ? m.graph.inputs : m.graph.outputs) {
        const Value& v = m.values[static_cast<size_t>(idx)];
        list.push_back({{"name", v.name}, {"dtype", dtype_name(v.dtype)}, {"shape", shape_json(v)}});
      }
      j[which] = list;
    }
    j["nodes"] = count_nodes(m);
    j["ops"] = op_histogram(m);
    j["parameters"] = count_parameters(m);
    j["bytes_by_dtype"] = constant_bytes_by_dtype(m);
    j["segments"] = {{"count", segments}, {"bytes", segment_bytes}};
    auto meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : m.metadata) meta[k] = v;
    j["metadata"] = meta;
    // Names come from the model file: replace invalid UTF-8 instead of throwing.
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return 0;
  }

  std::cout << o.path << " (" << human_bytes((*bytes)->size()) << ")\n"
            << "  format version  " << version << "\n"
            << "  producer        " << (m.producer.empty() ? "-" : m.producer) << "\n"
            << "  source sha256   " << (m.source_sha256.empty() ? "-" : m.source_sha256) << "\n"
            << "  opset           " << m.opset << "\n";
  std::cout << "inputs:\n";
  for (int idx : m.graph.inputs) {
    const Value& v = m.values[static_cast<size_t>(idx)];
    std::cout << "  " << v.name << "  " << dtype_name(v.dtype) << " " << shape_text(v) << "\n";
  }
  std::cout << "outputs:\n";
  for (int idx : m.graph.outputs) {
    const Value& v = m.values[static_cast<size_t>(idx)];
    std::cout << "  " << v.name << "  " << dtype_name(v.dtype) << " " << shape_text(v) << "\n";
  }
  std::cout << "ops (" << count_nodes(m) << " nodes):\n";
  for (const auto& [op, n] : op_histogram(m)) std::cout << "  " << op << " " << n << "\n";
  std::cout << "weights: " << count_parameters(m) << " parameters\n";
  for (const auto& [dt, b] : constant_bytes_by_dtype(m)) std::cout << "  " << dt << " " << human_bytes(b) << "\n";
  std::cout << "segments: " << segments << " (" << human_bytes(segment_bytes) << ")\n";
  const std::string plan = memory_plan_text(*bytes, m);
  std::cout << "memory plan: "
            << (plan.empty() ? "depends on the symbolic input dims (see kiln run --plan)" : plan) << "\n";
  std::cout << "metadata:" << (m.metadata.empty() ? " none" : "") << "\n";
  for (const auto& [k, v] : m.metadata) {
    // JSON values (kiln compress's report) are printed indented, one field a line.
    auto j = nlohmann::ordered_json::parse(v, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      std::string text = j.dump(2);
      for (size_t at = 0; (at = text.find('\n', at)) != std::string::npos; at += 5) text.replace(at, 1, "\n    ");
      std::cout << "  " << k << " = " << text << "\n";
    } else {
      std::cout << "  " << k << " = " << v << "\n";
    }
  }
  return 0;
}

}  // namespace

Command add_inspect(CLI::App& root) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* app = root.add_subcommand("inspect", "Show what a .kiln file holds");
  app->add_option("model", o->path, "The .kiln file (or, with --passes, an .onnx file)")->required();
  app->add_flag("--json", o->json, "Machine-readable JSON output");
  app->add_flag("--passes", o->passes,
                "Run the graph optimizer on the model and show what each pass changed: rewrites by\n"
                "pattern, nodes before -> after and op count changes (.onnx as imported, or .kiln)");
  return {app, [o] { return run_inspect(*o); }};
}

}  // namespace kiln::cli
