#include "compress/eval_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "vision/db_postprocess.h"

namespace kiln {

void ErrorStats::add(const float* ref, const float* test, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double u = ref[i], e = std::fabs(u - double(test[i]));
    const double err = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
    max_abs = std::max(max_abs, err);
    sum_abs += err;
    sum_ref2 += std::isfinite(u) ? u * u : 0;
    sum_err2 += err * err;
  }
  count += n;
}

double ErrorStats::snr_db() const {
  if (sum_err2 == 0) return std::numeric_limits<double>::infinity();
  if (sum_ref2 == 0) return -std::numeric_limits<double>::infinity();
  return 10 * std::log10(sum_ref2 / sum_err2);
}

std::u32string utf8_to_u32(const std::string& s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    bool ok = len > 0 && i + size_t(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + size_t(k)]);
      ok = (cont >> 6) == 2;
      c = (c << 6) | (cont & 0x3f);
    }
    out.push_back(ok ? c : U'\uFFFD');
    i += ok ? size_t(len) : 1;
  }
  return out;
}

int64_t edit_distance(const std::u32string& a, const std::u32string& b) {
  // One row of the dynamic programme at a time.
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = int64_t(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diag = row[0];
    row[0] = int64_t(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::u32string normalize_spaces(const std::u32string& s) {
  std::u32string out;
  for (char32_t c : s) {
    const bool space = c == U' ' || c == U'\t' || c == U'\n';
    if (space && (out.empty() || out.back() == U' ')) continue;
    out.push_back(space ? U' ' : c);
  }
  if (!out.empty() && out.back() == U' ') out.pop_back();
  return out;
}

StringScore score_string(const std::string& truth, const std::string& predicted) {
  StringScore s;
  const std::u32string t = normalize_spaces(utf8_to_u32(truth)), p = normalize_spaces(utf8_to_u32(predicted));
  s.exact = t == p;
  if (t.empty()) {
    s.char_accuracy = p.empty() ? 1.0 : 0.0;
  } else {
    s.char_accuracy = std::max(0.0, 1.0 - double(edit_distance(t, p)) / double(t.size()));
  }
  return s;
}

double box_iou(const Box& a, const Box& b) {
  const Box in{std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
  const double inter = in.area();
  const double uni = double(a.area()) + double(b.area()) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

Result<std::vector<Box>> text_boxes(const float* prob, int64_t height, int64_t width) {
  vision::DbOptions o;
  o.threshold = 0.3;
  o.unclip_ratio = 1.5;
  // Every component counts (the metrics compare what each model finds, not what an OCR
  // pipeline would keep): no score filter, no candidate limit.
  o.box_threshold = std::numeric_limits<double>::lowest();
  o.max_candidates = std::numeric_limits<int64_t>::max();
  // vision measures sides between outermost pixel centres and also drops boxes whose
  // unclipped side is under min_size + 2; min_size 1 keeps exactly the components at least
  // 3 pixels on each side.
  o.min_size = 1;
  const size_t size = height > 0 && width > 0 ? size_t(height) * size_t(width) : 0;
  KILN_ASSIGN_OR_RETURN(std::vector<vision::TextBox> found, vision::detect_text_boxes(prob, size, {height, width}, o));
  std::vector<Box> boxes;
  boxes.reserve(found.size());
  for (const vision::TextBox& t : found)
    boxes.push_back(Box{float(t.x), float(t.y), float(t.x + t.width), float(t.y + t.height)});
  return boxes;
}

BoxMatch match_boxes(const std::vector<Box>& ref, const std::vector<Box>& test, double iou_threshold) {
  BoxMatch m;
  m.ref_boxes = int64_t(ref.size());
  m.test_boxes = int64_t(test.size());
  std::vector<std::tuple<double, size_t, size_t>> pairs;
  for (size_t i = 0; i < ref.size(); ++i)
    for (size_t j = 0; j < test.size(); ++j)
      if (double iou = box_iou(ref[i], test[j]); iou > 0) pairs.emplace_back(iou, i, j);
  // Highest IoU first; ties by index so the result does not depend on the sort.
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b) : a < b;
  });
  std::vector<bool> ref_used(ref.size()), test_used(test.size());
  for (const auto& [iou, i, j] : pairs) {
    if (ref_used[i] || test_used[j]) continue;
    ref_used[i] = test_used[j] = true;
    m.sum_iou += iou;
    if (iou >= iou_threshold) ++m.matched;
  }
  return m;
}

}  // namespace kiln
