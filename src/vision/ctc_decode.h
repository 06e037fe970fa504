// CTC greedy decoding of a text recognizer's output, and PaddleOCR key files.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace kiln::vision {

struct CtcResult {
  std::vector<int32_t> indices;   // class of each kept step (never 0, the blank)
  std::vector<float> char_scores; // its probability
  double score = 0;               // mean of char_scores (0 when nothing is kept), as PaddleOCR
};

// probs holds [T, C] (or [1, T, C]) scores. Per step the argmax (first one on ties); repeats
// of the previous step's class collapse and blanks (class 0) are dropped. num_keys, when
// non-zero, must equal C (the key list and the model must agree).
Result<CtcResult> ctc_greedy_decode(const float* probs, size_t size, const std::vector<int64_t>& dims,
                                    size_t num_keys = 0);

// The kept classes mapped through keys (from parse_keys), concatenated.
Result<std::string> ctc_text(const CtcResult& result, const std::vector<std::string>& keys);

// PaddleOCR's class list from a key file (one character a line; \n or \r\n): index 0 is the
// CTC blank (""), then the lines, then " " when use_space_char.
std::vector<std::string> parse_keys(std::string_view text, bool use_space_char = true);

}  // namespace kiln::vision
