// fp16 weight storage: each large float32 weight becomes a float16 constant read through
// a Cast(to=FLOAT) node, which the loader folds back (runtime/stored_weights.h). The file
// shrinks by about half; compute stays float32, so only the weights' rounding changes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct Fp16Options {
  // Smaller tensors (biases, scales, shape helpers) stay float32: they weigh nothing and
  // some (Resize scales, epsilons) are read as exact values.
  int64_t min_elements = 256;
  std::vector<std::string> exclude;  // value or (main-graph) node names, or a prefix ending in '*', to keep
};

struct Fp16Stats {
  int converted = 0;          // tensors now stored as float16
  int out_of_range = 0;       // kept float32: a value beyond float16's ±65504
  uint64_t bytes_before = 0;  // of the converted tensors
  uint64_t bytes_after = 0;
  double max_rounding = 0;    // largest |w - fp16(w)| over converted weights
};

// Rewrites the model in place (it must be validated). Weights read inside a subgraph or
// used as graph outputs are left alone.
Result<Fp16Stats> store_weights_fp16(Model& m, const Fp16Options& options = {});

}  // namespace kiln
