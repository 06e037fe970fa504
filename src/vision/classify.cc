#include "vision/classify.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace kiln::vision {

template <class T>
Status softmax_rows(const T* data, size_t n, size_t row, float* out) {
  if (row == 0 || n % row != 0)
    return invalid_argument("softmax: " + std::to_string(n) + " values do not split into rows of " + std::to_string(row));
  for (size_t r = 0; r < n; r += row) {
    double max = -std::numeric_limits<double>::infinity();
    for (size_t i = r; i < r + row; ++i) max = std::max<double>(max, data[i]);
    double sum = 0;
    for (size_t i = r; i < r + row; ++i) {
      const double e = std::exp(static_cast<double>(data[i]) - max);
      out[i] = static_cast<float>(e);
      sum += e;
    }
    // Divides the stored float by the double sum, as the JS did (bit-identical results).
    for (size_t i = r; i < r + row; ++i) out[i] = static_cast<float>(static_cast<double>(out[i]) / sum);
  }
  return Status::Ok();
}

template <class T>
Result<std::vector<TopEntry>> top_k(const T* data, size_t n, int64_t k) {
  if (k <= 0) return invalid_argument("topK: k must be a positive integer, got " + std::to_string(k));
  const size_t kk = static_cast<size_t>(std::min<int64_t>(k, static_cast<int64_t>(n)));
  std::vector<TopEntry> best;
  best.reserve(kk + 1);
  for (size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(data[i]);
    if (std::isnan(v)) continue;
    if (best.size() == kk && !(v > best.back().value)) continue;
    // Insertion after every equal value keeps ties in index order.
    auto at = std::upper_bound(best.begin(), best.end(), v, [](double x, const TopEntry& e) { return x > e.value; });
    best.insert(at, {static_cast<int64_t>(i), v});
    if (best.size() > kk) best.pop_back();
  }
  return best;
}

template Status softmax_rows<float>(const float*, size_t, size_t, float*);
template Status softmax_rows<double>(const double*, size_t, size_t, float*);
template Result<std::vector<TopEntry>> top_k<float>(const float*, size_t, int64_t);
template Result<std::vector<TopEntry>> top_k<double>(const double*, size_t, int64_t);

}  // namespace kiln::vision
