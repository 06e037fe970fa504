// TFLite's spatial operators in NCHW: CONV_2D (OHWI filters -> OIHW, groups when the
// filter depth divides the input channels), DEPTHWISE_CONV_2D (1HWO -> O1HW, one group
// per input channel), MAX/AVERAGE_POOL_2D, RESIZE_* and DEPTH_TO_SPACE/SPACE_TO_DEPTH.
// TFLite's SAME padding (the extra row/column at the end) is ONNX's SAME_UPPER.
#include "import/tflite_op_util.h"

namespace kiln::tfl {

Status conv(TfliteBuilder& b, const tflite::Operator& op, bool depthwise) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, 3, 1));
  KILN_ASSIGN_OR_RETURN(Dims xd, b.tensor_dims(io.in[0]));
  KILN_ASSIGN_OR_RETURN(Dims fd, b.tensor_dims(io.in[1]));
  if (xd.size() != 4 || fd.size() != 4)
    return invalid_model(b.where() + ": expected a 4-D input and filter, got " + dims_to_string(xd) + " and " +
                         dims_to_string(fd));
  const int64_t cin = xd[3];
  int64_t group = 1, sh, sw, dh, dw;
  tflite::Padding padding;
  Act act;
  Perm wperm;
  if (depthwise) {
    KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_DepthwiseConv2DOptions(), "DepthwiseConv2DOptions"));
    sh = o->stride_h(), sw = o->stride_w(), dh = o->dilation_h_factor(), dw = o->dilation_w_factor();
    padding = o->padding(), act = o->fused_activation_function();
    // The filter is [1, H, W, Cin * multiplier]; output channel c*M + m reads input channel c,
    // which is ONNX's grouped convolution with one group per input channel.
    if (fd[0] != 1) return invalid_model(b.where() + ": depthwise filter must be [1,H,W,C], got " + dims_to_string(fd));
    if (cin <= 0 || fd[3] % cin != 0)
      return invalid_model(b.where() + ": depthwise filter has " + std::to_string(fd[3]) +
                           " channels, not a multiple of the input's " + std::to_string(cin));
    if (o->depth_multiplier() > 0 && o->depth_multiplier() * cin != fd[3])
      return invalid_model(b.where() + ": depth_multiplier " + std::to_string(o->depth_multiplier()) + " times " +
                           std::to_string(cin) + " input channels != " + std::to_string(fd[3]) + " filter channels");
    group = cin;
    wperm = {3, 0, 1, 2};
  } else {
    KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_Conv2DOptions(), "Conv2DOptions"));
    sh = o->stride_h(), sw = o->stride_w(), dh = o->dilation_h_factor(), dw = o->dilation_w_factor();
    padding = o->padding(), act = o->fused_activation_function();
    if (fd[3] <= 0 || cin <= 0 || cin % fd[3] != 0)
      return invalid_model(b.where() + ": filter input depth " + std::to_string(fd[3]) + " does not divide the input's " +
                           std::to_string(cin) + " channels");
    group = cin / fd[3];
    wperm = kNhwcToNchw;  // OHWI -> OIHW is the same permutation as NHWC -> NCHW
  }
  KILN_RETURN_IF_ERROR(check_positive(b, {sh, sw, dh, dw}, "strides and dilations"));
  KILN_ASSIGN_OR_RETURN(std::string pad, auto_pad(b, padding));
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], kNhwcToNchw));
  KILN_ASSIGN_OR_RETURN(int w, b.get(io.in[1], wperm));
  std::vector<int> inputs = {x, w};
  if (io.has(2)) {
    KILN_ASSIGN_OR_RETURN(int bias, b.get(io.in[2]));
    inputs.push_back(bias);
  }
  return emit_with_activation(b, act, "Conv", inputs, io.out[0], kNhwcToNchw,
                              {{"kernel_shape", ints_attr({fd[1], fd[2]})},
                               {"strides", ints_attr({sh, sw})},
                               {"dilations", ints_attr({dh, dw})},
                               {"group", int_attr(group)},
                               {"auto_pad", string_attr(pad)}});
}

