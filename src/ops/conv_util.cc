#include "ops/conv_util.h"

#include <algorithm>

#include "kernels/reference/reference.h"

namespace kiln::nn {

Result<WindowAttrs> parse_window_attrs(const Node& node) {
  WindowAttrs a;
  const std::string who = prefix(node);
  KILN_ASSIGN_OR_RETURN(std::string pad, node.attr_string("auto_pad", std::string("NOTSET")));
  if (pad == "NOTSET" || pad.empty()) a.auto_pad = AutoPad::kNotSet;
  else if (pad == "SAME_UPPER") a.auto_pad = AutoPad::kSameUpper;
  else if (pad == "SAME_LOWER") a.auto_pad = AutoPad::kSameLower;
  else if (pad == "VALID") a.auto_pad = AutoPad::kValid;
  else return invalid_model(who + "auto_pad '" + pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  KILN_ASSIGN_OR_RETURN(a.kernel_shape, node.attr_ints("kernel_shape", std::vector<int64_t>{}));
  KILN_ASSIGN_OR_RETURN(a.strides, node.attr_ints("strides", std::vector<int64_t>{}));
  KILN_ASSIGN_OR_RETURN(a.dilations, node.attr_ints("dilations", std::vector<int64_t>{}));
  KILN_ASSIGN_OR_RETURN(a.pads, node.attr_ints("pads", std::vector<int64_t>{}));
  // Sizes beyond 2^31 are nonsense in a model and would overflow the output-size math.
  constexpr int64_t kLimit = int64_t{1} << 31;
  for (const auto* list : {&a.kernel_shape, &a.strides, &a.dilations, &a.pads})
    for (int64_t v : *list)
      if (v >= kLimit) return invalid_model(who + "window attribute value " + std::to_string(v) + " is too large");
  for (int64_t v : a.kernel_shape)
    if (v <= 0) return invalid_model(who + "kernel_shape values must be positive, got " + dims_to_string(a.kernel_shape));
  for (int64_t v : a.strides)
    if (v <= 0) return invalid_model(who + "strides must be positive, got " + dims_to_string(a.strides));
  for (int64_t v : a.dilations)
    if (v <= 0) return invalid_model(who + "dilations must be positive, got " + dims_to_string(a.dilations));
  for (int64_t v : a.pads)
    if (v < 0) return invalid_model(who + "pads must be non-negative, got " + dims_to_string(a.pads));
  return a;
}

Status check_window_lengths(const WindowAttrs& a, size_t rank, const std::string& who) {
  auto check = [&](const std::vector<int64_t>& v, size_t want, const char* name) -> Status {
    if (!v.empty() && v.size() != want)
      return invalid_model(who + name + " has " + std::to_string(v.size()) + " values, expected " +
                           std::to_string(want) + " for " + std::to_string(rank) + " spatial dims");
    return Status::Ok();
  };
  KILN_RETURN_IF_ERROR(check(a.kernel_shape, rank, "kernel_shape"));
  KILN_RETURN_IF_ERROR(check(a.strides, rank, "strides"));
  KILN_RETURN_IF_ERROR(check(a.dilations, rank, "dilations"));
  KILN_RETURN_IF_ERROR(check(a.pads, 2 * rank, "pads"));
  return Status::Ok();
}

Result<Window> resolve_window(const WindowAttrs& a, const Dims& in, const std::vector<int64_t>& kernel,
                              bool ceil_mode, const std::string& who) {
  const size_t r = in.size();
  if (r == 0 || r > kMaxSpatialDims)
    return unsupported(who + std::to_string(r) + " spatial dims; kiln supports 1.." +
                       std::to_string(kMaxSpatialDims));
  KILN_RETURN_IF_ERROR(check_window_lengths(a, r, who));
  if (kernel.size() != r) return invalid_model(who + "kernel rank does not match the input's spatial rank");
  Window w;
  w.rank = r;
  w.kernel = kernel;
  w.stride = a.strides.empty() ? std::vector<int64_t>(r, 1) : a.strides;
  w.dilation = a.dilations.empty() ? std::vector<int64_t>(r, 1) : a.dilations;
  w.pad_begin.assign(r, 0);
  w.pad_end.assign(r, 0);
  w.out.assign(r, 0);
  for (size_t d = 0; d < r; ++d) {
    if (kernel[d] <= 0) return invalid_model(who + "kernel size must be positive, got " + dims_to_string(kernel));
    const int64_t s = w.stride[d], eff = (kernel[d] - 1) * w.dilation[d] + 1;
    if (a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower) {
      const int64_t out = (in[d] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + eff - in[d]);
      // The odd padding element goes at the end for SAME_UPPER, at the start for SAME_LOWER.
      w.pad_begin[d] = a.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      w.pad_end[d] = total - w.pad_begin[d];
      w.out[d] = out;
      continue;
    }
    if (a.auto_pad == AutoPad::kNotSet && !a.pads.empty()) {
      w.pad_begin[d] = a.pads[d];
      w.pad_end[d] = a.pads[d + r];
    }
    const int64_t span = in[d] + w.pad_begin[d] + w.pad_end[d] - eff;
    if (span < 0)
      return invalid_argument(who + "window of " + std::to_string(eff) + " (kernel " + std::to_string(kernel[d]) +
                              ", dilation " + std::to_string(w.dilation[d]) + ") does not fit spatial dim " +
                              std::to_string(d) + " of size " + std::to_string(in[d]) + " plus padding " +
                              std::to_string(w.pad_begin[d] + w.pad_end[d]));
    int64_t out = span / s + 1;
    if (ceil_mode) {
      out = (span + s - 1) / s + 1;
      // A window that would start inside the end padding is dropped (ONNX, PyTorch, ORT).
      if ((out - 1) * s >= in[d] + w.pad_begin[d]) --out;
    }
    w.out[d] = out;
  }
  return w;
}

Result<PoolGeometry> pool_geometry(const WindowAttrs& a, const Dims& x, bool ceil_mode, const std::string& who) {
  if (x.size() < 3)
    return invalid_argument(who + "input X must have rank >= 3 (N, C, spatial...), got " + dims_to_string(x));
  const size_t r = x.size() - 2;
  if (a.kernel_shape.empty()) return invalid_model(who + "required attribute 'kernel_shape' is missing");
  if (a.kernel_shape.size() != r)
    return invalid_argument(who + "kernel_shape " + dims_to_string(a.kernel_shape) + " does not match " +
                            std::to_string(r) + " spatial dims of X " + dims_to_string(x));
  KILN_ASSIGN_OR_RETURN(Window w, resolve_window(a, dims_slice(x, 2, x.size()), a.kernel_shape, ceil_mode, who));
  PoolGeometry g;
  g.planes = static_cast<size_t>(x[0] * x[1]);
  g.rank = r;
  for (size_t d = 0; d < r; ++d) {
    if (w.pad_begin[d] >= w.kernel[d] || w.pad_end[d] >= w.kernel[d])
      return invalid_argument(who + "padding " + std::to_string(std::max(w.pad_begin[d], w.pad_end[d])) +
                              " must be smaller than the kernel size " + std::to_string(w.kernel[d]));
    g.in[d] = x[d + 2];
    g.out[d] = w.out[d];
    g.kernel[d] = w.kernel[d];
    g.stride[d] = w.stride[d];
    g.dilation[d] = w.dilation[d];
    g.pad_begin[d] = w.pad_begin[d];
    g.pad_end[d] = w.pad_end[d];
  }
  return g;
}

Result<PoolGeometry> nhwc_pool_geometry(const WindowAttrs& a, const Dims& x, bool ceil_mode, const std::string& who) {
  if (x.size() != 4) return invalid_argument(who + "input X must be 4-D [N, H, W, C], got " + dims_to_string(x));
  KILN_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(a, Dims{x[0], x[3], x[1], x[2]}, ceil_mode, who));
  g.planes = static_cast<size_t>(x[0]);
  return g;
}

ConvGeometry conv_geometry(const Window& win, const Dims& spatial, int64_t batch, int64_t group, int64_t c,
                           int64_t m) {
  ConvGeometry g;
  g.batch = static_cast<size_t>(batch);
  g.groups = static_cast<size_t>(group);
  g.group_in = static_cast<size_t>(c / group);
  g.group_out = static_cast<size_t>(m / group);
  g.rank = win.rank;
  for (size_t d = 0; d < win.rank; ++d) {
    g.in[d] = spatial[d];
    g.out[d] = win.out[d];
    g.kernel[d] = win.kernel[d];
    g.stride[d] = win.stride[d];
    g.dilation[d] = win.dilation[d];
    g.pad_begin[d] = win.pad_begin[d];
  }
  return g;
}

Result<NhwcConvAttrs> parse_nhwc_conv_attrs(const Node& node) {
  NhwcConvAttrs a;
  KILN_ASSIGN_OR_RETURN(a.window, parse_window_attrs(node));
  KILN_ASSIGN_OR_RETURN(a.group, node.attr_int("group", 1));
  if (a.group <= 0 || a.group >= (int64_t{1} << 31))
    return invalid_model(prefix(node) + "group must be positive (and sane), got " + std::to_string(a.group));
  return a;
}

Result<ConvGeometry> nhwc_conv_geometry(const NhwcConvAttrs& a, const Dims& x, const Dims& w,
                                        std::initializer_list<PerChannelInput> per_channel, const std::string& who) {
  const int64_t group = a.group;
  if (x.size() != 4) return invalid_argument(who + "input X must be 4-D [N, H, W, C], got " + dims_to_string(x));
  if (w.size() != 4)
    return invalid_argument(who + "weights W must be 4-D [M, C/group, kH, kW], got " + dims_to_string(w));
  const int64_t c = x[3], m = w[0];
  if (c % group != 0 || w[1] * group != c)
    return invalid_argument(who + "X has " + std::to_string(c) + " channels but W " + dims_to_string(w) +
                            " with group " + std::to_string(group) + " expects " + std::to_string(w[1] * group));
  if (m % group != 0)
    return invalid_argument(who + "W has " + std::to_string(m) + " output channels, not divisible by group " +
                            std::to_string(group));
  for (const PerChannelInput& p : per_channel)
    if (p.dims && *p.dims != Dims{m})
      return invalid_argument(who + p.name + " must have shape [" + std::to_string(m) + "], got " +
                              dims_to_string(*p.dims));
  const std::vector<int64_t> kernel = dims_slice(w, 2, 4);
  if (!a.window.kernel_shape.empty() && a.window.kernel_shape != kernel)
    return invalid_argument(who + "kernel_shape " + dims_to_string(a.window.kernel_shape) +
                            " does not match the weights " + dims_to_string(w));
  const Dims spatial = dims_slice(x, 1, 3);
  KILN_ASSIGN_OR_RETURN(Window win, resolve_window(a.window, spatial, kernel, false, who));
  return conv_geometry(win, spatial, x[0], group, c, m);
}

Dims nhwc_conv_output_dims(const ConvGeometry& g) {
  return {static_cast<int64_t>(g.batch), g.out[0], g.out[1], static_cast<int64_t>(g.groups * g.group_out)};
}

}  // namespace kiln::nn
