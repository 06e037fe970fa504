// kiln's own additions to the ONNX graph, written by the graph optimizer
// (src/graph/passes) and understood by the ops. They are ordinary node attributes and
// nodes, so the .kiln format stores them like any other:
//
//  * Fused activation, on Conv, ConvTranspose, Gemm, MatMul, kiln.Affine and (float32) Add:
//      kiln.activation        string  Relu | Clip | HardSigmoid | HardSwish | Sigmoid |
//                                     LeakyRelu | Tanh | Swish (x * Sigmoid(x))
//      kiln.activation_alpha  float   Clip: min; HardSigmoid: alpha; LeakyRelu: alpha
//      kiln.activation_beta   float   Clip: max; HardSigmoid: beta
//    The op applies the activation in place to its output after its kernel, with the
//    same formulas as the standalone ops (src/ops/fused_activation.h).
//  * Fused bias on MatMul: kiln.bias = 1 makes input 2 a bias of shape [N] added to every
//    row of the product (MatMul followed by Add of a constant, for any input rank).
//  * kiln.Affine (domain "kiln"): Y = X * scale + bias with numpy broadcasting (a Mul by a
//    constant then an Add of a constant, in one pass over the data).
//  * Channels-last (NHWC) ops, written by the nhwc_layout pass (domain "kiln", 2-D, f32):
//      kiln.NhwcConv         X [N, H, W, C], W [M, C/group, kH, kW] (ONNX layout), optional
//                            B [M] -> Y [N, OH, OW, M]; Conv's attributes (auto_pad,
//                            dilations, group, kernel_shape, pads in ONNX order [h_begin,
//                            w_begin, h_end, w_end], strides) and the fused activation.
//      kiln.NhwcMaxPool      X [N, H, W, C] -> Y [N, OH, OW, C]; MaxPool's attributes
//                            (auto_pad, ceil_mode, dilations, kernel_shape, pads, strides),
//                            one output (no Indices).
//      kiln.NhwcAveragePool  the same with AveragePool's attributes (+ count_include_pad).
//  * kiln.DynamicQuantMatMul (domain "kiln", written by `kiln compress --int8`, see
//    src/compress/int8_dynamic.h): inputs X float32 [..., K], W int8 [K, N], W_scale
//    float32 [N], optional bias float32 [N]; output Y float32 [..., N] =
//    X x (W * W_scale) + bias, computed in int8: each row of X is quantized at run time
//    (asymmetric, per-row scale and zero point), W is symmetric per output column.
//    Takes the fused kiln.activation attributes like MatMul.
//  * kiln.DynamicQuantConv (domain "kiln", written by `kiln compress --int8` in place of
//    kiln.NhwcConv, see src/compress/int8_conv.h): X float32 [N, H, W, C], W int8
//    [M, C/group, kH, kW] symmetric per output channel, W_scale float32 [M], optional B
//    float32 [M] -> Y float32 [N, OH, OW, M]; kiln.NhwcConv's attributes and fused
//    activation. Activations are quantized at run time (per pixel for 1x1 layers, per
//    image otherwise); depthwise layers (group = C = M) keep float activations and run on
//    int8 weights widened to float (src/kernels/f32-qc8w-dwconv/).
//  * kiln.BlockQuantMatMul (domain "kiln", written by `kiln compress --int4`, see
//    src/compress/int4_block.h): inputs X float32 [..., K], W uint8 [N, ceil(K/32) * 16]
//    (int4 two's complement, column n's k = 2t in the low nibble of byte t, 2t+1 in the
//    high one, 0 past K), W_scale float16 [N, ceil(K/32)] (one per block of 32 k), optional
//    bias float32 [N]; attribute block_size (int, default and only value 32); output Y
//    float32 [..., N] = X x (W * W_scale) + bias, computed with int8 dot products (rows of
//    X quantized at run time as for kiln.DynamicQuantMatMul). Fused kiln.activation too.
//    Optional 5th input W_min float16 [N, ceil(K/32)] (`--int4-min`, the asymmetric form):
//    the nibbles are then unsigned codes 0..15 and W = code * W_scale + W_min (bias may be
//    absent before it). kiln.BlockQuantConv takes the same optional W_min.
//  * kiln.BlockQuantConv (domain "kiln", `kiln compress --int4`): kiln.NhwcConv (group 1)
//    with W uint8 [M, ceil(kH*kW*C/32) * 16] in the same int4 form, k ordered (tap row, tap
//    column, channel), W_scale float16 [M, ceil(kH*kW*C/32)], optional B float32 [M];
//    kiln.NhwcConv's attributes with kernel_shape required, block_size 32. Runs as im2col
//    rows (one per output pixel, quantized to int8 each) times the int4 GEMM.
//  * kiln.QLinearNhwcConv (domain "kiln", written by the fuse_qdq pass from a static int8
//    QDQ group DequantizeLinear -> kiln.NhwcConv -> QuantizeLinear): QLinearConv's nine
//    inputs x int8 [N, H, W, C], x_scale f32 scalar, x_zero_point int8 scalar, w int8
//    [M, C/group, kH, kW], w_scale f32 [M] or scalar, w_zero_point int8 (absent or 0 for
//    the fast kernels), y_scale f32 scalar, y_zero_point int8 scalar (required), optional
//    B int32 [M] at scale x_scale * w_scale[m] -> Y int8 [N, OH, OW, M]; kiln.NhwcConv's
//    attributes and fused activation, applied to the real value before requantizing
//    (Relu and Clip become the int8 clamp).
//  * kiln.QLinearMatMul (domain "kiln", fuse_qdq from DequantizeLinear -> MatMul ->
//    QuantizeLinear): ONNX QLinearMatMul's eight inputs with A int8 [..., K] (per-tensor
//    scale and zero point), B int8 [K, N] (b_scale [N] or scalar), Y int8 [..., N], plus an
//    optional input 8, bias int32 [N] at scale a_scale * b_scale[n], and the fused
//    kiln.activation like MatMul.
//  * kiln.QLinearAdd / kiln.QLinearMul (domain "kiln", fuse_qdq from DequantizeLinear(a),
//    DequantizeLinear(b) -> Add | Mul -> QuantizeLinear): inputs a int8, a_scale f32 scalar,
//    a_zero_point int8 scalar, b, b_scale, b_zero_point likewise, y_scale, y_zero_point;
//    numpy broadcasting (residual Adds, the squeeze-excite gate x [N, H, W, C] * g [N, 1, 1, C])
//    -> Y int8. Optional fused kiln.activation (Relu / Clip become the int8 clamp, others run
//    on the real value). Exactly the fake-quant result (the same float steps).
//  * kiln.QLinearGlobalAveragePool (domain "kiln", fuse_qdq from DequantizeLinear ->
//    ReduceMean(axes 1, 2) -> QuantizeLinear on NHWC): x int8 [N, H, W, C] (any rank >= 3:
//    axes 1, 2 reduced), x_scale, x_zero_point, y_scale, y_zero_point (per tensor) -> Y int8
//    [N, 1, 1, C], or [N, C] with attribute keepdims = 0; int32 sums, the mean rounded once.
#pragma once

