#include "vision/db_postprocess.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace kiln::vision {
namespace {

std::string dims_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {  // "[1,1,3,5]", as the JS printed dims
    if (i) s += ',';
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

struct Component {
  int64_t x0, x1, y0, y1;
};

// Labels 8-connected components of pixels > threshold with an explicit stack (no
// recursion, so a map-sized blob is fine); stops after max_candidates components.
std::vector<Component> components(const float* prob, int64_t H, int64_t W, double threshold, int64_t max_candidates) {
  const size_t n = static_cast<size_t>(H * W);
  std::vector<uint8_t> label(n);  // 0 = not text, 1 = text unvisited, 2 = visited
  for (size_t i = 0; i < n; ++i) label[i] = prob[i] > threshold ? 1 : 0;
  std::vector<int64_t> stack;
  std::vector<Component> out;
  for (int64_t start = 0; start < H * W && static_cast<int64_t>(out.size()) < max_candidates; ++start) {
    if (label[start] != 1) continue;
    Component c{W, -1, H, -1};
    stack.assign(1, start);
    label[start] = 2;
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      const int64_t y = p / W, x = p - y * W;
      c.x0 = std::min(c.x0, x), c.x1 = std::max(c.x1, x);
      c.y0 = std::min(c.y0, y), c.y1 = std::max(c.y1, y);
      for (int64_t ny = std::max<int64_t>(y - 1, 0); ny <= std::min(y + 1, H - 1); ++ny)
        for (int64_t nx = std::max<int64_t>(x - 1, 0); nx <= std::min(x + 1, W - 1); ++nx) {
          const int64_t q = ny * W + nx;
          if (label[q] == 1) label[q] = 2, stack.push_back(q);
        }
    }
    out.push_back(c);
  }
  return out;
}

// PaddleOCR's sorted_boxes: by top, then left; then one pass of adjacent swaps puts
// neighbours less than 10 px apart vertically in left-to-right order.
void sort_boxes(std::vector<TextBox>& boxes) {
  std::stable_sort(boxes.begin(), boxes.end(),
                   [](const TextBox& a, const TextBox& b) { return a.y != b.y ? a.y < b.y : a.x < b.x; });
  for (size_t i = 0; i + 1 < boxes.size(); ++i)
    for (size_t j = i + 1; j-- > 0;) {
      if (std::abs(boxes[j + 1].y - boxes[j].y) < 10 && boxes[j + 1].x < boxes[j].x)
        std::swap(boxes[j], boxes[j + 1]);
      else
        break;
    }
}

}  // namespace

Result<std::vector<int64_t>> db_map_size(const std::vector<int64_t>& dims, size_t size) {
  bool leading_ones = dims.size() >= 2 && dims.size() <= 4;
  for (size_t i = 0; leading_ones && i + 2 < dims.size(); ++i) leading_ones = dims[i] == 1;
  if (!leading_ones)
    return invalid_argument("detectTextBoxes: expected dims [1, 1, H, W], [1, H, W] or [H, W], got " +
                            dims_string(dims));
  const int64_t H = dims[dims.size() - 2], W = dims.back();
  if (H <= 0 || W <= 0 || H > kMaxMapSide || W > kMaxMapSide)
    return invalid_argument("detectTextBoxes: empty or invalid map size " + std::to_string(H) + "x" +
                            std::to_string(W) + " (dims " + dims_string(dims) + ")");
  if (static_cast<uint64_t>(H * W) != size)
    return invalid_argument("detectTextBoxes: " + std::to_string(size) + " values for dims " + dims_string(dims) +
                            " (expected " + std::to_string(H * W) + ")");
  return std::vector<int64_t>{H, W};
}

Result<std::vector<TextBox>> detect_text_boxes(const float* prob, size_t size, const std::vector<int64_t>& dims,
                                               const DbOptions& o) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> hw, db_map_size(dims, size));
  const int64_t H = hw[0], W = hw[1];
  auto bad = [](const char* name, double v) {
    return invalid_argument(std::string("detectTextBoxes: invalid option ") + name + " = " + std::to_string(v));
  };
  if (!std::isfinite(o.threshold)) return bad("threshold", o.threshold);
  if (!std::isfinite(o.box_threshold)) return bad("boxThreshold", o.box_threshold);
  if (!(std::isfinite(o.unclip_ratio) && o.unclip_ratio >= 0)) return bad("unclipRatio", o.unclip_ratio);
  if (!(std::isfinite(o.min_size) && o.min_size >= 0)) return bad("minSize", o.min_size);
  if (o.max_candidates < 0) return bad("maxCandidates", static_cast<double>(o.max_candidates));
  if (!(std::isfinite(o.image_width) && o.image_width >= 0)) return bad("imageWidth", o.image_width);
  if (!(std::isfinite(o.image_height) && o.image_height >= 0)) return bad("imageHeight", o.image_height);
  const double image_w = o.image_width > 0 ? o.image_width : static_cast<double>(W);
  const double image_h = o.image_height > 0 ? o.image_height : static_cast<double>(H);
  const double sx = image_w / static_cast<double>(W), sy = image_h / static_cast<double>(H);
  // Rounded half up (JS Math.round), then clamped to the image.
  auto to_x = [&](double v) { return std::min(std::max(std::floor(v * sx + 0.5), 0.0), image_w); };
  auto to_y = [&](double v) { return std::min(std::max(std::floor(v * sy + 0.5), 0.0), image_h); };

  std::vector<TextBox> boxes;
  for (const Component& c : components(prob, H, W, o.threshold, o.max_candidates)) {
    const double w = static_cast<double>(c.x1 - c.x0), h = static_cast<double>(c.y1 - c.y0);
    if (std::min(w, h) < o.min_size) continue;
    double sum = 0;
    for (int64_t y = c.y0; y <= c.y1; ++y)
      for (int64_t x = c.x0; x <= c.x1; ++x) sum += prob[y * W + x];
    const double score = sum / ((w + 1) * (h + 1));
    if (score < o.box_threshold) continue;
    // Unclip: the shrunk text kernel is grown back by area * ratio / perimeter.
    const double d = w + h > 0 ? (w * h * o.unclip_ratio) / (2 * (w + h)) : 0;  // a lone pixel has no perimeter
    if (std::min(w, h) + 2 * d < o.min_size + 2) continue;
    const double bx0 = to_x(static_cast<double>(c.x0) - d), bx1 = to_x(static_cast<double>(c.x1) + d);
    const double by0 = to_y(static_cast<double>(c.y0) - d), by1 = to_y(static_cast<double>(c.y1) + d);
    if (bx1 <= bx0 || by1 <= by0) continue;
    boxes.push_back({static_cast<int64_t>(bx0), static_cast<int64_t>(by0), static_cast<int64_t>(bx1 - bx0),
                     static_cast<int64_t>(by1 - by0), score});
  }
  sort_boxes(boxes);
  return boxes;
}

}  // namespace kiln::vision
