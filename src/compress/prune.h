// Weight pruning (issue 7): zeros the smallest-magnitude weights of the layers kiln's
// sparse kernels (kernels/f32-spmm) run, so that at load time those layers pack sparse
// (f32_spmm_preferred) and skip the zeros. The graph keeps its shape: weights stay dense
// float32 tensors with exact zeros (they also compress well when the file is gzipped).
//
// Layers: MatMul with a constant 2-D float B, Gemm with a constant B (transA = 0), and
// 1x1 group-1 Conv / kiln.NhwcConv (W [Cout, Cin, 1, 1]): everything that is a GEMM over rows.
// Weights shared by several nodes are pruned once.
//   prune_magnitude  per layer: exactly round(sparsity x elements) zeros per weight, the
//                    smallest |w| first (ties by position); global: one threshold over
//                    all selected weights together (layers end up unevenly sparse).
//   prune_n_m        N:M (e.g. 2:4): in every run of M consecutive weights along the input
//                    channel (K) of each output channel, the M - N smallest become zero;
//                    a shorter last run keeps min(N, its length).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct PruneOptions {
  double sparsity = 0.5;  // magnitude: fraction of each selected weight to zero, [0, 1]
  bool global = false;    // magnitude: one threshold over all selected weights
  int n = 2, m = 4;       // N:M: keep n of every m
  // Smaller weights are left alone (their zeros buy nothing; small heads are sensitive).
  int64_t min_elements = 1024;
  std::vector<std::string> exclude;  // node or weight names, or prefixes ending in '*'
};

struct PrunedLayer {
  std::string node, weight;
  int64_t elements = 0, zeros = 0;
  bool sparse_kernel = false;  // sparse enough for the SpMM kernels at load (f32_spmm_preferred)
};

struct PruneStats {
  int layers = 0;   // weights pruned
  int skipped = 0;  // candidate nodes left alone (excluded, too small, not constant, ...)
  int sparse_layers = 0;  // pruned weights that will run on the sparse kernels
  int64_t elements = 0;                   // in the pruned weights
  int64_t zeros_before = 0, zeros_after = 0;
  std::vector<PrunedLayer> pruned;
  double sparsity() const { return elements ? double(zeros_after) / double(elements) : 0.0; }
};

Result<PruneStats> prune_magnitude(Model& model, const PruneOptions& options);
Result<PruneStats> prune_n_m(Model& model, const PruneOptions& options);

// "0.5" -> magnitude 50%; "2:4" -> N:M. Errors name what is wrong with the text.
struct PruneSpec {
  bool n_m = false;
  double sparsity = 0;
  int n = 0, m = 0;
};
Result<PruneSpec> parse_prune_spec(const std::string& text);

}  // namespace kiln
