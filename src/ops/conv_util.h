// Shared attribute handling for sliding-window ops (Conv, ConvTranspose, MaxPool,
// AveragePool): parsing auto_pad / kernel_shape / strides / dilations / pads, and the
// output-size rules of ONNX, so every op agrees on them.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "kernels/reference/reference.h"
#include "ops/nn_util.h"

namespace kiln::nn {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

struct WindowAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  // Empty when the attribute is absent: kernel_shape then comes from the weights,
  // strides/dilations default to 1 and pads to 0.
  std::vector<int64_t> kernel_shape, strides, dilations, pads;
};

// Reads and range-checks the attributes (positive strides/dilations/kernel, non-negative
// pads, known auto_pad). Lengths are checked later against the input rank.
Result<WindowAttrs> parse_window_attrs(const Node& node);

// Concrete per-dimension geometry for one input shape.
struct Window {
  size_t rank = 0;
  std::vector<int64_t> kernel, stride, dilation, pad_begin, pad_end, out;
};

// Resolves attributes for input spatial dims `in` and kernel `kernel` (rank each):
// applies auto_pad and computes output sizes the way Conv and pooling do
// (floor, or ceil with ceil_mode, dropping a last window that would start in the end
// padding). `who` prefixes error messages (the node's describe()).
Result<Window> resolve_window(const WindowAttrs& a, const Dims& in, const std::vector<int64_t>& kernel,
                              bool ceil_mode, const std::string& who);

// Pooling geometry for input X [N, C, spatial...] with kernel_shape from the attributes.
// Rejects pads >= kernel (as ONNX Runtime does) so every window touches the input.
Result<PoolGeometry> pool_geometry(const WindowAttrs& a, const Dims& x, bool ceil_mode, const std::string& who);

// The same for channels-last X [N, H, W, C] (kiln.NhwcMaxPool / kiln.NhwcAveragePool):
// 2-D only, one plane per image (planes = N; the kernels walk all channels of a pixel).
Result<PoolGeometry> nhwc_pool_geometry(const WindowAttrs& a, const Dims& x, bool ceil_mode, const std::string& who);

// Checks an attribute list has `rank` (or 2*rank for pads) entries when present.
Status check_window_lengths(const WindowAttrs& a, size_t rank, const std::string& who);

// ConvGeometry of a resolved window over input `spatial` sizes, for C input and M output
// channels in `group` groups (already checked to divide them).
ConvGeometry conv_geometry(const Window& win, const Dims& spatial, int64_t batch, int64_t group, int64_t c,
                           int64_t m);

// Attributes of the channels-last convolutions (kiln.NhwcConv, kiln.DynamicQuantConv):
// Conv's window attributes and a group count in [1, 2^31).
struct NhwcConvAttrs {
  WindowAttrs window;
  int64_t group = 1;
};
Result<NhwcConvAttrs> parse_nhwc_conv_attrs(const Node& node);

// A 1-D input holding one value per output channel (W_scale, bias B); `dims` null when the
// optional input is absent. `name` appears in the error ("bias B must have shape [M]...").
struct PerChannelInput {
  const char* name;
  const Dims* dims;
};

// Validated geometry of a 2-D channels-last convolution: X [N, H, W, C], W [M, C/group, kH, kW],
// each of `per_channel` (checked in order) shaped [M].
Result<ConvGeometry> nhwc_conv_geometry(const NhwcConvAttrs& a, const Dims& x, const Dims& w,
                                        std::initializer_list<PerChannelInput> per_channel, const std::string& who);

// Y [N, OH, OW, M] of that geometry.
Dims nhwc_conv_output_dims(const ConvGeometry& g);

}  // namespace kiln::nn