Status pool(TfliteBuilder& b, const tflite::Operator& op, bool max) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, 1, 1));
  KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_Pool2DOptions(), "Pool2DOptions"));
  if (b.rank(io.in[0]) != 4) return invalid_model(b.where() + ": expected a 4-D input");
  KILN_RETURN_IF_ERROR(check_positive(b, {o->stride_h(), o->stride_w(), o->filter_height(), o->filter_width()},
                                      "strides and filter sizes"));
  KILN_ASSIGN_OR_RETURN(std::string pad, auto_pad(b, o->padding()));
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], kNhwcToNchw));
  std::map<std::string, Attribute> attrs = {{"kernel_shape", ints_attr({o->filter_height(), o->filter_width()})},
                                            {"strides", ints_attr({o->stride_h(), o->stride_w()})},
                                            {"auto_pad", string_attr(pad)}};
  // TFLite averages over the valid (unpadded) part of each window.
  if (!max) attrs["count_include_pad"] = int_attr(0);
  return emit_with_activation(b, o->fused_activation_function(), max ? "MaxPool" : "AveragePool", {x}, io.out[0],
                              kNhwcToNchw, attrs);
}

Status resize(TfliteBuilder& b, const tflite::Operator& op, bool bilinear) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 2, 2, 1));
  KILN_ASSIGN_OR_RETURN(Dims xd, b.tensor_dims(io.in[0]));
  if (xd.size() != 4 || xd[0] < 0 || xd[3] < 0)
    return unsupported(b.where() + ": needs a 4-D input with static batch and channels, got " + dims_to_string(xd));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> size, constant_ints(b, io.in[1], "size"));
  if (size.size() != 2) return invalid_model(b.where() + ": size must have 2 values");
  KILN_RETURN_IF_ERROR(check_positive(b, {size[0], size[1]}, "output size"));
  bool align = false, half = false;
  if (bilinear) {
    if (const auto* o = op.builtin_options_as_ResizeBilinearOptions()) align = o->align_corners(), half = o->half_pixel_centers();
  } else if (const auto* o = op.builtin_options_as_ResizeNearestNeighborOptions()) {
    align = o->align_corners(), half = o->half_pixel_centers();
  }
  std::map<std::string, Attribute> attrs;
  attrs["mode"] = string_attr(bilinear ? "linear" : "nearest");
  // TFLite's coordinate conventions in ONNX terms (align_corners takes precedence).
  if (bilinear) {
    attrs["coordinate_transformation_mode"] = string_attr(align ? "align_corners" : half ? "half_pixel" : "asymmetric");
  } else {
    attrs["coordinate_transformation_mode"] = string_attr(align ? "align_corners" : half ? "tf_half_pixel_for_nn" : "asymmetric");
    attrs["nearest_mode"] = string_attr(align ? "round_prefer_ceil" : "floor");
  }
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], kNhwcToNchw));
  const int sizes = i64_constant(b, b.tensor_name(io.in[1]) + "/nchw", {xd[0], xd[3], size[0], size[1]});
  return emit_with_activation(b, Act::NONE, "Resize", {x, kNoValue, kNoValue, sizes}, io.out[0], kNhwcToNchw, attrs);
}

// TFLite's DEPTH_TO_SPACE moves channel block (i*b + j)*C + c to pixel offset (i, j): ONNX's
// DCR mode. SPACE_TO_DEPTH is its inverse.
Status depth_space(TfliteBuilder& b, const tflite::Operator& op, bool to_space) {
  KILN_ASSIGN_OR_RETURN(Io io, operator_io(b, op, 1, 1, 1));
  if (b.rank(io.in[0]) != 4) return invalid_model(b.where() + ": expected a 4-D input");
  int64_t block = 0;
  if (to_space) {
    KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_DepthToSpaceOptions(), "DepthToSpaceOptions"));
    block = o->block_size();
  } else {
    KILN_ASSIGN_OR_RETURN(auto* o, options(b, op.builtin_options_as_SpaceToDepthOptions(), "SpaceToDepthOptions"));
    block = o->block_size();
  }
  KILN_RETURN_IF_ERROR(check_positive(b, {block}, "block_size"));
  KILN_ASSIGN_OR_RETURN(int x, b.get(io.in[0], kNhwcToNchw));
  std::map<std::string, Attribute> attrs = {{"blocksize", int_attr(block)}};
  if (to_space) attrs["mode"] = string_attr("DCR");
  return emit_with_activation(b, Act::NONE, to_space ? "DepthToSpace" : "SpaceToDepth", {x}, io.out[0], kNhwcToNchw,
                              attrs);
}

}  // namespace kiln::tfl
