// kiln compress's steps: each changes the model in place and records what it did.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli_util.h"
#include "cmd_compress.h"
#include "compress/auto_precision.h"
#include "compress/channel_means.h"
#include "graph/passes/pipeline.h"
#include "platform/platform.h"

namespace kiln::cli {

Progress::Progress(int total) : total(total), t0(now_ms()) {}

void Progress::operator()(const std::string& what) {
  std::fprintf(stderr, "[%d/%d] %s (%.1f s)\n", ++step, total, what.c_str(), (now_ms() - t0) / 1000);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

namespace {

// --auto-precision: the mode with the layers whose output SNR falls below the threshold
// kept in higher precision, chosen greedily (compress/auto_precision.h) on the task's
// rendered inputs (or random ones with --input-shape); prints which and why, fills `out`
// for the report. `kind` names the mode's layers ("int8", "int4"), `kept` what a kept layer
// becomes.
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

// Runs `mode` on the model, under --auto-precision when `automatic`.
Status apply_mode(const CompressOptions& o, const CompressPlan& p, bool automatic, Model& model,
                  const CompressMode& mode, nlohmann::json& auto_report, const std::string& kind,
                  const std::string& kept) {
  if (automatic) return auto_precision_step(o, p.dims, model, mode, auto_report, kind, kept);
  KILN_ASSIGN_OR_RETURN(CompressedModel cm, mode(model, o.exclude));
  model = std::move(cm.model);
  return Status::Ok();
}

// --int4-rounding activations: the mean x^2 of each channel the int4 layers read, on
// `count` rendered inputs (the --calib-count set, not kiln eval's), by value name.
Result<std::map<std::string, std::vector<float>>> int4_input_power(const Model& model, int count,
                                                                   const std::map<std::string, Dims>& dims) {
  std::map<std::string, std::vector<float>> power;
  if (count < 1) return power;
  KILN_ASSIGN_OR_RETURN(auto samples, channel_calibration_set(model, count, dims));
  KILN_ASSIGN_OR_RETURN(ChannelStatsMap stats, consumer_input_means(model, samples));
  for (const auto& [v, cs] : stats) {
    std::vector<float>& ch = power[model.values[size_t(v)].name];
    for (size_t i = 0; i < cs.mean.size(); ++i) ch.push_back(static_cast<float>(cs.var[i] + cs.mean[i] * cs.mean[i]));
  }
  return power;
}

}  // namespace

int channel_prune_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model,
                       CompressResults& r) {
  progress("pruning " + o.prune_channels + " of the output channels of Conv / Gemm / MatMul layers");
  // MACs depend on the image size: counted only when every input dim is known.
  bool dims_known = true;
  for (int i : model.graph.inputs) {
    const Value& v = model.values[static_cast<size_t>(i)];
    dims_known &= p.dims.count(v.name) || (v.shape && shape_is_fixed(*v.shape));
  }
  if (!dims_known) {
    std::cerr << "kiln: note: MACs not counted: the input has symbolic dims (pass --input-shape)\n";
  } else if (auto mc = count_macs(model, p.dims); mc.ok()) {
    r.macs_before = *mc;
  } else {
    std::cerr << "kiln: warning: no MAC count: " << mc.status().to_string() << "\n";
  }
  ChannelPruneOptions co;
  co.fraction = p.channel_fraction;
  co.exclude = o.exclude;
  if (o.calib_count > 0) {  // bias compensation: channel means on the rendered eval set
    auto calib = channel_calibration_set(model, o.calib_count, p.dims);
    if (!calib.ok())
      return fail(calib.status().with_context("calibration inputs for bias compensation (--calib-count 0: none)"));
    co.calibration = std::move(calib).value();
  }
  if (o.prune_sensitivity) {
    auto sp = prune_channels_by_sensitivity(model, co);
    if (!sp.ok()) return fail(sp.status().with_context(o.input));
    r.chprune = sp->stats;
    r.sensitivity = sp->sets;
  } else {
    auto cs = prune_channels(model, co);
    if (!cs.ok()) return fail(cs.status().with_context(o.input));
    r.chprune = *cs;
  }
  if (r.macs_before >= 0)
    if (auto mc = count_macs(model, p.dims); mc.ok()) r.macs_after = *mc;
  if (r.chprune.pruned.empty()) {
    for (const std::string& line : r.chprune.skipped) std::cerr << "  not pruned: " << line << "\n";
    return fail(o.input + (r.chprune.skipped.empty()
                               ? ": no Conv / Gemm / MatMul in the main graph to prune (layers inside If / Loop "
                                 "bodies are not followed)"
                               : ": no channel set could be pruned (reasons above)"));
  }
  return 0;
}

int prune_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model, CompressResults& r) {
  const PruneSpec& spec = p.prune_spec;
  progress(spec.n_m ? "pruning " + o.prune + " (N:M) weights of MatMul / Gemm / 1x1 Conv"
                    : "pruning " + o.prune + (o.prune_global ? " (global)" : " (per layer)") +
                          " of MatMul / Gemm / 1x1 Conv weights by magnitude");
  PruneOptions po;
  po.sparsity = spec.sparsity, po.global = o.prune_global, po.n = spec.n, po.m = spec.m;
  po.exclude = o.exclude;
  po.min_elements = std::max<int64_t>(o.min_elements, 1024);
  auto ps = spec.n_m ? prune_n_m(model, po) : prune_magnitude(model, po);
  if (!ps.ok()) return fail(ps.status().with_context(o.input));
  r.prune = *ps;
  if (r.prune.layers == 0)
    return fail(o.input + ": no MatMul, Gemm or (non-depthwise) Conv with a constant float32 weight of at least " +
                std::to_string(po.min_elements) + " elements; nothing to prune");
  return 0;
}

