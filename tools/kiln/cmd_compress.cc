// kiln compress: a .kiln model -> a smaller .kiln model, with a report of what it cost
// (size by dtype, output error against the original on test inputs, latency), printed and
// stored in the output's metadata ("kiln.compression") so `kiln inspect` shows it.
// The steps are in cmd_compress_steps.cc, the report in cmd_compress_report.cc.
#include <cmath>
#include <iostream>
#include <memory>

#include "cli_util.h"
#include "cmd_compress.h"
#include "commands.h"
#include "format/model_io.h"
#include "graph/input_shapes.h"

namespace kiln::cli {
namespace {

std::string default_output(const std::string& in, const std::string& mode) {
  std::string base = in;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".kiln") == 0) base.resize(base.size() - 5);
  return base + "." + mode + ".kiln";
}

// Checks the options against each other and parses the values; the error names the flag.
Result<CompressPlan> plan_compress(const CompressOptions& o) {
  CompressPlan p;
  p.int8_static = !o.int8_static.empty();
  if (!o.fp16 && !o.int8 && !o.int4 && !p.int8_static && o.prune.empty() && o.prune_channels.empty())
    return invalid_argument("choose a compression mode: --fp16, --int8, --int8-static DIR and/or --int4, --prune or --prune-channels (see 'kiln compress --help')");
  if (p.int8_static && o.int8) return invalid_argument("--int8 and --int8-static both quantize to int8: choose one");
  KILN_ASSIGN_OR_RETURN(p.calibration, parse_calibration_method(o.calibration));
  if (!(o.percentile > 0 && o.percentile <= 100)) return invalid_argument("--percentile must be in (0, 100]");
  if (!o.prune_channels.empty()) {
    KILN_ASSIGN_OR_RETURN(p.channel_fraction, parse_channel_fraction(o.prune_channels));
  }
  if (!o.prune.empty()) {
    KILN_ASSIGN_OR_RETURN(p.prune_spec, parse_prune_spec(o.prune));
  }
  std::string& mode = p.mode;
  mode = o.int8 && o.fp16 ? "int8+fp16" : o.int8 ? "int8" : o.fp16 ? "fp16" : "";
  if (!o.prune.empty()) {
    const PruneSpec& ps = p.prune_spec;
    const std::string m = ps.n_m ? "prune" + std::to_string(ps.n) + "of" + std::to_string(ps.m)
                                 : "prune" + std::to_string(static_cast<int>(ps.sparsity * 100 + 0.5));
    mode = mode.empty() ? m : m + "+" + mode;
  }
  if (!o.prune_channels.empty()) {
    const std::string m = "chprune" + std::to_string(static_cast<int>(p.channel_fraction * 100 + 0.5));
    mode = mode.empty() ? m : m + "+" + mode;
  }
  if (p.int8_static) mode = mode.empty() ? "int8-static" : mode + "+int8-static";
  if (o.int4_min && !o.int4) return invalid_argument("--int4-min goes with --int4");
  if (o.int4) mode = (o.int4_min ? std::string("int4-min") : std::string("int4")) + (mode.empty() ? "" : "+" + mode);
  p.auto_precision = !std::isnan(o.auto_precision);
  if (p.auto_precision && !o.int8 && !o.int4)
    return invalid_argument("--auto-precision chooses the precision of --int8's (or --int4's) layers; add --int8 or --int4");
  if (p.auto_precision && !(o.auto_precision >= 0 && o.auto_precision <= 120))
    return invalid_argument("--auto-precision is a per-layer SNR in dB, in [0, 120]");
  if (!std::isnan(o.target_ratio)) {
    if (!o.int4) return invalid_argument("--target-ratio chooses among int4, int4-min, int8 and float per layer; add --int4");
    if (p.auto_precision) return invalid_argument("--target-ratio and --auto-precision both choose layer precisions: choose one");
    if (o.int4_min) return invalid_argument("--target-ratio chooses the int4-min layers itself; drop --int4-min");
    if (!(o.target_ratio >= 1 && o.target_ratio <= 1000)) return invalid_argument("--target-ratio must be in [1, 1000]");
    mode = "ratio" + fmt("%g", o.target_ratio) + (mode.substr(0, 4) == "int4" ? mode.substr(4) : "+" + mode);
  }
  if (o.auto_max_layers < 0) return invalid_argument("--auto-max-layers must be >= 0");
  if (o.eval_runs < 1 || o.eval_runs > 1000) return invalid_argument("--eval-runs must be in [1, 1000]");
  if (o.calib_count < 0 || o.calib_count > 1000) return invalid_argument("--calib-count must be in [0, 1000]");
  if (o.prune_sensitivity && o.prune_channels.empty())
    return invalid_argument("--prune-sensitivity goes with --prune-channels F");
  if (o.latency_runs < 0 || o.latency_runs > 1000) return invalid_argument("--latency-runs must be in [0, 1000]");
  if (o.threads > 64) return invalid_argument("--threads must be at most 64 (0 = all cores)");
  for (const std::string& text : o.input_shapes) {
    KILN_ASSIGN_OR_RETURN(InputShapeSpec spec, parse_input_shape(text));
    if (!shape_is_fixed(spec.shape)) return invalid_argument("--input-shape " + text + ": every dim must be a number here");
    p.dims[spec.input] = shape_dims(spec.shape);
  }
  return p;
}

