// The graph optimizer's rewrite passes, one per file in this folder. Each takes a model
// that passed validate_and_sort (with shapes inferred where they can be), rewrites it in
// place following pass_util.h's protocol and reports what it changed; the pipeline
// (pipeline.h) cleans up, re-sorts and re-infers shapes after each one. Every rewrite
// keeps the graph's results (up to float rounding) and its input/output names.
#pragma once
#include "core/status.h"
#include "graph/graph.h"
#include "graph/passes/pass_util.h"

namespace kiln {

// Pre-quantized ONNX (onnxruntime's quantize_dynamic / QOperator quantize_static):
// DynamicQuantizeLinear -> MatMulInteger / ConvInteger -> Cast -> Mul(scales) [-> Add bias]
// -> float MatMul / Conv on DequantizeLinear(int8 W); QLinearConv / QLinearMatMul with
// constant weights -> DequantizeLinear -> Conv / MatMul -> QuantizeLinear (the static-int8
// QDQ form); com.microsoft QLinearAdd / QLinearConcat / QLinearGlobalAveragePool / ... ->
// DequantizeLinear -> float op -> QuantizeLinear. Weights stay int8 when exact, else float32.
Result<PassResult> unfold_quant_ops(Model& m);
// The non-ONNX ops unfold_quant_ops rewrites into ONNX ones (onnxruntime's com.microsoft
// QLinearAdd, QLinearConcat, ...): the importer accepts them for it.
bool unfold_quant_ops_imports(const std::string& domain, const std::string& op_type);
// Identity, inference-mode Dropout, Cast to the same dtype, Transpose with the identity
// perm, Reshape/Expand to the same (known) shape, Mul/Div by 1 and Add/Sub of 0.
Result<PassResult> eliminate_identity(Model& m);
// x * Clip(x + 3, 0, 6) / 6 (PaddlePaddle's exported hard-swish) -> HardSwish.
Result<PassResult> fuse_hard_swish(Model& m);
// BatchNormalization after Conv / ConvTranspose / Gemm (or MatMul with 2-D output and
// constant weights) -> new weights and bias of the producer.
Result<PassResult> fold_batchnorm(Model& m);
// ReduceMean/Sub/Pow(2)/ReduceMean/Add(eps)/Sqrt/Div [* gamma] [+ beta] over the last
// axis -> LayerNormalization.
Result<PassResult> fuse_layer_norm(Model& m);
// x * 0.5 * (1 + Erf(x / sqrt(2))) in its exported orderings -> Gelu.
Result<PassResult> fuse_gelu(Model& m);
// MatMul(x, W const 2-D) + bias const [N] -> Gemm (x known 2-D) or MatMul with the
// fused kiln.bias input.
Result<PassResult> fuse_matmul_add(Model& m);
// Mul/Div by a constant then Add/Sub of a constant: folded into the producing Conv /
// Gemm / fused MatMul when per output channel, else one kiln.Affine node.
Result<PassResult> fuse_mul_add(Model& m);
// kiln.Affine (per input channel) whose only reader is a Conv -> the Conv's weights and
// bias (the bias part needs a Conv without padding).
Result<PassResult> fold_affine_into_conv(Model& m);
// Relu, Clip (constant bounds), HardSigmoid, HardSwish, Sigmoid, LeakyRelu, Tanh and
// Swish (x * Sigmoid(x)) after
// Conv / ConvTranspose / Gemm / MatMul / kiln.Affine / float32 Add -> kiln.activation on
// the producer.
Result<PassResult> fuse_activation(Model& m);
// Cancels inverse Transpose pairs, merges consecutive Transposes, folds a Transpose of
// a constant, and moves Transposes below unary and elementwise ops (transposing their
// constant operands) so that pairs meet and cancel.
Result<PassResult> sink_transposes(Model& m);
// 2-D float32 Conv / MaxPool / AveragePool -> kiln.NhwcConv / NhwcMaxPool /
// NhwcAveragePool between Transposes, which are then moved through layout-agnostic ops
// and cancelled so they remain at the graph's edges and around ops that need NCHW.
Result<PassResult> nhwc_layout(Model& m);
// Static int8 QDQ groups DequantizeLinear(x) -> kiln.NhwcConv / MatMul (int8 weights) ->
// QuantizeLinear -> kiln.QLinearNhwcConv / kiln.QLinearMatMul, and int8 pass-through of
// kiln.NhwcMaxPool and the shape ops between equal QDQ pairs (fuse_qdq.cc).
Result<PassResult> fuse_qdq(Model& m);
// DequantizeLinear(constant int8 W, float32 scale per output channel or per tensor, zero
// point absent or 0) read only by MatMul / Gemm (transA 0) / kiln.NhwcConv (group 1) whose
// activation is not itself a DequantizeLinear output (static QDQ) ->
// kiln.DynamicQuantMatMul / kiln.DynamicQuantConv on those int8 weights, bit-exact.
Result<PassResult> import_qdq_weights(Model& m);

}  // namespace kiln
