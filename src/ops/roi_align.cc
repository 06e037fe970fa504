// RoiAlign: for each region of interest (x1, y1, x2, y2 in input pixels times
// spatial_scale) of image batch_indices[r], averages (or takes the max of) bilinear samples
// on a grid of sampling_ratio (or ceil(roi size / output size)) points per output bin ->
// [num_rois, C, output_height, output_width]. half_pixel (opset 16 default) shifts the
// coordinates by -0.5; output_half_pixel (the opset-10 behaviour) does not and makes
// every roi at least 1x1. Sampling and the max mode follow ONNX Runtime's definition.
#include <algorithm>
#include <cmath>

#include "ops/elementwise.h"

namespace kiln {
namespace {

class RoiAlignOp final : public Op {
 public:
  RoiAlignOp(std::string who, bool half_pixel, bool max_mode, int64_t oh, int64_t ow, int64_t ratio, float scale)
      : who_(std::move(who)), half_pixel_(half_pixel), max_(max_mode), oh_(oh), ow_(ow), ratio_(ratio), scale_(scale) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    for (size_t i = 0; i < 3; ++i)
      if (!has_in(in, i)) return invalid_model(who_ + ": inputs X, rois and batch_indices are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": X"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {in[0].dtype}, who_ + ": rois"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[2], {DType::kI64, DType::kI32}, who_ + ": batch_indices"));
    const Dims& x = in[0].dims;
    const Dims& r = in[1].dims;
    if (x.size() != 4 || r.size() != 2 || r[1] != 4 || in[2].dims != Dims{r[0]})
      return invalid_argument(who_ + ": X " + dims_to_string(x) + ", rois " + dims_to_string(r) + " and batch_indices " +
                              dims_to_string(in[2].dims) + " must be [N, C, H, W], [R, 4] and [R]");
    out[0] = {in[0].dtype, Dims{r[0], x[1], oh_, ow_}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    Status s;
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) { s = compute<decltype(tag)>(in, out[0]); });
    return s;
  }

