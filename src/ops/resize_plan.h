// Resize / Upsample shared machinery: attribute parsing, output shape from scales or
// sizes, and the per-axis tap tables (coordinate transform + nearest rounding / linear /
// cubic weights) that the reference resize kernel consumes.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "kernels/reference/reference.h"
#include "ops/op.h"

namespace kiln::nn {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class CoordMode {
  kHalfPixel,
  kHalfPixelSymmetric,
  kAsymmetric,
  kAlignCorners,
  kPytorchHalfPixel,
  kTfHalfPixelForNearest,  // "tf_half_pixel_for_nn"
  kTfCropAndResize,        // roi-relative coordinates; outside the input is extrapolation_value
};
// kLegacy is Upsample / Resize-10 (ONNX Runtime's "simple"): truncate when upsampling,
// ceil when downsampling.
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };
enum class KeepAspect { kStretch, kNotLarger, kNotSmaller };

struct ResizeConfig {
  std::string who;  // error prefix
  ResizeMode mode = ResizeMode::kNearest;
  CoordMode coord = CoordMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  KeepAspect keep_aspect = KeepAspect::kStretch;
  std::vector<int64_t> axes;  // opset 18; empty: all axes
  // Where scales / sizes come from: input indices (-1: none), or fixed attribute scales.
  int scales_input = -1, sizes_input = -1;
  std::vector<float> attr_scales;
  int roi_input = -1;          // tf_crop_and_resize: [starts..., ends...] over the resized axes
  float extrapolation = 0.f;   // tf_crop_and_resize: value for coordinates outside the input
};

// Reads Resize attributes for the node's opset (10, 11..12, 13+, 18+), rejecting
// unsupported ones (antialias).
Result<ResizeConfig> parse_resize_config(const Node& node, int64_t opset);

struct ResizeShape {
  Dims out;
  std::vector<float> scales;  // per axis, used by the coordinate transforms
  std::vector<float> roi_start, roi_end;  // per axis (tf_crop_and_resize; else 0 and 1)
};

// Output dims and scales for input dims x, given the scales and/or sizes tensors (null
// or empty when absent) and, for tf_crop_and_resize, the roi (null: the whole input).
Result<ResizeShape> resize_shape(const ResizeConfig& c, const Dims& x, const Tensor* scales, const Tensor* sizes,
                                 const Tensor* roi = nullptr);

// Tap tables for all axes; axes[] point into the owned vectors.
struct ResizeTables {
  std::array<std::vector<int64_t>, kMaxResizeRank> index;
  std::array<std::vector<float>, kMaxResizeRank> weight;
  std::array<std::vector<uint8_t>, kMaxResizeRank> outside;
  std::array<ResizeAxis, kMaxResizeRank> axes;
};
void build_resize_tables(const ResizeConfig& c, const Dims& x, const ResizeShape& s, ResizeTables* t);

// The Resize op for a config (shared by Resize and Upsample).
std::unique_ptr<Op> make_resize_op(ResizeConfig c);

}  // namespace kiln::nn