int quantize_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model,
                  CompressResults& r) {
  // With --int4, --auto-precision chooses int4's layers: a fragile one is left to --int8
  // (which then runs inside the mode, on whatever int4 left) or to float.
  const bool auto_int4 = p.auto_precision && o.int4;
  const bool budget = !std::isnan(o.target_ratio);  // --target-ratio: int8 runs inside its mode
  Int8DynamicOptions int8_opts;
  int8_opts.min_elements = o.min_elements;
  int8_opts.exclude = o.exclude;
  const Int8ConvScope int8_scope = o.int8_conv == "none"        ? Int8ConvScope::kNone
                                   : o.int8_conv == "pointwise" ? Int8ConvScope::kPointwise
                                                                : Int8ConvScope::kAll;
  // The int8 mode, also auto_precision's callback: the stats are the last call's, i.e. the
  // final model's.
  CompressMode int8_mode = [&](const Model& m, const std::vector<std::string>& exclude) -> Result<CompressedModel> {
    CompressedModel cm{m, {}};
    Int8DynamicOptions mo = int8_opts;
    mo.exclude = exclude;
    KILN_ASSIGN_OR_RETURN(r.int8, quantize_int8_dynamic(cm.model, mo));
    KILN_ASSIGN_OR_RETURN(r.conv, quantize_int8_conv(cm.model, mo, int8_scope));  // channels-last: kiln.NhwcConv
    cm.layers = r.int8.converted_nodes;
    cm.layers.insert(cm.layers.end(), r.conv.converted_nodes.begin(), r.conv.converted_nodes.end());
    return cm;
  };
  if (o.int4) {
    progress("quantizing MatMul / Gemm / Conv weights to int4 (blocks of 32, fp16 scales; dynamic activations)");
    Int4BlockOptions io;
    io.min_elements = o.min_elements;
    // --target-ratio chooses per layer, so it looks at every convolution unless told otherwise.
    const std::string conv_scope = o.int4_conv.empty() ? (budget ? "all" : "none") : o.int4_conv;
    io.pointwise_convs = conv_scope != "none";
    io.other_convs = conv_scope == "all";
    io.asymmetric = o.int4_min;
    io.fit_scales = o.int4_rounding != "absmax";
    if (o.int4_rounding == "activations") {
      // Without the measurement (inputs kiln cannot make up for this model) the fit is unweighted.
      if (auto power = int4_input_power(model, o.calib_count, p.dims); power.ok())
        io.input_power = std::move(power).value();
      else
        std::cerr << "kiln: note: int4 scales fitted without activation weights: " << power.status().to_string()
                  << "\n";
    }
    CompressMode int4_mode = [&](const Model& m, const std::vector<std::string>& exclude) -> Result<CompressedModel> {
      CompressedModel cm{m, {}};
      Int4BlockOptions mo = io;
      mo.exclude = exclude;
      KILN_ASSIGN_OR_RETURN(r.int4, quantize_int4_block(cm.model, mo));
      cm.layers = r.int4.converted_nodes;
      if (auto_int4 && o.int8) {  // the user's exclusions only: int8 takes the layers int4 gave back
        KILN_ASSIGN_OR_RETURN(CompressedModel q8, int8_mode(cm.model, o.exclude));
        cm.model = std::move(q8.model);
      }
      return cm;
    };
    if (budget) {
      progress("choosing each layer's precision for --target-ratio " + fmt("%g", o.target_ratio) +
               " (int4, int4-min, int8 or float; measured per layer)");
      if (Status s = precision_budget_step(o, p, io, int8_mode, model, r); !s.ok()) return fail(s.with_context(o.input));
    } else if (Status s = apply_mode(o, p, auto_int4, model, int4_mode, r.auto_report, "int4", o.int8 ? "int8" : "float");
               !s.ok()) {
      return fail(s.with_context(o.input));
    }
    if (r.int4.converted == 0 && !o.fp16 && !o.int8)
      return fail(o.input + ": no MatMul, Gemm or (non-depthwise) Conv with a constant float32 weight of at least " +
                  std::to_string(o.min_elements) + " elements; nothing to quantize to int4");
  }
  if (o.int8) {
    progress("quantizing MatMul / Gemm / Conv weights to int8 (dynamic activations)");
    if (!auto_int4 && !budget) {  // with them, int8 ran inside int4's mode
      if (Status s = apply_mode(o, p, p.auto_precision, model, int8_mode, r.auto_report, "int8", "float"); !s.ok())
        return fail(s.with_context(o.input));
    }
    r.int8.converted += r.conv.converted;  // the totals in the report cover both kinds
    if (r.int8.converted == 0 && !o.fp16 && r.int4.converted == 0)
      return fail(o.input + ": no MatMul, Gemm or Conv with a constant float32 weight of at least " +
                  std::to_string(o.min_elements) + " elements; nothing to quantize");
  }
  return 0;
}

