// `kiln eval`: how much a compressed model still does its job, next to its original. Both
// run on the same real inputs (rendered text for the OCR tasks, or the user's tensors) and
// are scored at the task level (classifier top-1 agreement, recognizer CTC string accuracy
// against the ground truth, detector box IoU), per output (max / mean |error|, SNR), per
// layer (SNR of every intermediate tensor both models share by name) and by latency.
// `kiln compress` calls the same function on a small rendered set for its report.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compress/eval_data.h"
#include "compress/eval_metrics.h"
#include "compress/latency.h"
#include "core/status.h"

namespace kiln {

struct EvalOptions {
  EvalTask task = EvalTask::kAuto;
  EvalDataOptions data;                // count, seed, word list, font, input dims (task is set here)
  std::vector<TensorMap> user_inputs;  // when not empty: these instead of rendered inputs
  std::vector<std::string> keys;       // recognizer classes, [0] the CTC blank; empty: no strings
  int latency_runs = 5;                // timed runs per model (0: none)
  int layer_runs = 4;                  // inputs run with every intermediate exposed (0: no per-layer SNR)
  size_t num_threads = 1;              // per session (1: the single-thread latency)
  // Called as work advances: a stage name, items done, items in the stage.
  std::function<void(const std::string& stage, int done, int total)> progress;
};

struct NamedError {
  std::string name, op_type;  // op_type: the producing node's (layers only)
  ErrorStats stats;
};

struct EvalReport {
  EvalTask task = EvalTask::kGeneric;
  std::string inputs;  // what the eval set is
  int samples = 0;
  uint64_t ref_bytes = 0, test_bytes = 0;
  // classifier: argmax agreement; against the labels when the set has them
  int64_t top1_agree = 0, labelled = 0, ref_correct = 0, test_correct = 0;
  // recognizer: same decoded class sequence; against the rendered text when keys are known
  int64_t strings_agree = 0, with_truth = 0, ref_exact = 0, test_exact = 0;
  double ref_char_accuracy = 0, test_char_accuracy = 0;  // means over with_truth lines
  std::vector<std::string> examples;  // a few "truth | original | compressed" lines
  // detector: test boxes against the original's; each model against the rendered lines
  BoxMatch boxes, ref_vs_truth, test_vs_truth;
  std::vector<NamedError> outputs;
  std::vector<NamedError> layers;  // worst SNR first
  int layer_samples = 0;
  PairLatency latency;  // runs == 0: not timed
};

// The recognizer's classes from a PaddleOCR key file: blank, one class per line, then ' '.
Result<std::vector<std::string>> load_ctc_keys(const std::string& path);

// `ref` and `test` are .kiln files' bytes (the same interface required).
Result<EvalReport> evaluate(std::shared_ptr<const std::vector<uint8_t>> ref,
                            std::shared_ptr<const std::vector<uint8_t>> test, const EvalOptions& options);

// Machine-readable and printed forms (eval_report.cc); the text lists `worst_layers` layers.
nlohmann::json eval_report_json(const EvalReport& report, int worst_layers = 10);
std::string eval_report_text(const EvalReport& report, int worst_layers = 5);
// Only the task lines (task, inputs, agreement / accuracy / boxes), as kiln compress prints them.
std::string eval_task_text(const EvalReport& report);

}  // namespace kiln