int run_compress(const CompressOptions& o) {
  auto plan = plan_compress(o);
  if (!plan.ok()) return fail(plan.status());
  const CompressPlan& p = *plan;
  Progress progress{2 + int{!o.prune_channels.empty()} + int{!o.prune.empty()} + int{o.fp16} + int{o.int8} +
                    int{o.int4} + int{!std::isnan(o.target_ratio)} + 3 * int{p.int8_static} + (o.no_eval ? 0 : 2)};
  progress("reading " + o.input);
  auto bytes = read_model_file(o.input);
  if (!bytes.ok()) return fail(bytes.status());
  auto model = read_model(*bytes);
  if (!model.ok()) return fail(model.status().with_context(o.input));
  const auto before = constant_bytes_by_dtype(*model);

  // Channel pruning first (a smaller dense graph), then pruning (it reads float32 weights),
  // then int4 / int8, then fp16.
  CompressResults r;
  if (!o.prune_channels.empty())
    if (int rc = channel_prune_step(o, p, progress, *model, r)) return rc;
  if (!o.prune.empty())
    if (int rc = prune_step(o, p, progress, *model, r)) return rc;
  if (o.int4 || o.int8)
    if (int rc = quantize_step(o, p, progress, *model, r)) return rc;
  if (p.int8_static)
    if (int rc = int8_static_step(o, p, progress, *model, r)) return rc;
  if (o.fp16)
    if (int rc = fp16_step(o, progress, *model, r)) return rc;
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
  add_report_fields(o, p, r, report);
  report["file_bytes_before"] = (*bytes)->size();
  for (const auto& [k, v] : before) report["weights_before"][k] = v;
  for (const auto& [k, v] : after) report["weights_after"][k] = v;
  print_summary(o, p, r, before, after);
  if (!o.no_eval)
    if (int rc = eval_step(o, p, *bytes, out_bytes, **test, so, progress, report)) return rc;

  // The report goes into the file itself; the file size it states is the final one.
  std::erase_if(model->metadata, [](const auto& kv) { return kv.first == "kiln.compression"; });
  model->metadata.emplace_back("kiln.compression", report.dump());
  auto final_bytes = write_model(*model);
  if (!final_bytes.ok()) return fail(final_bytes.status());
  const std::string out = o.output.empty() ? default_output(o.input, p.mode) : o.output;
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
                  "Convolutions --int4 converts: none (default, except all with --target-ratio), pointwise (1x1) "
                  "or all (not depthwise; kxk via im2col)")
      ->check(CLI::IsMember({"none", "pointwise", "all"}));
  app->add_flag("--int4-min", o->int4_min,
                "With --int4: asymmetric blocks, an fp16 min beside each fp16 scale (codes 0..15 over the "
                "block's [min, max]: smaller error on skewed blocks, 1 more byte per 16)");
  app->add_option("--int4-rounding", o->int4_rounding,
                  "With --int4: how each block's fp16 scale (and min) is chosen (same bytes either way): "
                  "activations (default: the clipped range with the smallest squared error of the block, each "
                  "weight's error weighted by the mean x^2 of its input channel on --calib-count rendered inputs), "
                  "weights (unweighted) or absmax (max |w| / 7, no search)")
      ->check(CLI::IsMember({"activations", "weights", "absmax"}));
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
                  "removed channels' means are measured and folded into the next layer's bias (default 8; 0: off); "
                  "with --int4, the inputs whose channel powers weight the fitted int4 scales (0: unweighted)");
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
  app->add_option("--target-ratio", o->target_ratio,
                  "With --int4: make the file R times smaller than the input (e.g. 6) with the most accurate "
                  "mix: each layer int4 takes (every convolution unless --int4-conv says otherwise) gets int4, "
                  "int4-min, int8 or float (float16 with --fp16), each layer only int8 takes (depthwise) int8 or "
                  "float, by the model's output SNR with that layer alone at each precision (--eval-count rendered "
                  "inputs, another seed than kiln eval's), upgrading the most noise per byte first while the file "
                  "fits; the choice is printed and stored in the report")
      ->type_name("R");
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
