// kiln compress's report: the summary printed after the steps, the JSON stored in the
// output's metadata ("kiln.compression"), and the comparison with the original.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "cli_util.h"
#include "cmd_compress.h"
#include "compress/compare.h"
#include "compress/eval.h"

namespace kiln::cli {
namespace {

void add_channel_prune_fields(const CompressOptions& o, const CompressPlan& p, const CompressResults& r,
                              nlohmann::json& report) {
  const ChannelPruneStats& c = r.chprune;
  report["prune_channels"] = p.channel_fraction;
  report["channel_pruned_layers"] = c.layers();
  report["channel_sets"] = c.pruned.size();
  report["channels_before"] = c.channels_before;
  report["channels_after"] = c.channels_after;
  report["params_before"] = c.params_before;
  report["params_after"] = c.params_after;
  if (r.macs_before >= 0 && r.macs_after >= 0) report["macs_before"] = r.macs_before, report["macs_after"] = r.macs_after;
  for (const PrunedChannels& pc : c.pruned)
    report["channel_pruned"].push_back({{"node", pc.node}, {"group", pc.group}, {"before", pc.before}, {"after", pc.after}});
  report["channel_prune_skipped"] = c.skipped;
  report["calibration_samples"] = c.calibration_samples;
  for (const SetSensitivity& s : r.sensitivity)
    report["prune_sensitivity"].push_back({{"node", s.node}, {"snr_db", s.snr_db}, {"fraction", s.fraction}});
  report["bias_compensated_consumers"] = c.compensated;
}

void print_channel_prune(const CompressOptions& o, const CompressResults& r) {
  const ChannelPruneStats& c = r.chprune;
  std::cout << " channel-pruned " << c.layers() << " layers in " << c.pruned.size() << " channel sets (channels "
            << c.channels_before << " -> " << c.channels_after << "; " << c.skipped.size() << " left alone), params "
            << c.params_before << " -> " << c.params_after;
  if (r.macs_before >= 0 && r.macs_after >= 0)
    std::cout << ", MACs " << r.macs_before << " -> " << r.macs_after << " ("
              << fmt("%.1f%%", 100.0 * double(r.macs_before - r.macs_after) / double(std::max<int64_t>(r.macs_before, 1)))
              << " fewer)";
  std::cout << (!o.prune.empty() || o.int8 || o.fp16 ? ";" : "") << "\n";
  if (!r.sensitivity.empty()) {
    std::cout << "  sensitivity (output SNR with each set pruned alone at " << o.prune_channels << " -> its fraction):";
    for (const SetSensitivity& s : r.sensitivity)
      std::cout << " " << s.node << (s.layers > 1 ? "+" + std::to_string(s.layers - 1) : "") << " "
                << fmt("%.1f dB", s.snr_db) << " -> " << fmt("%.2f", s.fraction) << ";";
    std::cout << "\n";
  }
  if (c.calibration_samples > 0)
    std::cout << "  bias compensation: channel means over " << c.calibration_samples << " calibration inputs folded into "
              << c.compensated << " consumers (" << c.uncompensated << " without a bias to fold into)\n";
  for (const PrunedChannels& pc : c.pruned) {
    std::cout << "  pruned " << pc.node << ": " << pc.before << " -> " << pc.after << " channels";
    if (pc.group.size() > 1) std::cout << " (residual group of " << pc.group.size() << " layers)";
    std::cout << "\n";
  }
  for (const std::string& line : c.skipped) std::cout << "  not pruned: " << line << "\n";
}

// Task-level accuracy before/after on a small rendered set (src/compress/eval.h), for the
// OCR tasks kiln eval knows; a model it cannot render inputs for is noted, not failed.
void task_eval(const CompressOptions& o, const std::map<std::string, Dims>& dims,
               std::shared_ptr<const std::vector<uint8_t>> before, std::shared_ptr<const std::vector<uint8_t>> after,
               Progress& progress, nlohmann::json& report) {
  progress("task-level accuracy on " + std::to_string(o.eval_count) + " rendered inputs (kiln eval)");
  EvalOptions eo;
  eo.data.count = o.eval_count;
  eo.data.input_dims = dims;
  eo.latency_runs = 0;
  eo.layer_runs = 1;
  Status s;
  if (!o.keys.empty()) {
    auto keys = load_ctc_keys(o.keys);
    if (keys.ok()) eo.keys = std::move(keys).value();
    else s = keys.status();
  }
  auto ev = s.ok() ? evaluate(before, after, eo) : Result<EvalReport>(s);
  if (!ev.ok()) {
    std::cerr << "kiln: warning: no task-level accuracy: " << ev.status().to_string() << "\n";
    report["task_eval_error"] = ev.status().to_string();
    return;
  }
  if (ev->task == EvalTask::kGeneric) return;  // the output comparison above is all there is
  std::cout << eval_task_text(*ev);
  nlohmann::json j = eval_report_json(*ev, 3);
  for (const char* k : {"file_bytes", "outputs", "latency_ms"}) j.erase(k);
  report["task_eval"] = j;
}

}  // namespace

void add_report_fields(const CompressOptions& o, const CompressPlan& p, const CompressResults& r,
                       nlohmann::json& report) {
  report["mode"] = p.mode;
  if (o.fp16) {
    report["tensors_converted"] = r.fp16.converted;
    report["tensors_out_of_range"] = r.fp16.out_of_range;
    report["max_weight_rounding"] = r.fp16.max_rounding;
  }
  if (o.int8) {
    report["int8_layers_converted"] = r.int8.converted;
    report["int8_layers_skipped"] = r.int8.skipped;
    report["int8_weight_bytes_before"] = r.int8.bytes_before + r.conv.bytes_before;
    report["int8_weight_bytes_after"] = r.int8.bytes_after + r.conv.bytes_after;
    report["int8_conv_layers_converted"] = r.conv.converted;
    report["int8_conv_depthwise_converted"] = r.conv.depthwise;
    report["int8_conv_layers_skipped"] = r.conv.skipped;
    if (p.auto_precision) report["auto_precision"] = r.auto_report;
  }
  if (p.int8_static) {
    const Int8StaticStats& s = r.int8_static;
    report["int8_static_calibration"] = calibration_method_name(p.calibration);
    if (p.calibration == CalibrationMethod::kPercentile) report["int8_static_percentile"] = o.percentile;
    report["int8_static_samples"] = r.calibration_samples;
    report["int8_static_tensors_calibrated"] = r.calibrated_tensors;
    report["int8_static_nodes_quantized"] = s.quantized;
    report["int8_static_nodes_skipped"] = s.skipped;
    report["int8_static_skip_reasons"] = s.skip_reasons;
    report["int8_static_tensors_quantized"] = s.tensors;
    report["int8_static_coarser_weight_scales"] = s.coarser_weights;
    report["int8_static_weight_bytes_before"] = s.bytes_before;
    report["int8_static_weight_bytes_after"] = s.bytes_after;
    report["int8_static_fuse_qdq"] = r.fused_qdq;
  }
  if (o.int4) {
    report["int4_layers_converted"] = r.int4.converted;
    report["int4_layers_skipped"] = r.int4.skipped;
    report["int4_pointwise_conv_layers"] = r.int4.pointwise_convs;
    report["int4_conv_layers"] = r.int4.convs;
    report["int4_weight_bytes_before"] = r.int4.bytes_before;
    report["int4_weight_bytes_after"] = r.int4.bytes_after;
    report["int4_block_size"] = 32;
    report["int4_min"] = o.int4_min;
    report["int4_rounding"] = o.int4_rounding;
    if (!std::isnan(o.target_ratio)) report["precision_budget"] = r.budget_report;
    if (r.int4.weight_sq_error > 0)
      report["int4_weight_snr_db"] = 10 * std::log10(r.int4.weight_sq_sum / r.int4.weight_sq_error);
  }
  if (!o.prune_channels.empty()) add_channel_prune_fields(o, p, r, report);
  if (!o.prune.empty()) {
    report["prune"] = o.prune;
    if (!p.prune_spec.n_m) report["prune_global"] = o.prune_global;
    report["pruned_layers"] = r.prune.layers;
    report["prune_skipped"] = r.prune.skipped;
    report["pruned_weight_elements"] = r.prune.elements;
    report["pruned_sparsity"] = r.prune.sparsity();
    report["pruned_layers_sparse_kernels"] = r.prune.sparse_layers;
  }
}

void print_summary(const CompressOptions& o, const CompressPlan& p, const CompressResults& r,
                   const std::map<std::string, uint64_t>& before, const std::map<std::string, uint64_t>& after) {
  std::cout << o.input << " ->";
  if (!o.prune_channels.empty()) print_channel_prune(o, r);
  if (!o.prune.empty())
    std::cout << " pruned " << r.prune.layers << " weights (" << r.prune.elements << " elements, "
              << fmt("%.1f%%", 100.0 * r.prune.sparsity()) << " zeros, was "
              << fmt("%.1f%%", r.prune.elements ? 100.0 * double(r.prune.zeros_before) / double(r.prune.elements) : 0.0)
              << "; " << r.prune.skipped << " left alone; " << r.prune.sparse_layers
              << " sparse enough for the sparse kernels at load)" << (o.int4 || o.int8 || o.fp16 ? ";" : "");
  if (o.int4)
    std::cout << " int4 weights: " << r.int4.converted - r.int4.pointwise_convs - r.int4.convs << " MatMul/Gemm and "
              << r.int4.pointwise_convs << " 1x1 Conv layers converted to kiln.BlockQuantMatMul, " << r.int4.convs
              << " Conv layers to kiln.BlockQuantConv (" << r.int4.skipped << " left as they were; "
              << human_bytes(r.int4.bytes_before) << " -> " << human_bytes(r.int4.bytes_after)
              << (r.int4.weight_sq_error > 0
                      ? ", " + o.int4_rounding + " scales: weight SNR " +
                            fmt("%.1f dB", 10 * std::log10(r.int4.weight_sq_sum / r.int4.weight_sq_error))
                      : std::string())
              << ")" << (o.int8 || o.fp16 ? ";" : "");
  if (o.int8)
    std::cout << " int8 weights: " << r.int8.converted - r.conv.converted
              << " MatMul/Gemm layers converted to kiln.DynamicQuantMatMul (" << r.int8.skipped << " left float), "
              << r.conv.converted << " Conv layers to kiln.DynamicQuantConv (" << r.conv.depthwise
              << " of them depthwise; " << r.conv.skipped << " left float)" << (o.fp16 ? ";" : "");
  if (p.int8_static) {
    const Int8StaticStats& s = r.int8_static;
    std::cout << " static int8 (calibration " << calibration_method_name(p.calibration);
    if (p.calibration == CalibrationMethod::kPercentile) std::cout << " " << fmt("%g", o.percentile);
    std::cout << " on " << r.calibration_samples << " samples, " << r.calibrated_tensors << " tensors calibrated): "
              << s.quantized << " Conv/MatMul/Gemm layers quantized (" << s.skipped << " left float), " << s.tensors
              << " activation tensors int8, " << human_bytes(s.bytes_before) << " -> " << human_bytes(s.bytes_after)
              << " of weights";
    if (s.coarser_weights)
      std::cout << " (" << s.coarser_weights << " layers with a coarser weight scale in channels whose bias "
                << "would overflow int32)";
    std::cout << (o.fp16 ? ";" : "");
  }
  if (o.fp16) {
    std::cout << " fp16 weights: " << r.fp16.converted << " tensors converted";
    if (r.fp16.out_of_range) std::cout << ", " << r.fp16.out_of_range << " kept float32 (values beyond ±65504)";
  }
  std::cout << "\n";
  if (p.int8_static) {
    std::cout << (o.keep_qdq ? "fuse_qdq " : "") << r.fused_qdq << "\n";
    for (const std::string& why : r.int8_static.skip_reasons) std::cout << "  left float: " << why << "\n";
  }
  std::cout << "weights by dtype:";
  for (const auto& [k, v] : before) std::cout << "  " << k << " " << human_bytes(v);
  std::cout << "  ->";
  for (const auto& [k, v] : after) std::cout << "  " << k << " " << human_bytes(v);
  std::cout << "\n";
}

int eval_step(const CompressOptions& o, const CompressPlan& p, std::shared_ptr<const std::vector<uint8_t>> before,
              std::shared_ptr<const std::vector<uint8_t>> after, Session& test, const SessionOptions& so,
              Progress& progress, nlohmann::json& report) {
  progress("comparing outputs with the original on " + std::to_string(o.eval_runs) + " input sets");
  auto ref = Session::create(before, so);
  if (!ref.ok()) return fail(ref.status().with_context(o.input));
  CompareOptions co;
  co.runs = o.eval_runs;
  co.latency_runs = o.latency_runs;
  // An OCR model's open image dims take the task's rendering size, not 1 (a 1-pixel wide
  // line does not fit the classifier's pools).
  co.input_dims = task_input_dims((*ref)->inputs(), (*ref)->outputs(), p.dims);
  auto cmp = compare_sessions(**ref, test, co);
  if (!cmp.ok()) return fail(cmp.status().with_context("evaluation (pass --input-shape for symbolic dims, or --no-eval)"));
  for (const OutputError& e : cmp->outputs) {
    std::cout << "output '" << e.name << "': max |err| " << fmt("%.3g", e.max_abs) << ", mean |err| "
              << fmt("%.3g", e.mean_abs) << ", SNR "
              << (std::isinf(e.snr_db) ? std::string("exact") : fmt("%.1f dB", e.snr_db)) << "\n";
    nlohmann::json j{{"name", e.name}, {"max_abs", e.max_abs}, {"mean_abs", e.mean_abs}};
    if (!std::isinf(e.snr_db)) j["snr_db"] = e.snr_db;
    report["outputs"].push_back(j);
  }
  for (const std::string& s : cmp->exact) std::cout << "output " << s << "\n";
  if (o.latency_runs > 0) {
    const PairLatency& l = cmp->latency;
    std::cout << "latency (native, " << latency_method(l) << "): " << fmt("%.2f ms", l.ref_ms) << " -> "
              << fmt("%.2f ms", l.test_ms) << "\n";
    report["latency_ms_before"] = l.ref_ms;
    report["latency_ms_after"] = l.test_ms;
    report["latency_runs"] = l.runs;
    report["latency_threads"] = l.threads;
    report["latency_clock"] = l.cpu_time ? "thread_cpu" : "wall";
  }
  report["eval_runs"] = o.eval_runs;
  report["eval_inputs"] = "uniform [0, 1) floats, integers in [0, 8), seed 1";
  task_eval(o, p.dims, before, after, progress, report);
  return 0;
}

}  // namespace kiln::cli
