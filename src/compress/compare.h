// How far a compressed model's outputs drift from its original's: both sessions run on the
// same deterministic inputs and every float output is compared (max / mean absolute error
// and signal-to-noise ratio), plus each model's latency (compress/latency.h: interleaved,
// order swapped each round, thread CPU time when single-threaded, medians). This is
// the "anything" comparison of `kiln eval`; `kiln compress` prints it as its report.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compress/latency.h"
#include "core/status.h"
#include "runtime/session.h"

namespace kiln {

struct CompareOptions {
  int runs = 4;           // input sets compared
  int latency_runs = 5;   // timed runs per model, after the comparison runs (0: no timing)
  uint64_t seed = 1;
  // Dims for inputs with symbolic or unknown dims (else those dims are 1).
  std::map<std::string, Dims> input_dims;
};

struct OutputError {
  std::string name;
  int64_t count = 0;      // elements compared over all runs
  double max_abs = 0, mean_abs = 0;
  double snr_db = 0;      // 10 log10(sum ref^2 / sum err^2); +inf when equal
};

struct CompareReport {
  std::vector<OutputError> outputs;  // float outputs only
  std::vector<std::string> exact;    // non-float outputs: "equal" or a mismatch note
  PairLatency latency;               // runs == 0: not timed
};

// Deterministic inputs for a session: floats uniform in [0, 1) (image-like), integers in
// [0, 8), bools false; dims from `dims` or the declared shape (open dims = 1).
Result<TensorMap> make_inputs(const std::vector<TensorDesc>& inputs, const std::map<std::string, Dims>& dims,
                              uint64_t seed);

// Runs both (same interface required) and compares; errors name the input set that failed.
Result<CompareReport> compare_sessions(Session& ref, Session& test, const CompareOptions& options);

}  // namespace kiln
