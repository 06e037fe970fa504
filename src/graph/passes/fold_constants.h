// Constant folding: nodes whose inputs are all constants are evaluated once at conversion
// time (with the ops' own infer + run) and replaced by constant values; Shape/Size of a
// value whose shape is fully fixed fold too. Runs shape inference between rounds so that
// folding can unlock more (e.g. a Reshape whose shape came from Shape -> Gather -> Concat),
// and finishes with dead-node elimination.
#pragma once
#include <cstddef>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct FoldOptions {
  // Outputs larger than this stay computed at run time, so folding never bloats the file
  // (e.g. a big ConstantOfShape or Tile).
  size_t max_output_bytes = size_t{16} << 20;
  // Folding must not grow the file: a node folds only if its outputs are no larger than
  // its constant inputs, or at most this small (shape arithmetic). This keeps
  // ConstantOfShape/Tile/Expand, fp16->fp32 Casts and dequantization of weights computed
  // at run time, where they cost little, instead of multiplying the download size.
  size_t small_output_bytes = 1024;
  bool allow_growth = false;  // fold regardless of size growth (still under max_output_bytes)
  int max_rounds = 8;
};

struct FoldStats {
  int folded_nodes = 0;
  int removed_nodes = 0;   // by dead-node elimination
  int removed_values = 0;  // unused values dropped from the table
};

// The model must have passed validate_and_sort. Failures to evaluate a node are not
// errors (the node stays and runs at run time); only shape-inference model errors are.
Status fold_constants(Model& model, const FoldOptions& options = {}, FoldStats* stats = nullptr);

}  // namespace kiln
