// The metric functions of `kiln eval`, free of any model: error statistics and SNR,
// edit-distance accuracy of decoded strings, and text boxes from a DBNet probability map
// matched by IoU. Kept apart from the evaluation loop so each is tested on hand-made data.
// CTC decoding and the DB box extraction themselves are src/vision's (as kiln ocr's).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln {

// Running error statistics of `test` against `ref` over any number of add() calls.
struct ErrorStats {
  int64_t count = 0;
  double max_abs = 0, sum_abs = 0, sum_ref2 = 0, sum_err2 = 0;
  void add(const float* ref, const float* test, int64_t n);  // a NaN error counts as +inf
  double mean_abs() const { return count ? sum_abs / double(count) : 0; }
  // 10 log10(sum ref^2 / sum err^2): +inf when equal, -inf for an all-zero reference
  // that the test does not match.
  double snr_db() const;
};

// Splits UTF-8 text into code points; invalid bytes become U+FFFD, one each.
std::u32string utf8_to_u32(const std::string& s);

// Levenshtein distance (insertions, deletions, substitutions all cost 1).
int64_t edit_distance(const std::u32string& a, const std::u32string& b);

// Runs of spaces, tabs and newlines as one space, none at the ends.
std::u32string normalize_spaces(const std::u32string& s);

// Agreement of a predicted string with the truth, both with spaces normalized (a line
// reader's stray trailing or doubled space is not a misread word): exact match, and
// characters right, 1 - edit distance / truth length (floored at 0; an empty truth scores
// 1 only if the prediction is empty too).
struct StringScore {
  bool exact = false;
  double char_accuracy = 0;
};
StringScore score_string(const std::string& truth, const std::string& predicted);

// An axis-aligned box in pixel units, x1/y1 exclusive.
struct Box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float area() const { return x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0.f; }
};
double box_iou(const Box& a, const Box& b);

// Text boxes from a [H, W] DBNet probability map, for the box metrics: src/vision's
// detect_text_boxes (PaddleOCR's DBPostProcess with axis-aligned boxes, as kiln ocr) with
// threshold 0.3 and unclip ratio 1.5, no box-score threshold and no candidate limit, keeping
// every 8-connected component at least 3 pixels tall and wide. Boxes are in map pixels.
Result<std::vector<Box>> text_boxes(const float* prob, int64_t height, int64_t width);

// One-to-one matching of `test` boxes to `ref` boxes, highest IoU pairs first.
struct BoxMatch {
  int64_t ref_boxes = 0, test_boxes = 0;
  int64_t matched = 0;      // pairs with IoU >= iou_threshold
  double sum_iou = 0;       // over the ref boxes (an unmatched ref box adds 0)
  double mean_iou() const { return ref_boxes ? sum_iou / double(ref_boxes) : (test_boxes ? 0.0 : 1.0); }
};
BoxMatch match_boxes(const std::vector<Box>& ref, const std::vector<Box>& test, double iou_threshold = 0.5);

}  // namespace kiln