namespace kiln::ext {

inline constexpr const char* kDomain = "kiln";
inline constexpr const char* kAffine = "Affine";
inline constexpr const char* kNhwcConv = "NhwcConv";
inline constexpr const char* kNhwcMaxPool = "NhwcMaxPool";
inline constexpr const char* kNhwcAveragePool = "NhwcAveragePool";
inline constexpr const char* kActivation = "kiln.activation";
inline constexpr const char* kActivationAlpha = "kiln.activation_alpha";
inline constexpr const char* kActivationBeta = "kiln.activation_beta";
inline constexpr const char* kMatMulBias = "kiln.bias";
inline constexpr const char* kDynamicQuantMatMul = "DynamicQuantMatMul";
inline constexpr const char* kDynamicQuantConv = "DynamicQuantConv";
inline constexpr const char* kBlockQuantMatMul = "BlockQuantMatMul";
inline constexpr const char* kBlockQuantConv = "BlockQuantConv";
inline constexpr const char* kQLinearNhwcConv = "QLinearNhwcConv";
inline constexpr const char* kQLinearMatMul = "QLinearMatMul";
inline constexpr const char* kQLinearAdd = "QLinearAdd";
inline constexpr const char* kQLinearMul = "QLinearMul";
inline constexpr const char* kQLinearGlobalAveragePool = "QLinearGlobalAveragePool";

}  // namespace kiln::ext