 private:
  template <class T>
  Status compute(std::span<const Tensor> in, Tensor& yt) const {
    const int64_t n = in[0].dim(0), c = in[0].dim(1), h = in[0].dim(2), w = in[0].dim(3), rois = in[1].dim(0);
    const T* x = in[0].data<T>();
    const T* roi = in[1].data<T>();
    T* y = yt.mutable_data<T>();
    const double offset = half_pixel_ ? 0.5 : 0.0;
    for (int64_t r = 0; r < rois; ++r) {
      const int64_t b = in[2].get_i64(r);
      if (b < 0 || b >= n)
        return out_of_range(who_ + ": batch_indices[" + std::to_string(r) + "] = " + std::to_string(b) +
                            " is outside [0, " + std::to_string(n) + ")");
      const T* p = roi + r * 4;
      const double x0 = static_cast<double>(p[0]) * scale_ - offset, y0 = static_cast<double>(p[1]) * scale_ - offset;
      double rw = static_cast<double>(p[2]) * scale_ - offset - x0, rh = static_cast<double>(p[3]) * scale_ - offset - y0;
      if (!half_pixel_) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
      const double bh = rh / static_cast<double>(oh_), bw = rw / static_cast<double>(ow_);
      const double gh_d = ratio_ > 0 ? static_cast<double>(ratio_) : std::ceil(rh / static_cast<double>(oh_));
      const double gw_d = ratio_ > 0 ? static_cast<double>(ratio_) : std::ceil(rw / static_cast<double>(ow_));
      // A non-finite or enormous roi would mean an undefined conversion or a near-endless loop.
      if (!(gh_d >= 0 && gw_d >= 0 && gh_d * gw_d <= static_cast<double>(1 << 20)))
        return invalid_argument(who_ + ": roi " + std::to_string(r) + " needs " + std::to_string(gh_d) + " x " +
                                std::to_string(gw_d) + " samples per bin (non-finite or too large)");
      const int64_t gh = static_cast<int64_t>(gh_d), gw = static_cast<int64_t>(gw_d);
      const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
      for (int64_t ch = 0; ch < c; ++ch) {
        const T* img = x + (b * c + ch) * h * w;
        for (int64_t ph = 0; ph < oh_; ++ph)
          for (int64_t pw = 0; pw < ow_; ++pw) {
            double acc = 0;
            bool first = true;
            for (int64_t iy = 0; iy < gh; ++iy)
              for (int64_t ix = 0; ix < gw; ++ix) {
                double yy = y0 + static_cast<double>(ph) * bh + (static_cast<double>(iy) + 0.5) * bh / static_cast<double>(gh);
                double xx = x0 + static_cast<double>(pw) * bw + (static_cast<double>(ix) + 0.5) * bw / static_cast<double>(gw);
                double v[4] = {0, 0, 0, 0}, wt[4] = {0, 0, 0, 0};
                // Written so that NaN coordinates sample nothing.
                if (yy >= -1.0 && yy <= static_cast<double>(h) && xx >= -1.0 && xx <= static_cast<double>(w)) {
                  yy = std::max(yy, 0.0);
                  xx = std::max(xx, 0.0);
                  int64_t yl = static_cast<int64_t>(yy), xl = static_cast<int64_t>(xx), yh, xh;
                  if (yl >= h - 1) yh = yl = h - 1, yy = static_cast<double>(yl);
                  else yh = yl + 1;
                  if (xl >= w - 1) xh = xl = w - 1, xx = static_cast<double>(xl);
                  else xh = xl + 1;
                  const double ly = yy - static_cast<double>(yl), lx = xx - static_cast<double>(xl);
                  wt[0] = (1 - ly) * (1 - lx), wt[1] = (1 - ly) * lx, wt[2] = ly * (1 - lx), wt[3] = ly * lx;
                  v[0] = static_cast<double>(img[yl * w + xl]), v[1] = static_cast<double>(img[yl * w + xh]);
                  v[2] = static_cast<double>(img[yh * w + xl]), v[3] = static_cast<double>(img[yh * w + xh]);
                }
                if (max_) {
                  const double m = std::max(std::max(wt[0] * v[0], wt[1] * v[1]), std::max(wt[2] * v[2], wt[3] * v[3]));
                  acc = first ? m : std::max(acc, m);
                  first = false;
                } else {
                  acc += wt[0] * v[0] + wt[1] * v[1] + wt[2] * v[2] + wt[3] * v[3];
                }
              }
            y[((r * c + ch) * oh_ + ph) * ow_ + pw] = static_cast<T>(max_ ? acc : acc / count);
          }
      }
    }
    return Status::Ok();
  }

  std::string who_;
  bool half_pixel_, max_;
  int64_t oh_, ow_, ratio_;
  double scale_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_roi_align(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 3, 3));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  const std::string who = ctx.node.describe();
  KILN_ASSIGN_OR_RETURN(std::string coord, ctx.node.attr_string("coordinate_transformation_mode",
                                                                 ctx.opset >= 16 ? "half_pixel" : "output_half_pixel"));
  KILN_ASSIGN_OR_RETURN(std::string mode, ctx.node.attr_string("mode", "avg"));
  KILN_ASSIGN_OR_RETURN(int64_t oh, ctx.node.attr_int("output_height", 1));
  KILN_ASSIGN_OR_RETURN(int64_t ow, ctx.node.attr_int("output_width", 1));
  KILN_ASSIGN_OR_RETURN(int64_t ratio, ctx.node.attr_int("sampling_ratio", 0));
  KILN_ASSIGN_OR_RETURN(float scale, ctx.node.attr_float("spatial_scale", 1.0f));
  if (coord != "half_pixel" && coord != "output_half_pixel")
    return invalid_model(who + ": unknown coordinate_transformation_mode '" + coord + "'");
  if (mode != "avg" && mode != "max") return invalid_model(who + ": mode must be avg or max, got '" + mode + "'");
  if (oh < 1 || ow < 1 || ratio < 0 || oh > (1 << 20) || ow > (1 << 20))
    return invalid_model(who + ": bad output_height/output_width/sampling_ratio");
  return std::unique_ptr<Op>(new RoiAlignOp(who, coord == "half_pixel", mode == "max", oh, ow, ratio, scale));
}

}  // namespace kiln