// --int8-static DIR: calibration set -> ranges -> QDQ rewrite (compress/int8_static.h) ->
// fuse_qdq, which turns the quantized groups into int8 ops.
static Status calibrate_and_quantize(const CompressOptions& o, const CompressPlan& p, Progress& progress,
                                     Model& model, CompressResults& r) {
  progress("loading the calibration set " + o.int8_static);
  std::vector<TensorDesc> inputs;
  for (int i : model.graph.inputs) {
    const Value& v = model.values[static_cast<size_t>(i)];
    inputs.push_back({v.name, v.dtype, v.shape.value_or(Shape{})});
  }
  KILN_ASSIGN_OR_RETURN(std::vector<TensorMap> samples, load_calibration_set(o.int8_static, inputs, p.dims));
  if (samples.empty()) return invalid_argument(o.int8_static + ": no calibration samples (.npy or .png files)");
  r.calibration_samples = static_cast<int>(samples.size());
  progress(std::string("calibrating activation ranges (") + calibration_method_name(p.calibration) + ") on " +
           std::to_string(samples.size()) + " samples");
  CalibrationOptions co;
  co.method = p.calibration;
  co.percentile = o.percentile;
  co.progress = [](const std::string& stage, int done, int total) {
    std::fprintf(stderr, "  %s %d/%d\n", stage.c_str(), done, total);
  };
  KILN_ASSIGN_OR_RETURN(CalibrationRanges ranges, calibrate(model, samples, co));
  r.calibrated_tensors = ranges.size();
  progress("rewriting into QDQ (int8 weights and activations) and fusing int8 ops");
  Int8StaticOptions so;
  so.exclude = o.exclude;
  KILN_ASSIGN_OR_RETURN(r.int8_static, quantize_int8_static(model, ranges, so));
  if (o.keep_qdq) {
    r.fused_qdq = "not run (--keep-qdq): QuantizeLinear / DequantizeLinear run as fake quant";
  } else {
    KILN_ASSIGN_OR_RETURN(PassReport rep, run_pass(model, "fuse_qdq"));
    r.fused_qdq = describe(rep);
  }
  return Status::Ok();
}

int int8_static_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model,
                     CompressResults& r) {
  if (Status s = calibrate_and_quantize(o, p, progress, model, r); !s.ok()) return fail(s.with_context(o.input));
  if (r.int8_static.quantized == 0) {
    for (const std::string& why : r.int8_static.skip_reasons) std::cerr << "  left float: " << why << "\n";
    return fail(o.input + ": no convolution, MatMul or Gemm could be quantized (reasons above)");
  }
  return 0;
}

int fp16_step(const CompressOptions& o, Progress& progress, Model& model, CompressResults& r) {
  progress("storing weights as float16");
  Fp16Options fo;
  fo.min_elements = o.min_elements;
  fo.exclude = o.exclude;
  auto stats = store_weights_fp16(model, fo);
  if (!stats.ok()) return fail(stats.status().with_context(o.input));
  r.fp16 = *stats;
  if (r.fp16.converted == 0 && r.int8.converted == 0 && r.int4.converted == 0 && r.int8_static.quantized == 0)
    return fail(o.input + ": no float32 weight of at least " + std::to_string(o.min_elements) +
                " elements to convert; nothing to compress");
  return 0;
}

}  // namespace kiln::cli
