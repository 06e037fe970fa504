#include "ops/resize_plan.h"

#include <algorithm>
#include <cmath>

#include "ops/nn_util.h"

namespace kiln::nn {

Result<ResizeConfig> parse_resize_config(const Node& node, int64_t opset) {
  ResizeConfig c;
  c.who = prefix(node);
  KILN_ASSIGN_OR_RETURN(std::string mode, node.attr_string("mode", std::string("nearest")));
  if (mode == "nearest") c.mode = ResizeMode::kNearest;
  else if (mode == "linear") c.mode = ResizeMode::kLinear;
  else if (mode == "cubic" && opset >= 11) c.mode = ResizeMode::kCubic;
  else return invalid_model(c.who + "mode '" + mode + "' is not supported (nearest, linear" +
                            (opset >= 11 ? ", cubic)" : ")"));
  if (opset < 11) {  // Resize-10: asymmetric coordinates, legacy nearest rounding.
    c.coord = CoordMode::kAsymmetric;
    c.nearest = NearestMode::kLegacy;
    c.scales_input = 1;
    return c;
  }
  c.scales_input = 2;
  c.sizes_input = 3;
  KILN_ASSIGN_OR_RETURN(std::string coord, node.attr_string("coordinate_transformation_mode", std::string("half_pixel")));
  if (coord == "half_pixel") c.coord = CoordMode::kHalfPixel;
  else if (coord == "half_pixel_symmetric") c.coord = CoordMode::kHalfPixelSymmetric;
  else if (coord == "asymmetric") c.coord = CoordMode::kAsymmetric;
  else if (coord == "align_corners") c.coord = CoordMode::kAlignCorners;
  else if (coord == "pytorch_half_pixel") c.coord = CoordMode::kPytorchHalfPixel;
  // "tf_half_pixel_for_nn" is the ONNX spelling; accept the long form too.
  else if (coord == "tf_half_pixel_for_nn" || coord == "tf_half_pixel_for_nearest") c.coord = CoordMode::kTfHalfPixelForNearest;
  else if (coord == "tf_crop_and_resize") {
    c.coord = CoordMode::kTfCropAndResize;
    c.roi_input = 1;
    KILN_ASSIGN_OR_RETURN(c.extrapolation, node.attr_float("extrapolation_value", 0.f));
  }
  else return invalid_model(c.who + "unknown coordinate_transformation_mode '" + coord + "'");
  KILN_ASSIGN_OR_RETURN(std::string nearest, node.attr_string("nearest_mode", std::string("round_prefer_floor")));
  if (nearest == "round_prefer_floor") c.nearest = NearestMode::kRoundPreferFloor;
  else if (nearest == "round_prefer_ceil") c.nearest = NearestMode::kRoundPreferCeil;
  else if (nearest == "floor") c.nearest = NearestMode::kFloor;
  else if (nearest == "ceil") c.nearest = NearestMode::kCeil;
  else return invalid_model(c.who + "unknown nearest_mode '" + nearest + "'");
  KILN_ASSIGN_OR_RETURN(c.cubic_a, node.attr_float("cubic_coeff_a", -0.75f));
  KILN_ASSIGN_OR_RETURN(int64_t exclude, node.attr_int("exclude_outside", 0));
  c.exclude_outside = exclude != 0;
  KILN_ASSIGN_OR_RETURN(int64_t antialias, node.attr_int("antialias", 0));
  if (antialias != 0) return unsupported(c.who + "antialias=1 is not supported");
  KILN_ASSIGN_OR_RETURN(c.axes, node.attr_ints("axes", std::vector<int64_t>{}));
  KILN_ASSIGN_OR_RETURN(std::string keep, node.attr_string("keep_aspect_ratio_policy", std::string("stretch")));
  if (keep == "stretch") c.keep_aspect = KeepAspect::kStretch;
  else if (keep == "not_larger") c.keep_aspect = KeepAspect::kNotLarger;
  else if (keep == "not_smaller") c.keep_aspect = KeepAspect::kNotSmaller;
  else return invalid_model(c.who + "unknown keep_aspect_ratio_policy '" + keep + "'");
  return c;
}

Result<ResizeShape> resize_shape(const ResizeConfig& c, const Dims& x, const Tensor* scales, const Tensor* sizes,
                                 const Tensor* roi) {
  const size_t r = x.size();
  if (r == 0 || r > kMaxResizeRank)
    return unsupported(c.who + "input rank " + std::to_string(r) + " is not supported (1.." +
                       std::to_string(kMaxResizeRank) + ")");
  std::vector<size_t> axes;
  if (c.axes.empty()) {
    for (size_t i = 0; i < r; ++i) axes.push_back(i);
  } else {
    for (int64_t a : c.axes) {
      KILN_ASSIGN_OR_RETURN(int64_t n, normalize_axis(a, static_cast<int64_t>(r), c.who + "axes"));
      if (std::find(axes.begin(), axes.end(), static_cast<size_t>(n)) != axes.end())
        return invalid_model(c.who + "axes " + dims_to_string(c.axes) + " repeat an axis");
      axes.push_back(static_cast<size_t>(n));
    }
  }
  const bool have_scales = !c.attr_scales.empty() || (scales && scales->size() > 0);
  const bool have_sizes = sizes && sizes->size() > 0;
  if (have_scales == have_sizes)
    return invalid_argument(c.who + (have_scales ? "both scales and sizes are given; exactly one is allowed"
                                                 : "neither scales nor sizes is given"));
  ResizeShape s;
  s.out = x;
  s.scales.assign(r, 1.f);
  s.roi_start.assign(r, 0.f);
  s.roi_end.assign(r, 1.f);
  if (c.coord == CoordMode::kTfCropAndResize && roi && roi->size() > 0) {
    if (roi->size() != static_cast<int64_t>(2 * axes.size()))
      return invalid_argument(c.who + "roi has " + std::to_string(roi->size()) + " values, expected " +
                              std::to_string(2 * axes.size()) + " (starts then ends) for input " + dims_to_string(x));
    if (roi->dtype() != DType::kF32 && roi->dtype() != DType::kF16 && roi->dtype() != DType::kF64)
      return invalid_argument(c.who + "roi must be float, got " + dtype_name(roi->dtype()));
    for (size_t i = 0; i < axes.size(); ++i) {
      s.roi_start[axes[i]] = static_cast<float>(roi->get_f64(static_cast<int64_t>(i)));
      s.roi_end[axes[i]] = static_cast<float>(roi->get_f64(static_cast<int64_t>(axes.size() + i)));
    }
  }
  const std::string which = have_scales ? "scales" : "sizes";
  const int64_t count = have_scales ? (c.attr_scales.empty() ? scales->size() : static_cast<int64_t>(c.attr_scales.size()))
                                    : sizes->size();
  if (static_cast<size_t>(count) != axes.size())
    return invalid_argument(c.who + which + " has " + std::to_string(count) + " values, expected " +
                            std::to_string(axes.size()) + " for input " + dims_to_string(x));
  if (have_scales) {
    if (c.attr_scales.empty() && scales->dtype() != DType::kF32 && scales->dtype() != DType::kF16 &&
        scales->dtype() != DType::kF64)
      return invalid_argument(c.who + "scales must be float, got " + dtype_name(scales->dtype()));
    for (size_t i = 0; i < axes.size(); ++i) {
      const float sc = c.attr_scales.empty() ? static_cast<float>(scales->get_f64(static_cast<int64_t>(i))) : c.attr_scales[i];
      const size_t a = axes[i];
      // floor(input * scale) in float, as ONNX Runtime computes it. Like ONNX Runtime and
      // the ONNX reference, tf_crop_and_resize does not scale by the roi's extent here.
      const float o = std::floor(sc * static_cast<float>(x[a]));
      if (!(sc > 0.f) || !(o < 1e12f))
        return invalid_argument(c.who + "scale " + std::to_string(sc) + " for axis " + std::to_string(a) +
                                " is not a positive, sane value");
      s.scales[a] = sc;
      s.out[a] = static_cast<int64_t>(o);
    }
  } else {
    if (sizes->dtype() != DType::kI64 && sizes->dtype() != DType::kI32)
      return invalid_argument(c.who + "sizes must be int64, got " + dtype_name(sizes->dtype()));
    std::vector<int64_t> want(axes.size());
    for (size_t i = 0; i < axes.size(); ++i) {
      want[i] = sizes->get_i64(static_cast<int64_t>(i));
      const size_t a = axes[i];
      if (want[i] < 0 || (x[a] == 0 && want[i] != 0))
        return invalid_argument(c.who + "size " + std::to_string(want[i]) + " for axis " + std::to_string(a) +
                                " of input " + dims_to_string(x) + " is invalid");
    }
    if (c.keep_aspect == KeepAspect::kStretch) {
      for (size_t i = 0; i < axes.size(); ++i) {
        const size_t a = axes[i];
        s.out[a] = want[i];
        s.scales[a] = x[a] ? static_cast<float>(want[i]) / static_cast<float>(x[a]) : 1.f;
      }
    } else {  // one common scale, the smallest (not_larger) or largest (not_smaller)
      float sc = c.keep_aspect == KeepAspect::kNotLarger ? 3.4e38f : 0.f;
      for (size_t i = 0; i < axes.size(); ++i) {
        if (!x[axes[i]]) continue;
        const float f = static_cast<float>(want[i]) / static_cast<float>(x[axes[i]]);
        sc = c.keep_aspect == KeepAspect::kNotLarger ? std::min(sc, f) : std::max(sc, f);
      }
      for (size_t a : axes) {
        s.scales[a] = sc;
        s.out[a] = static_cast<int64_t>(std::round(sc * static_cast<float>(x[a])));
      }
    }
  }
  // Bound the output so the tables (and the executor's allocation) stay sane.
  double total = 1;
  for (int64_t d : s.out) total *= static_cast<double>(d);
  if (total * 4 > static_cast<double>(kMaxTensorBytes))
    return out_of_range(c.who + "output " + dims_to_string(s.out) + " is too large");
  return s;
}

namespace {

// Input coordinate of output index o along an axis (float math, as ONNX Runtime).
float source_coord(CoordMode m, int64_t o, int64_t in, int64_t out, float scale, float roi_start, float roi_end) {
  const float x = static_cast<float>(o);
  switch (m) {
    case CoordMode::kTfCropAndResize: {  // roi is in normalized [0, 1] input coordinates
      const float span = static_cast<float>(in - 1);
      return out > 1 ? roi_start * span + x * (roi_end - roi_start) * span / static_cast<float>(out - 1)
                     : 0.5f * (roi_start + roi_end) * span;
    }
    case CoordMode::kHalfPixel: return (x + 0.5f) / scale - 0.5f;
    case CoordMode::kHalfPixelSymmetric: {  // partly in double, as ONNX Runtime does
      const float adjustment = static_cast<float>(out) / (scale * static_cast<float>(in));
      const float offset = static_cast<float>(in) / 2.f * (1.f - adjustment);
      return static_cast<float>(offset + (x + 0.5) / scale - 0.5);
    }
    case CoordMode::kAsymmetric: return x / scale;
    case CoordMode::kAlignCorners: {
      // ONNX's reference uses the unrounded output length scale * in (equal to `out`
      // when sizes were given), which matters when downsampling by scales.
      const float len = scale * static_cast<float>(in);
      (void)out;
      return len == 1.f ? 0.f : x * static_cast<float>(in - 1) / (len - 1.f);
    }
    case CoordMode::kPytorchHalfPixel: return out > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
    case CoordMode::kTfHalfPixelForNearest: return (x + 0.5f) / scale;
  }
  return x;
}

int64_t nearest_index(NearestMode m, float x, float scale) {
  const float f = std::floor(x);
  switch (m) {
    case NearestMode::kRoundPreferFloor: return static_cast<int64_t>(x == f + 0.5f ? f : std::round(x));
    case NearestMode::kRoundPreferCeil: return static_cast<int64_t>(x == f + 0.5f ? f + 1.f : std::round(x));
    case NearestMode::kFloor: return static_cast<int64_t>(f);
    case NearestMode::kCeil: return static_cast<int64_t>(std::ceil(x));
    case NearestMode::kLegacy: return static_cast<int64_t>(scale < 1.f ? std::ceil(x) : std::trunc(x));
  }
  return static_cast<int64_t>(f);
}

int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// Keys cubic convolution weights for the 4 taps floor(x)-1 .. floor(x)+2 at fraction t.
void cubic_weights(float t, float a, float* w) {
  auto near = [a](float d) { return ((a + 2.f) * d - (a + 3.f)) * d * d + 1.f; };           // |d| <= 1
  auto far = [a](float d) { return ((a * d - 5.f * a) * d + 8.f * a) * d - 4.f * a; };       // 1 < |d| < 2
  w[0] = far(t + 1.f);
  w[1] = near(t);
  w[2] = near(1.f - t);
  w[3] = far(2.f - t);
}

}  // namespace

void build_resize_tables(const ResizeConfig& c, const Dims& x, const ResizeShape& s, ResizeTables* t) {
  const size_t taps = c.mode == ResizeMode::kNearest ? 1 : (c.mode == ResizeMode::kLinear ? 2 : 4);
  const bool crop = c.coord == CoordMode::kTfCropAndResize;
  for (size_t d = 0; d < x.size(); ++d) {
    const int64_t in = x[d], out = s.out[d];
    const float scale = s.scales[d];
    std::vector<int64_t>& idx = t->index[d];
    std::vector<float>& wt = t->weight[d];
    std::vector<uint8_t>& outside = t->outside[d];
    outside.assign(crop ? static_cast<size_t>(out) : 0, 0);
    idx.assign(static_cast<size_t>(out) * taps, 0);
    wt.assign(static_cast<size_t>(out) * taps, 0.f);
    for (int64_t o = 0; o < out; ++o) {
      const float xs = source_coord(c.coord, o, in, out, scale, s.roi_start[d], s.roi_end[d]);
      if (crop) outside[static_cast<size_t>(o)] = xs < 0.f || xs > static_cast<float>(in - 1);
      int64_t* oi = &idx[static_cast<size_t>(o) * taps];
      float* ow = &wt[static_cast<size_t>(o) * taps];
      if (c.mode == ResizeMode::kNearest) {
        // An unscaled axis maps one to one (ONNX Runtime skips the transform there, which
        // matters for tf_half_pixel_for_nn, whose +0.5 would shift a round-up mode).
        oi[0] = scale == 1.f && in == out && !crop ? o : clamp_index(nearest_index(c.nearest, xs, scale), in);
        ow[0] = 1.f;
      } else if (c.mode == ResizeMode::kLinear) {
        const float xc = std::min(std::max(xs, 0.f), static_cast<float>(in - 1));
        const int64_t x0 = static_cast<int64_t>(std::floor(xc));
        const float frac = xc - static_cast<float>(x0);
        oi[0] = clamp_index(x0, in);
        oi[1] = clamp_index(x0 + 1, in);
        ow[0] = 1.f - frac;
        ow[1] = frac;
      } else {
        const float f = std::floor(xs);
        const int64_t x0 = static_cast<int64_t>(f);
        cubic_weights(xs - f, c.cubic_a, ow);
        float sum = 0.f;
        for (size_t k = 0; k < 4; ++k) {
          const int64_t i = x0 - 1 + static_cast<int64_t>(k);
          if (c.exclude_outside && (i < 0 || i >= in)) ow[k] = 0.f;
          sum += ow[k];
          oi[k] = clamp_index(i, in);
        }
        if (c.exclude_outside && sum != 0.f)
          for (size_t k = 0; k < 4; ++k) ow[k] /= sum;
      }
    }
    // An axis where every output copies one input (e.g. N and C under linear/cubic)
    // collapses to a single tap: same result, far fewer multiply-adds.
    size_t n_taps = taps;
    if (taps > 1) {
      bool single = true;
      for (int64_t o = 0; single && o < out; ++o) {
        int hits = 0;
        for (size_t k = 0; k < taps; ++k) {
          const float w = wt[static_cast<size_t>(o) * taps + k];
          if (w == 1.f) ++hits;
          else if (w != 0.f) single = false;
        }
        single = single && hits == 1;
      }
      if (single) {
        std::vector<int64_t> one(static_cast<size_t>(out));
        for (size_t o = 0; o < one.size(); ++o)
          for (size_t k = 0; k < taps; ++k)
            if (wt[o * taps + k] == 1.f) one[o] = idx[o * taps + k];
        idx = std::move(one);
        wt.assign(idx.size(), 1.f);
        n_taps = 1;
      }
    }
    ResizeAxis& ax = t->axes[d];
    ax.in_size = in;
    ax.out_size = out;
    ax.taps = n_taps;
    ax.index = idx.data();
    ax.weight = wt.data();
    ax.outside = crop ? outside.data() : nullptr;
  }
}

}  // namespace kiln::nn
