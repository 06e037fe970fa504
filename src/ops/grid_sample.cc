// GridSample (opset 16, 4-D): samples X [N, C, H, W] at the normalized (x, y) points of
// grid [N, Ho, Wo, 2] (-1..1 spans the image: pixel centers of the corner pixels with
// align_corners, their outer edges without) -> [N, C, Ho, Wo]. Modes bilinear, nearest,
// bicubic (A = -0.75); padding zeros, border (clamp) or reflection, computed as PyTorch's
// grid_sample does (the source of ONNX's definition and test data).
#include <cmath>

#include "ops/elementwise.h"

namespace kiln {
namespace {

enum class Mode { kBilinear, kNearest, kBicubic };
enum class Padding { kZeros, kBorder, kReflection };

class GridSampleOp final : public Op {
 public:
  GridSampleOp(std::string who, Mode mode, Padding pad, bool align) : who_(std::move(who)), mode_(mode), pad_(pad), align_(align) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs X and grid are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32, DType::kF64}, who_ + ": X"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {in[0].dtype}, who_ + ": grid"));
    const Dims& x = in[0].dims;
    const Dims& g = in[1].dims;
    if (x.size() != 4 || g.size() != 4 || g[0] != x[0] || g[3] != 2)
      return invalid_argument(who_ + ": X " + dims_to_string(x) + " and grid " + dims_to_string(g) +
                              " must be [N, C, H, W] and [N, Ho, Wo, 2]");
    out[0] = {in[0].dtype, Dims{x[0], x[1], g[1], g[2]}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    visit_dtype(in[0].dtype(), FloatTypes{}, [&](auto tag) { compute<decltype(tag)>(in[0], in[1], out[0]); });
    return Status::Ok();
  }

 private:
  double unnormalize(double c, int64_t size) const {
    return align_ ? (c + 1) / 2 * static_cast<double>(size - 1) : ((c + 1) * static_cast<double>(size) - 1) / 2;
  }
  static double clip(double c, int64_t size) { return std::min(static_cast<double>(size - 1), std::max(c, 0.0)); }
  static double reflect(double c, double twice_low, double twice_high) {
    if (twice_low == twice_high) return 0;
    const double lo = twice_low / 2, span = (twice_high - twice_low) / 2;
    c = std::fabs(c - lo);
    const double extra = std::fmod(c, span);
    // Parity of the number of flips, in double (the count may not fit an integer).
    const bool even = std::fmod(std::floor(c / span), 2.0) == 0;
    return even ? extra + lo : span - extra + lo;
  }
  // Applies the padding mode to a coordinate (zeros: unchanged; out-of-range reads give 0).
  double pad(double c, int64_t size) const {
    if (pad_ == Padding::kBorder) return clip(c, size);
    if (pad_ == Padding::kReflection) {
      c = align_ ? reflect(c, 0, 2.0 * static_cast<double>(size - 1)) : reflect(c, -1, 2.0 * static_cast<double>(size) - 1);
      return clip(c, size);
    }
    return c;
  }
  // Index of a coordinate for at(); non-finite or huge ones map to -1 (reads as 0), since
  // converting them to an integer is undefined.
  static int64_t index_of(double v) { return v > -1e15 && v < 1e15 ? static_cast<int64_t>(v) : -1; }
  static double cubic1(double x, double a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }
  static double cubic2(double x, double a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }

  template <class T>
  void compute(const Tensor& xt, const Tensor& gt, Tensor& yt) const {
    const int64_t n = xt.dim(0), c = xt.dim(1), h = xt.dim(2), w = xt.dim(3), ho = gt.dim(1), wo = gt.dim(2);
    const T* x = xt.data<T>();
    const T* g = gt.data<T>();
    T* y = yt.mutable_data<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          const T* p = g + ((b * ho + i) * wo + j) * 2;
          const double gx = unnormalize(static_cast<double>(p[0]), w), gy = unnormalize(static_cast<double>(p[1]), h);
          for (int64_t ch = 0; ch < c; ++ch) {
            const T* img = x + (b * c + ch) * h * w;
            auto at = [&](int64_t yy, int64_t xx) -> double {
              return yy < 0 || yy >= h || xx < 0 || xx >= w ? 0.0 : static_cast<double>(img[yy * w + xx]);
            };
            double v = 0;
            if (mode_ == Mode::kBicubic) {
              const double fx = std::floor(gx), fy = std::floor(gy), tx = gx - fx, ty = gy - fy;
              const double a = -0.75;
              const double cx[4] = {cubic2(tx + 1, a), cubic1(tx, a), cubic1(1 - tx, a), cubic2(2 - tx, a)};
              const double cy[4] = {cubic2(ty + 1, a), cubic1(ty, a), cubic1(1 - ty, a), cubic2(2 - ty, a)};
              for (int r = 0; r < 4; ++r)
                for (int q = 0; q < 4; ++q) {
                  // Padding applies per tap for bicubic.
                  const double sy = pad(fy - 1 + r, h), sx = pad(fx - 1 + q, w);
                  v += cy[r] * cx[q] * at(index_of(sy), index_of(sx));
                }
            } else {
              const double sx = pad(gx, w), sy = pad(gy, h);
              if (mode_ == Mode::kNearest) {
                v = at(index_of(std::nearbyint(sy)), index_of(std::nearbyint(sx)));
              } else {
                const double fx = std::floor(sx), fy = std::floor(sy), tx = sx - fx, ty = sy - fy;
                const int64_t x0 = index_of(fx), y0 = index_of(fy);
                v = at(y0, x0) * (1 - tx) * (1 - ty) + at(y0, x0 + 1) * tx * (1 - ty) + at(y0 + 1, x0) * (1 - tx) * ty +
                    at(y0 + 1, x0 + 1) * tx * ty;
              }
            }
            y[((b * c + ch) * ho + i) * wo + j] = static_cast<T>(v);
          }
        }
  }

  std::string who_;
  Mode mode_;
  Padding pad_;
  bool align_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_grid_sample(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 2));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(std::string mode, ctx.node.attr_string("mode", "bilinear"));
  KILN_ASSIGN_OR_RETURN(std::string padding, ctx.node.attr_string("padding_mode", "zeros"));
  KILN_ASSIGN_OR_RETURN(int64_t align, ctx.node.attr_int("align_corners", 0));
  Mode m;
  if (mode == "bilinear" || mode == "linear") m = Mode::kBilinear;
  else if (mode == "nearest") m = Mode::kNearest;
  else if (mode == "bicubic" || mode == "cubic") m = Mode::kBicubic;
  else return invalid_model(ctx.node.describe() + ": unknown mode '" + mode + "'");
  Padding p;
  if (padding == "zeros") p = Padding::kZeros;
  else if (padding == "border") p = Padding::kBorder;
  else if (padding == "reflection") p = Padding::kReflection;
  else return invalid_model(ctx.node.describe() + ": unknown padding_mode '" + padding + "'");
  return std::unique_ptr<Op>(new GridSampleOp(ctx.node.describe(), m, p, align != 0));
}

}  // namespace kiln
