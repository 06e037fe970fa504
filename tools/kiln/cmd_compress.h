// kiln compress, split by responsibility: the options and what each step leaves for the
// report. cmd_compress.cc parses and validates, then runs the steps (cmd_compress_steps.cc)
// in order; cmd_compress_report.cc prints and stores what they did and compares the result
// with the original.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/calibrate.h"
#include "compress/fp16_weights.h"
#include "compress/auto_precision.h"
#include "compress/int4_block.h"
#include "compress/int8_conv.h"
#include "compress/int8_dynamic.h"
#include "compress/int8_static.h"
#include "compress/prune.h"
#include "compress/prune_channels.h"
#include "compress/prune_sensitivity.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "runtime/session.h"

namespace kiln::cli {

struct CompressOptions {
  std::string input, output;
  bool fp16 = false, int8 = false;
  bool int4 = false;  // MatMul/Gemm weights to int4 blocks (compress/int4_block.h)
  std::string int4_conv;  // which convolutions --int4 converts ("": none, all with --target-ratio)
  bool int4_min = false;           // --int4-min: asymmetric blocks (fp16 scale + fp16 min)
  std::string int4_rounding = "activations";  // --int4-rounding: activations | weights | absmax
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
  double target_ratio = NAN;    // --target-ratio R: per-layer precision under a size budget (NaN: off)
  int auto_max_layers = 32;
  std::string int8_static;  // --int8-static DIR: calibration set (compress/int8_static.h)
  std::string calibration = "percentile";
  double percentile = 99.99;
  bool keep_qdq = false;  // skip fuse_qdq: the QDQ form runs as fake quant
};

// The options checked and parsed once (cmd_compress.cc's plan_compress).
struct CompressPlan {
  std::string mode;  // names the output file: "int8+fp16", "chprune30+int8-static", ...
  double channel_fraction = 0;
  PruneSpec prune_spec;
  CalibrationMethod calibration = CalibrationMethod::kPercentile;
  std::map<std::string, Dims> dims;  // --input-shape
  bool int8_static = false, auto_precision = false;
};

// What the steps did, for the printed summary and the stored report.
struct CompressResults {
  ChannelPruneStats chprune;
  std::vector<SetSensitivity> sensitivity;  // --prune-sensitivity: per set, most sensitive first
  int64_t macs_before = -1, macs_after = -1;
  PruneStats prune;
  Int4BlockStats int4;
  Int8DynamicStats int8;  // after quantize_step: `converted` counts the convolutions too
  Int8ConvStats conv;
  nlohmann::json auto_report;
  nlohmann::json budget_report;  // --target-ratio: the per-layer choice (cmd_compress_budget.cc)
  Int8StaticStats int8_static;
  int calibration_samples = 0;
  size_t calibrated_tensors = 0;
  std::string fused_qdq;
  Fp16Stats fp16;
};

// One line per step on stderr ("[2/4] ..."), so long work shows where it is.
struct Progress {
  int total;
  int step = 0;
  double t0;
  explicit Progress(int total);
  void operator()(const std::string& what);
};

std::string fmt(const char* f, double v);  // snprintf of one number

// The steps (cmd_compress_steps.cc), in the order run_compress calls them. Each returns 0,
// or the CLI's exit code after printing the error (messages name the model file).
int channel_prune_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model,
                       CompressResults& r);
int prune_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model, CompressResults& r);
// --int4 (MatMul / Gemm, optionally convolutions), then --int8 on what is left, each
// optionally under --auto-precision.
int quantize_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model,
                  CompressResults& r);
// --target-ratio R (with --int4): each layer int4 takes gets int4 / int4-min / int8 / float
// under the budget (input file size) / R (compress/precision_budget.h); `int4` is --int4's options,
// `int8` the int8 mode (exclude list -> model). Prints the choice, fills r.budget_report.
Status precision_budget_step(const CompressOptions& o, const CompressPlan& p, const Int4BlockOptions& int4,
                             const CompressMode& int8, Model& model, CompressResults& r);
int int8_static_step(const CompressOptions& o, const CompressPlan& p, Progress& progress, Model& model,
                     CompressResults& r);
int fp16_step(const CompressOptions& o, Progress& progress, Model& model, CompressResults& r);

// The report (cmd_compress_report.cc).
void add_report_fields(const CompressOptions& o, const CompressPlan& p, const CompressResults& r,
                       nlohmann::json& report);
void print_summary(const CompressOptions& o, const CompressPlan& p, const CompressResults& r,
                   const std::map<std::string, uint64_t>& before, const std::map<std::string, uint64_t>& after);
// Outputs and latency against the original, then task-level accuracy (OCR models).
// `test` is the loaded compressed model; the original is loaded with the same options.
int eval_step(const CompressOptions& o, const CompressPlan& p, std::shared_ptr<const std::vector<uint8_t>> before,
              std::shared_ptr<const std::vector<uint8_t>> after, Session& test, const SessionOptions& so,
              Progress& progress, nlohmann::json& report);

}  // namespace kiln::cli
