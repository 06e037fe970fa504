#include "vision/ctc_decode.h"

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

}  // namespace

Result<CtcResult> ctc_greedy_decode(const float* probs, size_t size, const std::vector<int64_t>& dims,
                                    size_t num_keys) {
  std::vector<int64_t> d = dims;
  if (d.size() == 3) {
    if (d[0] != 1) return invalid_argument("ctcGreedyDecode takes batch 1, got dims " + dims_string(dims));
    d.erase(d.begin());
  }
  if (d.size() != 2) return invalid_argument("ctcGreedyDecode: expected dims [T, C] or [1, T, C], got " + dims_string(dims));
  const int64_t T = d[0], C = d[1];
  if (T < 0 || C < 1 || T > (int64_t{1} << 40) / C)
    return invalid_argument("ctcGreedyDecode: invalid dims " + dims_string(dims));
  if (static_cast<uint64_t>(T * C) != size)
    return invalid_argument("ctcGreedyDecode: " + std::to_string(size) + " values for dims " + dims_string(dims));
  if (num_keys != 0 && static_cast<int64_t>(num_keys) != C)
    return invalid_argument("ctcGreedyDecode: the model has " + std::to_string(C) + " classes but the key list has " +
                            std::to_string(num_keys));
  CtcResult r;
  double sum = 0;
  int64_t prev = -1;
  for (int64_t t = 0; t < T; ++t) {
    const float* row = probs + t * C;
    int64_t best = 0;
    float best_value = row[0];
    for (int64_t c = 1; c < C; ++c)
      if (row[c] > best_value) best_value = row[c], best = c;
    if (best != 0 && best != prev) {
      r.indices.push_back(static_cast<int32_t>(best));
      r.char_scores.push_back(best_value);
      sum += best_value;
    }
    prev = best;
  }
  r.score = r.indices.empty() ? 0 : sum / static_cast<double>(r.indices.size());
  return r;
}

Result<std::string> ctc_text(const CtcResult& result, const std::vector<std::string>& keys) {
  std::string text;
  for (int32_t i : result.indices) {
    if (i < 0 || static_cast<size_t>(i) >= keys.size())
      return invalid_argument("ctcGreedyDecode: class " + std::to_string(i) + " is outside the key list of " +
                              std::to_string(keys.size()));
    text += keys[i];
  }
  return text;
}

std::vector<std::string> parse_keys(std::string_view text, bool use_space_char) {
  std::vector<std::string> keys{""};
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (end < text.size() && !line.empty() && line.back() == '\r') line.remove_suffix(1);  // \r\n
    // The empty piece after a trailing newline is not a line (as the JS drops it).
    if (!(end == text.size() && line.empty() && start == text.size())) keys.emplace_back(line);
    start = end + 1;
  }
  if (use_space_char) keys.emplace_back(" ");
  return keys;
}

}  // namespace kiln::vision
