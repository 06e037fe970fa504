// int4 block quantization of a model (issue 7, `kiln compress --int4`): every MatMul with a
// constant 2-D float B (also with a fused kiln.bias) and every Gemm with a constant B
// (transB, alpha and a per-column C folded in) becomes a kiln.BlockQuantMatMul; on request
// (options below) 1x1 stride-1 unpadded group-1 kiln.NhwcConv layers too (a MatMul over
// their channels-last pixels), and other group-1 kiln.NhwcConv layers with >= 8 input
// channels become kiln.BlockQuantConv
// (graph/kiln_extensions.h): int4 weights, symmetric in blocks of 32 along K with one fp16
// scale per block and output column, stored two to a byte. Activations are quantized to
// int8 per row (pixel) at run time (no calibration). Block scales are fitted to the weights
// (int4_rounding.h) unless `fit_scales` is off. Depthwise / grouped convolutions are
// not converted (they stay as they are, or go to fp16 with --fp16). Weights shared by several nodes are quantized once;
// the float weights are dropped afterwards.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compress/int8_dynamic.h"
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct Int4BlockOptions {
  std::vector<std::string> exclude;  // node or weight names, or prefixes ending in '*'
  int64_t min_elements = 1024;       // smaller weights stay float
  // Which kiln.NhwcConv layers convert (none by default: on the recognizer, int4 in every
  // backbone convolution drops the output SNR to ~5 dB, see the README's eval table).
  bool pointwise_convs = false;  // 1x1 stride 1 unpadded -> kiln.BlockQuantMatMul
  bool other_convs = false;      // the rest (group 1, >= 8 input channels) -> kiln.BlockQuantConv
  // The asymmetric form (`--int4-min`): per block an fp16 min too, codes 0..15 spanning
  // [min, max] of the block instead of [-max|w|, max|w|] (W_min, the ops' 5th input).
  bool asymmetric = false;
  // Nodes (names or prefixes ending in '*') in the asymmetric form even without `asymmetric`:
  // a per-layer mix (compress/precision_budget.h).
  std::vector<std::string> asymmetric_nodes;
  // Each block's scale (and min) chosen to minimize its squared error (compress/int4_rounding.h,
  // the default); false: scale = absmax / 7 (min form: [min, max] / 15), the kernels' quantizer.
  bool fit_scales = true;
  // With fit_scales: per data-input value name, the mean of x^2 of each of its channels on
  // calibration inputs; a layer reading such a value weights its blocks' squared error by it
  // (the error that reaches the output: an outlier channel's weights get the finer step).
  std::map<std::string, std::vector<float>> input_power;
};

struct Int4BlockStats {
  int converted = 0, skipped = 0;  // skipped: MatMul / Gemm / pointwise convs left alone
  int pointwise_convs = 0;          // of `converted`, 1x1 kiln.NhwcConv -> kiln.BlockQuantMatMul
  int convs = 0;                    // of `converted`, other kiln.NhwcConv -> kiln.BlockQuantConv
  // Bytes of the converted nodes' weights (matrix, bias) before, and of the nibbles, fp16
  // scales and bias after.
  int64_t bytes_before = 0, bytes_after = 0;
  // Largest |w - dequant(w)| / block scale: <= 0.5 with absmax scales; fitted ones clip a
  // block's extremes, which then exceed 0.5 steps to make the rest finer.
  double max_block_error = 0;
  double weight_sq_error = 0, weight_sq_sum = 0;  // sum (w - dequant(w))^2 and sum w^2 over converted weights
  std::vector<std::string> converted_nodes;
};

// Rewrites the model in place (main graph and subgraphs), then removes unused values.
Result<Int4BlockStats> quantize_int4_block(Model& model, const Int4BlockOptions& options = {});

}  // namespace kiln
