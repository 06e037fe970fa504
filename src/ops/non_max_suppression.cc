// NonMaxSuppression: per batch and class, boxes sorted by descending score (ties: lower
// index first) are selected greedily, skipping any whose IoU with a selected box exceeds
// iou_threshold, keeping only scores above score_threshold and at most
// max_output_boxes_per_class. Output [num_selected, 3] int64 of (batch, class, box).
// Boxes are corners [y1, x1, y2, x2] in either order (center_point_box 0) or
// [x_center, y_center, width, height] (center_point_box 1).
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "ops/elementwise.h"

namespace kiln {
namespace {

using Box = std::array<double, 4>;  // ymin, xmin, ymax, xmax

class NonMaxSuppressionOp final : public Op {
 public:
  NonMaxSuppressionOp(std::string who, bool center) : who_(std::move(who)), center_(center) {}

  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    if (!has_in(in, 0) || !has_in(in, 1)) return invalid_model(who_ + ": inputs boxes and scores are required");
    KILN_RETURN_IF_ERROR(expect_dtype(in[0], {DType::kF32}, who_ + ": boxes"));
    KILN_RETURN_IF_ERROR(expect_dtype(in[1], {DType::kF32}, who_ + ": scores"));
    const Dims& b = in[0].dims;
    const Dims& s = in[1].dims;
    if (b.size() != 3 || b[2] != 4 || s.size() != 3 || s[0] != b[0] || s[2] != b[1])
      return invalid_argument(who_ + ": boxes " + dims_to_string(b) + " and scores " + dims_to_string(s) +
                              " must be [B, N, 4] and [B, C, N]");
    for (size_t i = 0; i < 5; ++i)
      if (has_in(in, i) && !in[i].value) return needs_value(i);
    std::vector<std::array<int64_t, 3>> sel;
    KILN_RETURN_IF_ERROR(select(in, sel));
    out[0] = {DType::kI64, Dims{static_cast<int64_t>(sel.size()), 3}, nullptr};
    return Status::Ok();
  }

  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    KILN_ASSIGN_OR_RETURN(TensorInfo expect, infer_and_check(*this, in, out, who_));
    std::vector<std::array<int64_t, 3>> sel;
    KILN_RETURN_IF_ERROR(select(infos_of(in), sel));
    int64_t* y = out[0].mutable_data<int64_t>();
    for (size_t i = 0; i < sel.size(); ++i)
      for (size_t k = 0; k < 3; ++k) y[i * 3 + k] = sel[i][k];
    return Status::Ok();
  }

 private:
  Status select(std::span<const TensorInfo> in, std::vector<std::array<int64_t, 3>>& sel) const {
    int64_t max_out = 0;
    double iou_threshold = 0, score_threshold = -INFINITY;
    if (has_in(in, 2)) {
      KILN_ASSIGN_OR_RETURN(max_out, read_scalar_i64(*in[2].value, who_ + ": max_output_boxes_per_class"));
    }
    if (has_in(in, 3)) {
      KILN_ASSIGN_OR_RETURN(iou_threshold, read_scalar_f64(*in[3].value, who_ + ": iou_threshold"));
    }
    if (has_in(in, 4)) {
      KILN_ASSIGN_OR_RETURN(score_threshold, read_scalar_f64(*in[4].value, who_ + ": score_threshold"));
    }
    const Tensor& boxes = *in[0].value;
    const Tensor& scores = *in[1].value;
    const int64_t batches = boxes.dim(0), n = boxes.dim(1), classes = scores.dim(1);
    const float* bx = boxes.data<float>();
    const float* sc = scores.data<float>();
    std::vector<Box> corners(static_cast<size_t>(n));
    for (int64_t b = 0; b < batches; ++b) {
      for (int64_t i = 0; i < n; ++i) {
        const float* p = bx + (b * n + i) * 4;
        Box& c = corners[static_cast<size_t>(i)];
        if (center_) {
          c = {p[1] - p[3] / 2.0, p[0] - p[2] / 2.0, p[1] + p[3] / 2.0, p[0] + p[2] / 2.0};
        } else {
          c = {std::min<double>(p[0], p[2]), std::min<double>(p[1], p[3]), std::max<double>(p[0], p[2]),
               std::max<double>(p[1], p[3])};
        }
      }
      for (int64_t c = 0; c < classes; ++c) {
        const float* s = sc + (b * classes + c) * n;
        std::vector<int64_t> order;
        for (int64_t i = 0; i < n; ++i)
          if (s[i] > score_threshold) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
        std::vector<int64_t> kept;
        for (int64_t i : order) {
          if (static_cast<int64_t>(kept.size()) >= max_out) break;
          bool keep = true;
          for (int64_t k : kept)
            if (iou(corners[static_cast<size_t>(i)], corners[static_cast<size_t>(k)]) > iou_threshold) {
              keep = false;
              break;
            }
          if (keep) kept.push_back(i);
        }
        for (int64_t k : kept) sel.push_back({b, c, k});
      }
    }
    return Status::Ok();
  }

  static double iou(const Box& a, const Box& b) {
    const double ih = std::min(a[2], b[2]) - std::max(a[0], b[0]);
    const double iw = std::min(a[3], b[3]) - std::max(a[1], b[1]);
    const double area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if (ih <= 0 || iw <= 0 || area_a <= 0 || area_b <= 0) return 0;
    const double inter = ih * iw;
    return inter / (area_a + area_b - inter);
  }

  std::string who_;
  bool center_;
};

}  // namespace

Result<std::unique_ptr<Op>> create_non_max_suppression(const OpContext& ctx) {
  KILN_RETURN_IF_ERROR(check_input_count(ctx, 2, 5));
  KILN_RETURN_IF_ERROR(check_output_count(ctx, 1, 1));
  KILN_ASSIGN_OR_RETURN(int64_t center, ctx.node.attr_int("center_point_box", 0));
  if (center != 0 && center != 1)
    return invalid_model(ctx.node.describe() + ": center_point_box must be 0 or 1, got " + std::to_string(center));
  return std::unique_ptr<Op>(new NonMaxSuppressionOp(ctx.node.describe(), center == 1));
}

}  // namespace kiln
