// kiln compress: a .kiln model -> a smaller .kiln model, with a report of what it cost
// (size by dtype, output error against the original on test inputs, latency), printed and
// stored in the output's metadata ("kiln.compression") so `kiln inspect` shows it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "commands.h"
#include "compress/auto_precision.h"
#include "compress/compare.h"
#include "compress/eval.h"
#include "compress/fp16_weights.h"
#include "compress/int4_block.h"
#include "compress/int8_conv.h"
#include "compress/int8_dynamic.h"
#include "compress/int8_static.h"
#include "compress/prune.h"
#include "compress/prune_channels.h"
#include "compress/prune_sensitivity.h"
#include "format/model_io.h"
#include "graph/input_shapes.h"
#include "graph/passes/pipeline.h"
#include "platform/platform.h"
#include "runtime/session.h"

namespace kiln::cli {
namespace {

struct CompressOptions {
  std::string input, output;
  bool fp16 = false, int8 = false;
  bool int4 = false;  // MatMul/Gemm weights to int4 blocks (compress/int4_block.h)
  std::string int4_conv = "none";  // which convolutions --int4 converts
  bool int4_min = false;           // --int4-min: asymmetric blocks (fp16 scale + fp16 min)
  std::string int8_conv = "all";  // which convolutions --int8 converts (compress/int8_conv.h)
  int64_t min_elements = 256;
  std::vector<std::string> exclude, input_shapes;
  int eval_runs = 4, latency_runs = 5;
  size_t threads = 1;  // per session in the comparison; 1 lets latency be thread CPU time
  bool no_eval = false;
  std::string prune;  // "0.5" (magnitude) or "2:4" (N:M); empty: no pruning
  bool prune_global = false;
  std::string prune_channels;  // "0.3": structured channel pruning (prune_channels.h)
  bool prune_sensitivity = false;  // per-set fractions by output SNR (prune_sensitivity.h)
  int calib_count = 8;  // --prune-channels: inputs the bias compensation measures means on (0: off)
  int eval_count = 8;
  std::string keys;
  double auto_precision = NAN;  // --auto-precision DB (NaN: off)
  int auto_max_layers = 32;
  std::string int8_static;  // --int8-static DIR: calibration set (compress/int8_static.h)
  std::string calibration = "percentile";
  double percentile = 99.99;
  bool keep_qdq = false;  // skip fuse_qdq: the QDQ form runs as fake quant
};

// One line per step on stderr ("[2/4] ..."), so long work shows where it is.
struct Progress {
  int total;
  int step = 0;
  double t0 = now_ms();
  void operator()(const std::string& what) {
    std::fprintf(stderr, "[%d/%d] %s (%.1f s)\n", ++step, total, what.c_str(), (now_ms() - t0) / 1000);
  }
};

std::string default_output(const std::string& in, const std::string& mode) {
  std::string base = in;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".kiln") == 0) base.resize(base.size() - 5);
  return base + "." + mode + ".kiln";
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
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

// --auto-precision: int8 with the layers whose output SNR falls below the threshold kept
// float, chosen greedily (compress/auto_precision.h) on the task's rendered inputs (or
// random ones with --input-shape); prints which and why, fills `out` for the report.
// `kind` names the mode's layers ("int8", "int4"), `kept` what a kept layer becomes.
Status auto_precision_step(const CompressOptions& o, const std::map<std::string, Dims>& dims, Model& model,
                           const CompressMode& mode, nlohmann::json& out, const std::string& kind = "int8",
                           const std::string& kept = "float") {
  AutoPrecisionOptions ao;
  ao.threshold_db = o.auto_precision;
  ao.max_kept = o.auto_max_layers;
  ao.exclude = o.exclude;
  ao.eval.data.count = o.eval_count;
  ao.eval.data.input_dims = dims;
  ao.progress = [&](int round, int n, double worst) {
    std::fprintf(stderr, "  auto precision: pass %d, %d layer%s kept %s, worst %s layer %s\n", round + 1, n,
                 n == 1 ? "" : "s", kept.c_str(), kind.c_str(), std::isinf(worst) ? "none left" : fmt("%.1f dB", worst).c_str());
  };
  KILN_ASSIGN_OR_RETURN(AutoPrecisionResult r, auto_precision(model, mode, ao));
  std::cout << "auto precision (" << fmt("%.1f dB", o.auto_precision) << " per layer, " << r.last.inputs
            << "): worst " << kind << " layer " << fmt("%.1f dB", r.worst_db_before) << " with every layer " << kind
            << " -> " << (std::isinf(r.worst_db_after) ? "no " + kind + " layer left" : fmt("%.1f dB", r.worst_db_after))
            << " with " << r.kept.size() << " kept " << kept << (r.met ? "" : " (threshold not met: limit --auto-max-layers)")
            << "\n";
  out["threshold_db"] = o.auto_precision;
  out["mode"] = kind;
  out["kept_as"] = kept;
  out["met"] = r.met;
  out["passes"] = r.rounds;
  out["eval_inputs"] = r.last.inputs;
  if (!std::isinf(r.worst_db_before)) out["worst_layer_snr_db_before"] = r.worst_db_before;
  if (!std::isinf(r.worst_db_after)) out["worst_layer_snr_db_after"] = r.worst_db_after;
  out["kept_float"] = nlohmann::json::array();
  for (const LayerPrecision& k : r.kept) {
    std::cout << "  kept " << kept << ": " << k.node << " (output " << k.output << " at " << fmt("%.1f dB", k.snr_db)
              << ", its own rounding ~" << (std::isinf(k.own_snr_db) ? std::string("none") : fmt("%.1f dB", k.own_snr_db))
              << ")\n";
    nlohmann::json j{{"node", k.node}, {"output", k.output}, {"snr_db", k.snr_db}};
    if (!std::isinf(k.own_snr_db)) j["own_snr_db"] = k.own_snr_db;
    out["kept_float"].push_back(j);
  }
  model = std::move(r.compressed.model);
  return Status::Ok();
}

// --int8-static DIR: calibration set -> ranges -> QDQ rewrite (compress/int8_static.h) ->
// fuse_qdq, which turns the quantized groups into int8 ops.
Status int8_static_step(const CompressOptions& o, CalibrationMethod method, const std::map<std::string, Dims>& dims,
                        Progress& progress, Model& model, Int8StaticStats& stats, int& samples_used,
                        size_t& calibrated, std::string& fused) {
  progress("loading the calibration set " + o.int8_static);
  std::vector<TensorDesc> inputs;
  for (int i : model.graph.inputs) {
    const Value& v = model.values[static_cast<size_t>(i)];
    inputs.push_back({v.name, v.dtype, v.shape.value_or(Shape{})});
  }
  KILN_ASSIGN_OR_RETURN(std::vector<TensorMap> samples, load_calibration_set(o.int8_static, inputs, dims));
  if (samples.empty()) return invalid_argument(o.int8_static + ": no calibration samples (.npy or .png files)");
  samples_used = static_cast<int>(samples.size());
  progress(std::string("calibrating activation ranges (") + calibration_method_name(method) + ") on " +
           std::to_string(samples.size()) + " samples");
  CalibrationOptions co;
  co.method = method;
  co.percentile = o.percentile;
  co.progress = [](const std::string& stage, int done, int total) {
    std::fprintf(stderr, "  %s %d/%d\n", stage.c_str(), done, total);
  };
  KILN_ASSIGN_OR_RETURN(CalibrationRanges ranges, calibrate(model, samples, co));
  calibrated = ranges.size();
  progress("rewriting into QDQ (int8 weights and activations) and fusing int8 ops");
  Int8StaticOptions so;
  so.exclude = o.exclude;
  KILN_ASSIGN_OR_RETURN(stats, quantize_int8_static(model, ranges, so));
  if (o.keep_qdq) {
    fused = "not run (--keep-qdq): QuantizeLinear / DequantizeLinear run as fake quant";
  } else {
    KILN_ASSIGN_OR_RETURN(PassReport rep, run_pass(model, "fuse_qdq"));
    fused = describe(rep);
  }
  return Status::Ok();
}

int run_compress(const CompressOptions& o) {
  const bool int8_static = !o.int8_static.empty();
  if (!o.fp16 && !o.int8 && !o.int4 && !int8_static && o.prune.empty() && o.prune_channels.empty())
    return fail("choose a compression mode: --fp16, --int8, --int8-static DIR and/or --int4, --prune or --prune-channels (see 'kiln compress --help')");
  if (int8_static && o.int8) return fail("--int8 and --int8-static both quantize to int8: choose one");
  auto calibration_method = parse_calibration_method(o.calibration);
  if (!calibration_method.ok()) return fail(calibration_method.status());
  if (!(o.percentile > 0 && o.percentile <= 100)) return fail("--percentile must be in (0, 100]");
  double channel_fraction = 0;
  if (!o.prune_channels.empty()) {
    auto f = parse_channel_fraction(o.prune_channels);
    if (!f.ok()) return fail(f.status());
    channel_fraction = *f;
  }
  PruneSpec prune_spec;
  if (!o.prune.empty()) {
    auto spec = parse_prune_spec(o.prune);
    if (!spec.ok()) return fail(spec.status());
    prune_spec = *spec;
  }
  std::string mode = o.int8 && o.fp16 ? "int8+fp16" : o.int8 ? "int8" : o.fp16 ? "fp16" : "";
  if (!o.prune.empty()) {
    const std::string p = prune_spec.n_m ? "prune" + std::to_string(prune_spec.n) + "of" + std::to_string(prune_spec.m)
                                         : "prune" + std::to_string(static_cast<int>(prune_spec.sparsity * 100 + 0.5));
    mode = mode.empty() ? p : p + "+" + mode;
  }
  if (!o.prune_channels.empty()) {
    const std::string p = "chprune" + std::to_string(static_cast<int>(channel_fraction * 100 + 0.5));
    mode = mode.empty() ? p : p + "+" + mode;
  }
  if (int8_static) mode = mode.empty() ? "int8-static" : mode + "+int8-static";
  if (o.int4_min && !o.int4) return fail("--int4-min goes with --int4");
  if (o.int4) mode = (o.int4_min ? std::string("int4-min") : std::string("int4")) + (mode.empty() ? "" : "+" + mode);
  const bool auto_prec = !std::isnan(o.auto_precision);
  if (auto_prec && !o.int8 && !o.int4)
    return fail("--auto-precision chooses the precision of --int8's (or --int4's) layers; add --int8 or --int4");
  if (auto_prec && !(o.auto_precision >= 0 && o.auto_precision <= 120))
    return fail("--auto-precision is a per-layer SNR in dB, in [0, 120]");
  if (o.auto_max_layers < 0) return fail("--auto-max-layers must be >= 0");
  if (o.eval_runs < 1 || o.eval_runs > 1000) return fail("--eval-runs must be in [1, 1000]");
  if (o.calib_count < 0 || o.calib_count > 1000) return fail("--calib-count must be in [0, 1000]");
  if (o.prune_sensitivity && o.prune_channels.empty()) return fail("--prune-sensitivity goes with --prune-channels F");
  if (o.latency_runs < 0 || o.latency_runs > 1000) return fail("--latency-runs must be in [0, 1000]");
  if (o.threads > 64) return fail("--threads must be at most 64 (0 = all cores)");
  std::map<std::string, Dims> dims;
  for (const std::string& text : o.input_shapes) {
    auto spec = parse_input_shape(text);
    if (!spec.ok()) return fail(spec.status());
    if (!shape_is_fixed(spec->shape)) return fail("--input-shape " + text + ": every dim must be a number here");
    dims[spec->input] = shape_dims(spec->shape);
  }
  Progress progress{2 + int{!o.prune_channels.empty()} + int{!o.prune.empty()} + int{o.fp16} + int{o.int8} + int{o.int4} + 3 * int{int8_static} + (o.no_eval ? 0 : 2)};
  progress("reading " + o.input);
  auto bytes = read_model_file(o.input);
  if (!bytes.ok()) return fail(bytes.status());
  auto model = read_model(*bytes);
  if (!model.ok()) return fail(model.status().with_context(o.input));
  const auto before = constant_bytes_by_dtype(*model);

  // Channel pruning first (a smaller dense graph), then pruning (it reads float32 weights),
  // then int8, then fp16.
  ChannelPruneStats chprune_stats;
  std::vector<SetSensitivity> sensitivity;  // --prune-sensitivity: per set, most sensitive first
  int64_t macs_before = -1, macs_after = -1;
  if (!o.prune_channels.empty()) {
    progress("pruning " + o.prune_channels + " of the output channels of Conv / Gemm / MatMul layers");
    // MACs depend on the image size: counted only when every input dim is known.
    bool dims_known = true;
    for (int i : model->graph.inputs) {
      const Value& v = model->values[static_cast<size_t>(i)];
      dims_known &= dims.count(v.name) || (v.shape && shape_is_fixed(*v.shape));
    }
    if (!dims_known) {
      std::cerr << "kiln: note: MACs not counted: the input has symbolic dims (pass --input-shape)\n";
    } else if (auto mc = count_macs(*model, dims); mc.ok()) {
      macs_before = *mc;
    } else {
      std::cerr << "kiln: warning: no MAC count: " << mc.status().to_string() << "\n";
    }
    ChannelPruneOptions co;
    co.fraction = channel_fraction;
    co.exclude = o.exclude;
    if (o.calib_count > 0) {  // bias compensation: channel means on the rendered eval set
      auto calib = channel_calibration_set(*model, o.calib_count, dims);
      if (!calib.ok())
        return fail(calib.status().with_context("calibration inputs for bias compensation (--calib-count 0: none)"));
      co.calibration = std::move(calib).value();
    }
    if (o.prune_sensitivity) {
      auto sp = prune_channels_by_sensitivity(*model, co);
      if (!sp.ok()) return fail(sp.status().with_context(o.input));
      chprune_stats = sp->stats;
      sensitivity = sp->sets;
    } else {
      auto cs = prune_channels(*model, co);
      if (!cs.ok()) return fail(cs.status().with_context(o.input));
      chprune_stats = *cs;
    }
    if (macs_before >= 0)
      if (auto mc = count_macs(*model, dims); mc.ok()) macs_after = *mc;
    if (chprune_stats.pruned.empty()) {
      for (const std::string& line : chprune_stats.skipped) std::cerr << "  not pruned: " << line << "\n";
      return fail(o.input + (chprune_stats.skipped.empty()
                                 ? ": no Conv / Gemm / MatMul in the main graph to prune (layers inside If / Loop "
                                   "bodies are not followed)"
                                 : ": no channel set could be pruned (reasons above)"));
    }
  }
  PruneStats prune_stats;
  if (!o.prune.empty()) {
    progress(prune_spec.n_m ? "pruning " + o.prune + " (N:M) weights of MatMul / Gemm / 1x1 Conv"
                            : "pruning " + o.prune + (o.prune_global ? " (global)" : " (per layer)") +
                                  " of MatMul / Gemm / 1x1 Conv weights by magnitude");
    PruneOptions po;
    po.sparsity = prune_spec.sparsity, po.global = o.prune_global, po.n = prune_spec.n, po.m = prune_spec.m;
    po.exclude = o.exclude;
    po.min_elements = std::max<int64_t>(o.min_elements, 1024);
    auto ps = prune_spec.n_m ? prune_n_m(*model, po) : prune_magnitude(*model, po);
    if (!ps.ok()) return fail(ps.status().with_context(o.input));
    prune_stats = *ps;
    if (prune_stats.layers == 0)
      return fail(o.input + ": no MatMul, Gemm or (non-depthwise) Conv with a constant float32 weight of at least " +
                  std::to_string(po.min_elements) + " elements; nothing to prune");
  }
  // int4 first (MatMul / Gemm), then int8 (what is left: convolutions), then fp16.
  Int4BlockStats int4_stats;
  Int8DynamicStats int8_stats;
  Int8ConvStats conv_stats;
  nlohmann::json auto_report;
  // With --int4, --auto-precision chooses int4's layers: a fragile one is left to --int8
  // (which then runs inside the mode, on whatever int4 left) or to float.
  const bool auto_int4 = auto_prec && o.int4;
  Int8DynamicOptions int8_opts;
  int8_opts.min_elements = o.min_elements;
  int8_opts.exclude = o.exclude;
  const Int8ConvScope int8_scope = o.int8_conv == "none"        ? Int8ConvScope::kNone
                                   : o.int8_conv == "pointwise" ? Int8ConvScope::kPointwise
                                                                : Int8ConvScope::kAll;
  if (o.int4) {
    progress("quantizing MatMul / Gemm / Conv weights to int4 (blocks of 32, fp16 scales; dynamic activations)");
    Int4BlockOptions io;
    io.min_elements = o.min_elements;
    io.exclude = o.exclude;
    io.pointwise_convs = o.int4_conv != "none";
    io.other_convs = o.int4_conv == "all";
    io.asymmetric = o.int4_min;
    CompressMode int4_mode = [&](const Model& m, const std::vector<std::string>& exclude) -> Result<CompressedModel> {
      CompressedModel cm{m, {}};
      Int4BlockOptions mo = io;
      mo.exclude = exclude;
      KILN_ASSIGN_OR_RETURN(int4_stats, quantize_int4_block(cm.model, mo));
      cm.layers = int4_stats.converted_nodes;
      if (auto_int4 && o.int8) {  // the user's exclusions only: int8 takes the layers int4 gave back
        KILN_ASSIGN_OR_RETURN(int8_stats, quantize_int8_dynamic(cm.model, int8_opts));
        KILN_ASSIGN_OR_RETURN(conv_stats, quantize_int8_conv(cm.model, int8_opts, int8_scope));
      }
      return cm;
    };
    if (auto_int4) {
      if (Status s = auto_precision_step(o, dims, *model, int4_mode, auto_report, "int4", o.int8 ? "int8" : "float");
          !s.ok())
        return fail(s.with_context(o.input));
    } else {
      auto cm = int4_mode(*model, io.exclude);
      if (!cm.ok()) return fail(cm.status().with_context(o.input));
      *model = std::move(cm->model);
    }
    if (int4_stats.converted == 0 && !o.fp16 && !o.int8)
      return fail(o.input + ": no MatMul, Gemm or (non-depthwise) Conv with a constant float32 weight of at least " +
                  std::to_string(o.min_elements) + " elements; nothing to quantize to int4");
  }
  if (o.int8) {
    progress("quantizing MatMul / Gemm / Conv weights to int8 (dynamic activations)");
    const Int8DynamicOptions& io = int8_opts;
    const Int8ConvScope scope = int8_scope;
    // The int8 mode as auto_precision's callback: the stats are the last call's, i.e. the final model's.
    CompressMode int8_mode = [&](const Model& m, const std::vector<std::string>& exclude) -> Result<CompressedModel> {
      CompressedModel cm{m, {}};
      Int8DynamicOptions mo = io;
      mo.exclude = exclude;
      KILN_ASSIGN_OR_RETURN(int8_stats, quantize_int8_dynamic(cm.model, mo));
      KILN_ASSIGN_OR_RETURN(conv_stats, quantize_int8_conv(cm.model, mo, scope));  // channels-last: kiln.NhwcConv
      cm.layers = int8_stats.converted_nodes;
      cm.layers.insert(cm.layers.end(), conv_stats.converted_nodes.begin(), conv_stats.converted_nodes.end());
      return cm;
    };
    if (auto_int4) {
      // done inside int4's mode (int8_stats / conv_stats are the final model's)
    } else if (auto_prec) {
      if (Status s = auto_precision_step(o, dims, *model, int8_mode, auto_report); !s.ok())
        return fail(s.with_context(o.input));
    } else {
      auto cm = int8_mode(*model, io.exclude);
      if (!cm.ok()) return fail(cm.status().with_context(o.input));
      *model = std::move(cm->model);
    }
    int8_stats.converted += conv_stats.converted;  // the totals below cover both kinds
    if (int8_stats.converted == 0 && !o.fp16 && int4_stats.converted == 0)
      return fail(o.input + ": no MatMul, Gemm or Conv with a constant float32 weight of at least " +
                  std::to_string(o.min_elements) + " elements; nothing to quantize");
  }
  Int8StaticStats static_stats;
  int calibration_samples = 0;
  size_t calibrated_tensors = 0;
  std::string fused_qdq;
  if (int8_static) {
    if (Status s = int8_static_step(o, *calibration_method, dims, progress, *model, static_stats, calibration_samples,
                                    calibrated_tensors, fused_qdq);
        !s.ok())
      return fail(s.with_context(o.input));
    if (static_stats.quantized == 0) {
      for (const std::string& why : static_stats.skip_reasons) std::cerr << "  left float: " << why << "\n";
      return fail(o.input + ": no convolution, MatMul or Gemm could be quantized (reasons above)");
    }
  }
  Fp16Stats fp16_stats;
  if (o.fp16) {
    progress("storing weights as float16");
    Fp16Options fo;
    fo.min_elements = o.min_elements;
    fo.exclude = o.exclude;
    auto stats = store_weights_fp16(*model, fo);
    if (!stats.ok()) return fail(stats.status().with_context(o.input));
    fp16_stats = *stats;
    if (fp16_stats.converted == 0 && int8_stats.converted == 0 && int4_stats.converted == 0 && static_stats.quantized == 0)
      return fail(o.input + ": no float32 weight of at least " + std::to_string(o.min_elements) +
                  " elements to convert; nothing to compress");
  }
  const auto after = constant_bytes_by_dtype(*model);

  progress("writing and loading the result");
  auto written = write_model(*model);
  if (!written.ok()) return fail(written.status());
  auto out_bytes = std::make_shared<const std::vector<uint8_t>>(std::move(written).value());
  SessionOptions so;
  so.num_threads = o.threads;
  auto test = Session::create(out_bytes, so);
  if (!test.ok()) return fail(test.status().with_context("the compressed model does not load"));

  nlohmann::json report;
  report["mode"] = mode;
  if (o.fp16) {
    report["tensors_converted"] = fp16_stats.converted;
    report["tensors_out_of_range"] = fp16_stats.out_of_range;
    report["max_weight_rounding"] = fp16_stats.max_rounding;
  }
  if (o.int8) {
    report["int8_layers_converted"] = int8_stats.converted;
    report["int8_layers_skipped"] = int8_stats.skipped;
    report["int8_weight_bytes_before"] = int8_stats.bytes_before + conv_stats.bytes_before;
    report["int8_weight_bytes_after"] = int8_stats.bytes_after + conv_stats.bytes_after;
    report["int8_conv_layers_converted"] = conv_stats.converted;
    report["int8_conv_depthwise_converted"] = conv_stats.depthwise;
    report["int8_conv_layers_skipped"] = conv_stats.skipped;
    if (auto_prec) report["auto_precision"] = auto_report;
  }
  if (int8_static) {
    report["int8_static_calibration"] = calibration_method_name(*calibration_method);
    if (*calibration_method == CalibrationMethod::kPercentile) report["int8_static_percentile"] = o.percentile;
    report["int8_static_samples"] = calibration_samples;
    report["int8_static_tensors_calibrated"] = calibrated_tensors;
    report["int8_static_nodes_quantized"] = static_stats.quantized;
    report["int8_static_nodes_skipped"] = static_stats.skipped;
    report["int8_static_skip_reasons"] = static_stats.skip_reasons;
    report["int8_static_tensors_quantized"] = static_stats.tensors;
    report["int8_static_coarser_weight_scales"] = static_stats.coarser_weights;
    report["int8_static_weight_bytes_before"] = static_stats.bytes_before;
    report["int8_static_weight_bytes_after"] = static_stats.bytes_after;
    report["int8_static_fuse_qdq"] = fused_qdq;
  }
  if (o.int4) {
    report["int4_layers_converted"] = int4_stats.converted;
    report["int4_layers_skipped"] = int4_stats.skipped;
    report["int4_pointwise_conv_layers"] = int4_stats.pointwise_convs;
    report["int4_conv_layers"] = int4_stats.convs;
    report["int4_weight_bytes_before"] = int4_stats.bytes_before;
    report["int4_weight_bytes_after"] = int4_stats.bytes_after;
    report["int4_block_size"] = 32;
    report["int4_min"] = o.int4_min;
  }
  if (!o.prune_channels.empty()) {
    report["prune_channels"] = channel_fraction;
    report["channel_pruned_layers"] = chprune_stats.layers();
    report["channel_sets"] = chprune_stats.pruned.size();
    report["channels_before"] = chprune_stats.channels_before;
    report["channels_after"] = chprune_stats.channels_after;
    report["params_before"] = chprune_stats.params_before;
    report["params_after"] = chprune_stats.params_after;
    if (macs_before >= 0 && macs_after >= 0) report["macs_before"] = macs_before, report["macs_after"] = macs_after;
    for (const PrunedChannels& p : chprune_stats.pruned)
      report["channel_pruned"].push_back({{"node", p.node}, {"group", p.group}, {"before", p.before}, {"after", p.after}});
    report["channel_prune_skipped"] = chprune_stats.skipped;
    report["calibration_samples"] = chprune_stats.calibration_samples;
    for (const SetSensitivity& s : sensitivity)
      report["prune_sensitivity"].push_back({{"node", s.node}, {"snr_db", s.snr_db}, {"fraction", s.fraction}});
    report["bias_compensated_consumers"] = chprune_stats.compensated;
  }
  if (!o.prune.empty()) {
    report["prune"] = o.prune;
    if (!prune_spec.n_m) report["prune_global"] = o.prune_global;
    report["pruned_layers"] = prune_stats.layers;
    report["prune_skipped"] = prune_stats.skipped;
    report["pruned_weight_elements"] = prune_stats.elements;
    report["pruned_sparsity"] = prune_stats.sparsity();
    report["pruned_layers_sparse_kernels"] = prune_stats.sparse_layers;
  }
  report["file_bytes_before"] = (*bytes)->size();
  for (const auto& [k, v] : before) report["weights_before"][k] = v;
  for (const auto& [k, v] : after) report["weights_after"][k] = v;

  std::cout << o.input << " ->";
  if (!o.prune_channels.empty()) {
    std::cout << " channel-pruned " << chprune_stats.layers() << " layers in " << chprune_stats.pruned.size()
              << " channel sets (channels "
              << chprune_stats.channels_before << " -> " << chprune_stats.channels_after << "; "
              << chprune_stats.skipped.size() << " left alone), params " << chprune_stats.params_before << " -> "
              << chprune_stats.params_after;
    if (macs_before >= 0 && macs_after >= 0)
      std::cout << ", MACs " << macs_before << " -> " << macs_after << " ("
                << fmt("%.1f%%", 100.0 * double(macs_before - macs_after) / double(std::max<int64_t>(macs_before, 1)))
                << " fewer)";
    std::cout << (!o.prune.empty() || o.int8 || o.fp16 ? ";" : "") << "\n";
    if (!sensitivity.empty()) {
      std::cout << "  sensitivity (output SNR with each set pruned alone at " << o.prune_channels
                << " -> its fraction):";
      for (const SetSensitivity& s : sensitivity)
        std::cout << " " << s.node << (s.layers > 1 ? "+" + std::to_string(s.layers - 1) : "") << " "
                  << fmt("%.1f dB", s.snr_db) << " -> " << fmt("%.2f", s.fraction) << ";";
      std::cout << "\n";
    }
    if (chprune_stats.calibration_samples > 0)
      std::cout << "  bias compensation: channel means over " << chprune_stats.calibration_samples
                << " calibration inputs folded into " << chprune_stats.compensated << " consumers ("
                << chprune_stats.uncompensated << " without a bias to fold into)\n";
    for (const PrunedChannels& p : chprune_stats.pruned) {
      std::cout << "  pruned " << p.node << ": " << p.before << " -> " << p.after << " channels";
      if (p.group.size() > 1) std::cout << " (residual group of " << p.group.size() << " layers)";
      std::cout << "\n";
    }
    for (const std::string& line : chprune_stats.skipped) std::cout << "  not pruned: " << line << "\n";
  }
  if (!o.prune.empty())
    std::cout << " pruned " << prune_stats.layers << " weights (" << prune_stats.elements << " elements, "
              << fmt("%.1f%%", 100.0 * prune_stats.sparsity()) << " zeros, was "
              << fmt("%.1f%%", prune_stats.elements ? 100.0 * double(prune_stats.zeros_before) / double(prune_stats.elements) : 0.0)
              << "; " << prune_stats.skipped << " left alone; " << prune_stats.sparse_layers
              << " sparse enough for the sparse kernels at load)"
              << (o.int4 || o.int8 || o.fp16 ? ";" : "");
  if (o.int4)
    std::cout << " int4 weights: " << int4_stats.converted - int4_stats.pointwise_convs - int4_stats.convs
              << " MatMul/Gemm and "
              << int4_stats.pointwise_convs << " 1x1 Conv layers converted to kiln.BlockQuantMatMul, "
              << int4_stats.convs << " Conv layers to kiln.BlockQuantConv ("
              << int4_stats.skipped << " left as they were; " << human_bytes(int4_stats.bytes_before) << " -> "
              << human_bytes(int4_stats.bytes_after) << ")" << (o.int8 || o.fp16 ? ";" : "");
  if (o.int8)
    std::cout << " int8 weights: " << int8_stats.converted - conv_stats.converted
              << " MatMul/Gemm layers converted to kiln.DynamicQuantMatMul (" << int8_stats.skipped << " left float), "
              << conv_stats.converted << " Conv layers to kiln.DynamicQuantConv (" << conv_stats.depthwise
              << " of them depthwise; " << conv_stats.skipped << " left float)" << (o.fp16 ? ";" : "");
  if (int8_static) {
    std::cout << " static int8 (calibration " << calibration_method_name(*calibration_method);
    if (*calibration_method == CalibrationMethod::kPercentile) std::cout << " " << fmt("%g", o.percentile);
    std::cout << " on " << calibration_samples << " samples, " << calibrated_tensors << " tensors calibrated): "
              << static_stats.quantized << " Conv/MatMul/Gemm layers quantized (" << static_stats.skipped
              << " left float), " << static_stats.tensors << " activation tensors int8, "
              << human_bytes(static_stats.bytes_before) << " -> " << human_bytes(static_stats.bytes_after)
              << " of weights";
    if (static_stats.coarser_weights)
      std::cout << " (" << static_stats.coarser_weights << " layers with a coarser weight scale in channels whose bias "
                << "would overflow int32)";
    std::cout << (o.fp16 ? ";" : "");
  }
  if (o.fp16) {
    std::cout << " fp16 weights: " << fp16_stats.converted << " tensors converted";
    if (fp16_stats.out_of_range)
      std::cout << ", " << fp16_stats.out_of_range << " kept float32 (values beyond ±65504)";
  }
  std::cout << "\n";
  if (int8_static) {
    std::cout << (o.keep_qdq ? "fuse_qdq " : "") << fused_qdq << "\n";
    for (const std::string& why : static_stats.skip_reasons) std::cout << "  left float: " << why << "\n";
  }
  std::cout << "weights by dtype:";
  for (const auto& [k, v] : before) std::cout << "  " << k << " " << human_bytes(v);
  std::cout << "  ->";
  for (const auto& [k, v] : after) std::cout << "  " << k << " " << human_bytes(v);
  std::cout << "\n";

  if (!o.no_eval) {
    progress("comparing outputs with the original on " + std::to_string(o.eval_runs) + " input sets");
    auto ref = Session::create(*bytes, so);
    if (!ref.ok()) return fail(ref.status().with_context(o.input));
    CompareOptions co;
    co.runs = o.eval_runs;
    co.latency_runs = o.latency_runs;
    // An OCR model's open image dims take the task's rendering size, not 1 (a 1-pixel
    // wide line does not fit the classifier's pools).
    co.input_dims = task_input_dims((*ref)->inputs(), (*ref)->outputs(), dims);
    auto cmp = compare_sessions(**ref, **test, co);
    if (!cmp.ok())
      return fail(cmp.status().with_context("evaluation (pass --input-shape for symbolic dims, or --no-eval)"));
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
    task_eval(o, dims, *bytes, out_bytes, progress, report);
  }

  // The report goes into the file itself; the file size it states is the final one.
  std::erase_if(model->metadata, [](const auto& kv) { return kv.first == "kiln.compression"; });
  model->metadata.emplace_back("kiln.compression", report.dump());
  auto final_bytes = write_model(*model);
  if (!final_bytes.ok()) return fail(final_bytes.status());
  const std::string out = o.output.empty() ? default_output(o.input, mode) : o.output;
  if (Status s = write_file_bytes(out, *final_bytes); !s.ok()) return fail(s);
  std::cout << "size: " << human_bytes((*bytes)->size()) << " -> " << human_bytes(final_bytes->size()) << " ("
            << fmt("%.2f", double((*bytes)->size()) / double(final_bytes->size())) << "x smaller), written to "
            << out << "\n";
  return 0;
}

}  // namespace

