// Static int8 quantization (`kiln compress --int8-static DIR`, issue 7): rewrites the
// converted (channels-last) graph into ONNX's QDQ form from calibrated activation ranges
// (compress/calibrate.h), so that the fuse_qdq pass can turn each group into one int8 op:
//  * kiln.NhwcConv (any group) and MatMul / Gemm with constant float32 weights read
//    DequantizeLinear(x_q) and DequantizeLinear(W int8, W_scale per output channel), the
//    bias as DequantizeLinear(B int32, x_scale * W_scale); Gemm becomes MatMul + kiln.bias
//    (transB, alpha and beta folded in). Their output is quantized once:
//    QuantizeLinear(y) -> y_q -> DequantizeLinear -> every reader.
//  * activations: int8, per tensor, asymmetric: scale = (max - min) / 255,
//    zero point = round(-128 - min / scale), over the calibrated range (always containing
//    0), narrowed by a fused Relu / Clip.
//  * pass-through ops (kiln.NhwcMaxPool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze)
//    on a quantized tensor give their output the same scale and zero point, so int8 can
//    flow through them; every other op reads the dequantized float.
// Nodes without a range for their input or output, excluded ones (node or weight name) and
// nodes inside subgraphs stay float.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "compress/calibrate.h"
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct Int8StaticOptions {
  // Nodes to leave in float, by node name or weight name: exact names, or a prefix ending
  // in '*' (as for --int8, compress/int8_dynamic.h).
  std::vector<std::string> exclude;
};

// The int8 form of one activation range.
struct ActivationQuant {
  float scale = 1.f;
  int8_t zero_point = 0;
};
// scale = (max - min) / 255 over the range widened to contain 0 (1 for an empty range);
// zero_point = round(-128 - min / scale), clamped to int8.
ActivationQuant activation_quant(TensorRange r);

struct Int8StaticStats {
  int quantized = 0;     // convolutions / MatMul / Gemm rewritten into QDQ
  int skipped = 0;       // such nodes left float
  std::vector<std::string> skip_reasons;  // "node 'x' (MatMul): no calibration range for 'a'"
  int pass_through = 0;  // pass-through ops whose output shares their input's scale
  int elementwise = 0;   // Add / Mul / ReduceMean(H, W) on int8 inputs given an int8 output
  int tensors = 0;       // activation tensors quantized (one QuantizeLinear each)
  // Nodes whose bias would need over 2^29 int32 steps in some channel: that channel's
  // weight scale is raised so it fits (its weights are tiny next to the bias).
  int coarser_weights = 0;
  // Bytes of the quantized nodes' weights and biases before (float32) and after (int8
  // weights, float32 scales, int32 biases); shared weights count once.
  int64_t bytes_before = 0, bytes_after = 0;
  std::vector<std::string> quantized_nodes;
};

// Rewrites the main graph in place, then removes unused values and re-sorts.
Result<Int8StaticStats> quantize_int8_static(Model& model, const CalibrationRanges& ranges,
                                             const Int8StaticOptions& options = {});

}  // namespace kiln
