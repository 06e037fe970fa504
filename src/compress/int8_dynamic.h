// int8 dynamic quantization of a model (issue 7): every MatMul with a constant 2-D float
// B (also with a fused kiln.bias) and every Gemm with a constant B (transB, alpha and a
// per-column C folded in) becomes a kiln.DynamicQuantMatMul (graph/kiln_extensions.h)
// with int8 weights, symmetric per output column. Activations are quantized per row at
// run time, so no calibration data is needed. The float weights are dropped from the
// model afterwards (weights shared by several nodes are quantized once).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct Int8DynamicOptions {
  // Nodes to leave in float, by node name or weight (B) name: exact names, or a prefix
  // ending in '*' ("head/*").
  std::vector<std::string> exclude;
  // Weights with fewer elements stay float: their int8 saving is negligible and the
  // per-row quantization costs more than it saves.
  int64_t min_elements = 1024;
};

struct Int8DynamicStats {
  int converted = 0;  // nodes rewritten
  int skipped = 0;    // MatMul / Gemm nodes left in float (excluded, too small, non-constant B, ...)
  // Bytes of the converted nodes' weights (matrix, bias) before, and of the int8 matrix,
  // scales and bias after.
  int64_t bytes_before = 0, bytes_after = 0;
  std::vector<std::string> converted_nodes;
};

// Whether `name` matches one of the patterns (exact, or prefix followed by '*').
bool name_matches(const std::string& name, const std::vector<std::string>& patterns);

// Rewrites the model in place (main graph and subgraphs), then removes unused values.
Result<Int8DynamicStats> quantize_int8_dynamic(Model& model, const Int8DynamicOptions& options = {});

}  // namespace kiln
