// int8 convolutions for `kiln compress --int8` (issue 7): every channels-last convolution
// (kiln.NhwcConv, written by the nhwc_layout pass that `kiln convert` runs) with constant
// float32 weights becomes a kiln.DynamicQuantConv (graph/kiln_extensions.h): weights int8,
// symmetric per output channel, with a float32 scale per channel; the bias stays float32;
// activations are quantized at run time (no calibration data). Depthwise layers (one input
// and one output channel per group) convert too, but keep float activations: the op runs
// them on the f32-qc8w depthwise kernels (int8 weights widened in registers). Layers with
// fewer than 8 input channels per group (stems reading the image) stay float. Plain ONNX Conv nodes (a model converted with --no-optimize)
// are left as they are.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compress/int8_dynamic.h"
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct Int8ConvStats {
  int converted = 0;  // kiln.NhwcConv nodes rewritten
  int depthwise = 0;  // of `converted`, the depthwise ones (int8 weights, float activations)
  int skipped = 0;    // other convolutions left float (excluded, too small, out of scope, non-constant weights, ...)
  // Bytes of the converted nodes' weights and biases before, and of int8 weights, scales
  // and biases after.
  int64_t bytes_before = 0, bytes_after = 0;
  std::vector<std::string> converted_nodes;
};

// Which convolutions to convert: all, only the pointwise ones (1x1, stride 1, unpadded,
// group 1: their activations are quantized per pixel, like MatMul rows) and the depthwise
// ones (float activations), or none. The others quantize each image with one scale, which
// costs more accuracy.
enum class Int8ConvScope { kAll, kPointwise, kNone };

// Rewrites the model in place (main graph and subgraphs), then removes unused values.
// options.exclude matches node names and weight names; options.min_elements skips small
// weights (same meaning as for MatMul / Gemm).
Result<Int8ConvStats> quantize_int8_conv(Model& model, const Int8DynamicOptions& options = {},
                                         Int8ConvScope scope = Int8ConvScope::kAll);

}  // namespace kiln
