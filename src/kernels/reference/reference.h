// Reference kernels: plain portable C++, the oracle every fast kernel is tested against.
// They never allocate and never validate: the ops in src/ops check shapes and attributes
// and describe the problem here with explicit sizes and strides. Layouts are NCHW-style
// (batch, channels, spatial...) with the last dimension contiguous.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/reference/recurrent_activation.h"

namespace kiln {

// Most spatial dimensions a convolution / pooling / resize kernel handles.
constexpr size_t kMaxSpatialDims = 6;

// --- GEMM ---------------------------------------------------------------------------
// C[i,j] = alpha * sum_p A[i,p] * B[p,j] + beta * C[i,j], with element strides for every
// operand, so transposed operands are just swapped strides. beta == 0 never reads C
// (so C may hold garbage or NaN).
void f32_gemm_reference(size_t m, size_t n, size_t k,
                        const float* a, ptrdiff_t a_stride_m, ptrdiff_t a_stride_k,
                        const float* b, ptrdiff_t b_stride_k, ptrdiff_t b_stride_n,
                        float* c, ptrdiff_t c_stride_m, float alpha, float beta);

// dst[j, i] = src[i, j] for a rows x cols src; strides are row strides in elements.
void f32_transpose_reference(size_t rows, size_t cols, const float* src, size_t src_stride, float* dst,
                             size_t dst_stride);

// --- Convolution ----------------------------------------------------------------------
// Shared geometry of Conv and ConvTranspose over `rank` spatial dimensions.
// Conv:          x [batch, groups*group_in, in...], w [groups*group_out, group_in, kernel...],
//                y [batch, groups*group_out, out...];
//                in coordinate = out * stride - pad_begin + k * dilation.
// ConvTranspose: x [batch, groups*group_in, in...], w [groups*group_in, group_out, kernel...],
//                y [batch, groups*group_out, out...];
//                out coordinate = in * stride - pad_begin + k * dilation.
struct ConvGeometry {
  size_t batch = 1, groups = 1, group_in = 1, group_out = 1;
  size_t rank = 0;
  int64_t in[kMaxSpatialDims] = {};
  int64_t out[kMaxSpatialDims] = {};
  int64_t kernel[kMaxSpatialDims] = {};
  int64_t stride[kMaxSpatialDims] = {};
  int64_t dilation[kMaxSpatialDims] = {};
  int64_t pad_begin[kMaxSpatialDims] = {};
};

// bias may be null (zero).
void f32_conv_reference(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y);
// Only the (image, output channel) planes [begin, end) of y, numbered b * C_out + c: each
// is computed independently, so threads can split them.
void f32_conv_reference_channels(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y,
                                 size_t begin, size_t end);
void f32_conv_transpose_reference(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                                  float* y);

// Channels-last 2-D convolution (kiln.NhwcConv; g.rank == 2): x [batch, in0, in1,
// groups*group_in], w in the ONNX layout [groups*group_out, group_in, kernel0, kernel1],
// y [batch, out0, out1, groups*group_out]. bias may be null (zero).
void f32_conv_nhwc_reference(const ConvGeometry& g, const float* x, const float* w, const float* bias, float* y);

// --- Pooling --------------------------------------------------------------------------
// `planes` independent planes (batch * channels) of `rank` spatial dims each.
// Window taps: in coordinate = out * stride - pad_begin + k * dilation. Taps outside
// [0, in) are skipped (max) or counted as zeros only when count_include_pad and inside
// the padded extent [-pad_begin, in + pad_end) (average).
struct PoolGeometry {
  size_t planes = 1;
  size_t rank = 0;
  int64_t in[kMaxSpatialDims] = {};
  int64_t out[kMaxSpatialDims] = {};
  int64_t kernel[kMaxSpatialDims] = {};
  int64_t stride[kMaxSpatialDims] = {};
  int64_t dilation[kMaxSpatialDims] = {};
  int64_t pad_begin[kMaxSpatialDims] = {};
  int64_t pad_end[kMaxSpatialDims] = {};
};

// A window with no tap inside the input yields -inf (max) or 0 (average).
void f32_maxpool_reference(const PoolGeometry& g, const float* x, float* y);
void f32_avgpool_reference(const PoolGeometry& g, bool count_include_pad, const float* x, float* y);
// Channels-last 2-D pooling (kiln.NhwcMaxPool / kiln.NhwcAveragePool; g.rank == 2):
// x [g.planes (= batch), in0, in1, channels], y [batch, out0, out1, channels], same window
// rules as above, channels innermost.
void f32_maxpool_nhwc_reference(const PoolGeometry& g, size_t channels, const float* x, float* y);
void f32_avgpool_nhwc_reference(const PoolGeometry& g, size_t channels, bool count_include_pad, const float* x,
                                float* y);
// y[p] = mean / max of x[p * plane_size .. (p+1) * plane_size).
void f32_global_avgpool_reference(size_t planes, size_t plane_size, const float* x, float* y);
void f32_global_maxpool_reference(size_t planes, size_t plane_size, const float* x, float* y);

// --- Normalization ------------------------------------------------------------------------
// y[o, c, i] = x[o, c, i] * scale[c] + bias[c] over [outer, channels, inner]: inference
// BatchNormalization once scale/bias have folded mean, variance and epsilon.
void f32_channel_affine_reference(size_t outer, size_t channels, size_t inner, const float* x,
                                  const float* scale, const float* bias, float* y);
// Normalizes each of `rows` contiguous rows of length n to zero mean / unit variance
// (population variance + epsilon), then y = normalized * scale[j] + bias[j]. scale/bias
// have n entries; bias may be null. mean / inv_std_dev (one per row) may be null.
void f32_layernorm_reference(size_t rows, size_t n, const float* x, const float* scale, const float* bias,
                             float epsilon, float* y, float* mean, float* inv_std_dev);
// InstanceNormalization: for each of batch*channels planes of plane_size values,
// y = (x - mean) / sqrt(var + epsilon) * scale[c] + bias[c].
void f32_instancenorm_reference(size_t batch, size_t channels, size_t plane_size, const float* x,
                                const float* scale, const float* bias, float epsilon, float* y);

// --- Softmax ----------------------------------------------------------------------------------
// Softmax (or log-softmax) along the middle axis of [outer, n, inner].
void f32_softmax_reference(size_t outer, size_t n, size_t inner, const float* x, float* y, bool log);

// --- Resize -----------------------------------------------------------------------------
// Separable interpolation: along each axis, output index o reads `taps` input indices
// index[o * taps + t] (each in [0, in_size)) with weights weight[o * taps + t].
// Nearest uses one tap, linear two, cubic four; untouched axes use one tap of weight 1.
struct ResizeAxis {
  int64_t in_size = 1, out_size = 1;
  size_t taps = 1;
  const int64_t* index = nullptr;
  const float* weight = nullptr;
  // Optional, one flag per output index: the source coordinate fell outside the input
  // (tf_crop_and_resize); any such axis makes the element `extrapolation`.
  const uint8_t* outside = nullptr;
};
// rank <= kMaxSpatialDims + 2 axes, all of them described (batch and channels included).
void f32_resize_reference(size_t rank, const ResizeAxis* axes, const float* x, float* y, float extrapolation = 0.f);
constexpr size_t kMaxResizeRank = kMaxSpatialDims + 2;


// --- Recurrent (LSTM / GRU / RNN) --------------------------------------------------------
// One direction of a recurrent layer over `seq` steps for `batch` sequences. Element
// strides describe X (input features contiguous), Y (hidden contiguous; y may be null)
// and the initial / final states (hidden contiguous; each pointer may be null: zero
// initial state / final state not wanted). Batch b runs seq_lens[b] steps (all `seq`
// when seq_lens is null): from step 0 forward, or from seq_lens[b] - 1 backward when
// `reverse`; Y rows past a sequence's end are zero and its final state is the one after
// its last step. Weights are row-major per gate: w [gates*hidden, input],
// r [gates*hidden, hidden], bias [2*gates*hidden] (Wb then Rb; may be null). clip > 0
// clamps gate pre-activations to [-clip, clip].
struct RecurrentGeometry {
  size_t seq = 0, batch = 0, input = 0, hidden = 0;
  ptrdiff_t x_stride_t = 0, x_stride_b = 0;
  ptrdiff_t y_stride_t = 0, y_stride_b = 0;
  ptrdiff_t state_stride_b = 0;
  const int64_t* seq_lens = nullptr;
  bool reverse = false;
  float clip = 0.f;
};
// Workspace floats each kernel needs.
size_t recurrent_workspace_size(const RecurrentGeometry& g, size_t gates);

// LSTM, gates i,o,f,c; act = {f, g, h}; peephole [3*hidden] (i, o, f) may be null;
// input_forget couples the forget gate to 1 - input gate.
void f32_lstm_reference(const RecurrentGeometry& g, const RecurrentActivation act[3], bool input_forget,
                        const float* x, const float* w, const float* r, const float* bias, const float* peephole,
                        const float* h0, const float* c0, float* y, float* h_out, float* c_out, float* workspace);
// GRU, gates z,r,h; act = {f, g}; linear_before_reset applies the reset gate after the
// recurrent product of the hidden gate.
void f32_gru_reference(const RecurrentGeometry& g, const RecurrentActivation act[2], bool linear_before_reset,
                       const float* x, const float* w, const float* r, const float* bias, const float* h0, float* y,
                       float* h_out, float* workspace);
// Simple RNN, one gate; act = {f}.
void f32_rnn_reference(const RecurrentGeometry& g, const RecurrentActivation& act, const float* x, const float* w,
                       const float* r, const float* bias, const float* h0, float* y, float* h_out, float* workspace);

}  // namespace kiln
