// DBNet text-detector postprocessing (PaddleOCR's DBPostProcess with axis-aligned boxes):
// probability map -> binary map -> 8-connected components -> scored, unclipped boxes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace kiln::vision {

struct DbOptions {
  double threshold = 0.3;      // a pixel is text when its probability is > threshold
  double box_threshold = 0.6;  // boxes whose mean probability is below are dropped
  double unclip_ratio = 1.5;   // boxes grow by area * ratio / perimeter on every side
  double min_size = 3;         // boxes whose shorter side is below are dropped
  int64_t max_candidates = 1000;  // components considered, in raster order of their first pixel
  double image_width = 0;      // box coordinates are scaled to this; 0 = the map width
  double image_height = 0;     // 0 = the map height
};

// Largest map side accepted (a detector map is the size of its input tensor).
constexpr int64_t kMaxMapSide = 1 << 16;

struct TextBox {
  int64_t x = 0, y = 0, width = 0, height = 0;  // in image pixels, inside the image
  double score = 0;                             // mean probability over the component's box
};

// [H, W] of a map given as [1, 1, H, W], [1, H, W] or [H, W] holding `size` values.
Result<std::vector<int64_t>> db_map_size(const std::vector<int64_t>& dims, size_t size);

// Boxes sorted top to bottom, then left to right for boxes less than 10 px apart
// vertically (PaddleOCR's sorted_boxes). Each component's box runs through its outermost
// pixel centres (as OpenCV's contours: a one-pixel-wide blob has width 0), is scored by
// the mean probability inside it, grown by d = w * h * unclip_ratio / (2 (w + h)) on every
// side, scaled to the image, rounded half up and clamped.
Result<std::vector<TextBox>> detect_text_boxes(const float* prob, size_t size, const std::vector<int64_t>& dims,
                                               const DbOptions& options = {});

}  // namespace kiln::vision