Command add_compress(CLI::App& root) {
  auto o = std::make_shared<CompressOptions>();
  CLI::App* app = root.add_subcommand("compress", "Make a .kiln model smaller and report what it cost");
  app->add_option("model", o->input, "Input .kiln file")->required();
  app->add_option("-o,--output", o->output, "Output .kiln file (default: <model>.<mode>.kiln)");
  app->add_flag("--fp16", o->fp16, "Store float32 weights as float16 (computed in float32 after loading)");
  app->add_flag("--int8", o->int8,
                "MatMul/Gemm/Conv weights to int8 per output channel, activations quantized at run time "
                "(int8 kernels; with --fp16, the other weights are stored as float16)");
  app->add_flag("--int4", o->int4,
                "MatMul/Gemm weights to int4 in blocks of 32 along K with one fp16 scale per block, activations "
                "quantized to int8 at run time (int8-dot kernels); combine with --int8 (what int4 leaves) and/or --fp16 "
                "(the rest)");
  app->add_option("--int4-conv", o->int4_conv,
                  "Convolutions --int4 converts: none (default: int4 convolutions cost the recognizer most of "
                  "its accuracy), pointwise (1x1) or all (not depthwise; kxk via im2col)")
      ->check(CLI::IsMember({"none", "pointwise", "all"}));
  app->add_flag("--int4-min", o->int4_min,
                "With --int4: asymmetric blocks, an fp16 min beside each fp16 scale (codes 0..15 over the "
                "block's [min, max]: smaller error on skewed blocks, 1 more byte per 16)");
  app->add_option("--int8-conv", o->int8_conv,
                  "Convolutions --int8 converts: all (default), pointwise (1x1 and depthwise only: "
                  "activations quantized per pixel, more accurate) or none")
      ->check(CLI::IsMember({"all", "pointwise", "none"}));
  app->add_option("--prune", o->prune,
                  "Zero the smallest MatMul/Gemm/1x1-Conv weights: a sparsity (0.5 = half of each weight) or "
                  "N:M (2:4 = 2 of every 4 along the input channels); such layers run on sparse kernels");
  app->add_option("--prune-channels", o->prune_channels,
                  "Remove this fraction (e.g. 0.3) of the output channels of Conv/Gemm/MatMul layers, lowest L1 "
                  "norm first, and the matching input channels downstream (through residual Adds, as one group, and "
                  "Concats): a smaller dense model");
  app->add_flag("--prune-sensitivity", o->prune_sensitivity,
                "With --prune-channels F: prune each channel set alone first and give the sets fractions from 0 "
                "(most harmful to the outputs) to 2F (least), mean F");
  app->add_option("--calib-count", o->calib_count,
                  "With --prune-channels: rendered inputs (the kiln eval set; random ones for other models) on which "
                  "removed channels' means are measured and folded into the next layer's bias (default 8; 0: off)");
  app->add_flag("--prune-global", o->prune_global, "With --prune 0.x: one magnitude threshold over all weights");
  app->add_option("--min-elements", o->min_elements, "Leave weights smaller than this float32 (default 256)");
  app->add_option("--exclude", o->exclude, "Keep this node or weight (name, or prefix ending in *) as it is; repeatable");
  app->add_option("--input-shape", o->input_shapes,
                  "Dims of an input for the evaluation, e.g. x=1,3,48,320 (symbolic dims default to 1)");
  app->add_option("--eval-runs", o->eval_runs, "Input sets compared with the original (default 4)");
  app->add_option("--latency-runs", o->latency_runs, "Timed runs per model (default 5; 0 skips timing)");
  app->add_option("--threads", o->threads,
                  "Threads per model in the comparison (default 1: latency in thread CPU time; 0 = all cores, "
                  "wall clock)");
  app->add_flag("--no-eval", o->no_eval, "Skip the comparison with the original");
  app->add_option("--eval-count", o->eval_count, "Rendered inputs for the task-level accuracy (default 8; see kiln eval)");
  app->add_option("--auto-precision", o->auto_precision,
                  "With --int8: keep in float, worst first, the layers whose output SNR against the original "
                  "falls below this many dB (e.g. 25), measured on the --eval-count task inputs; with --int4: "
                  "the same over int4's layers, a kept one going to --int8 if given, else float");
  app->add_option("--auto-max-layers", o->auto_max_layers, "At most this many layers kept float by --auto-precision (default 32)");
  app->add_option("--int8-static", o->int8_static,
                  "Static int8: weights int8 per output channel and activations int8 per tensor, with ranges "
                  "calibrated on the samples in DIR (.npy per input, or .png images); layers run as int8 ops "
                  "(kiln.QLinearNhwcConv / kiln.QLinearMatMul) with int8 tensors between them")
      ->type_name("DIR");
  app->add_option("--calibration", o->calibration,
                  "With --int8-static: how each activation range is chosen: minmax, percentile (default) or mse")
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
  app->add_option("--percentile", o->percentile, "With --calibration percentile: share of |x| kept in range (default 99.99)");
  app->add_flag("--keep-qdq", o->keep_qdq,
               "With --int8-static: keep the QuantizeLinear / DequantizeLinear form (float ops on fake-quantized "
               "values) instead of fusing it into int8 ops");
  app->add_option("--keys", o->keys, "Recognizer key file, for string accuracy against the rendered text");
  app->footer(
      "Reports weight bytes by dtype before and after, each output's max/mean absolute error\n"
      "and SNR against the original on deterministic test inputs, native latency before and\n"
      "after (medians of interleaved runs, order swapped each round; thread CPU time when\n"
      "single-threaded), and the file sizes; the report is stored in the output's metadata.");
  return {app, [o] { return run_compress(*o); }};
}

}  // namespace kiln::cli
