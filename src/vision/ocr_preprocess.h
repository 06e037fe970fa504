// The PP-OCR models' input preprocessing (PaddleOCR's DetResizeForTest + NormalizeImage for
// the detector, resize_norm_img for the recognizer) and the crop of one text box.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "vision/image_view.h"

namespace kiln::vision {

struct OcrTensor {
  std::vector<float> data;
  std::vector<int64_t> dims;   // [1, 3, H, W]
  int64_t resized_width = 0;   // recognizer: columns holding the image (the rest is zero padding)
  double scale_x = 1, scale_y = 1;  // detector: tensor size / image size
};

struct DetectorOptions {
  int64_t limit_side_len = 960;  // the longer side is scaled down to at most this
  std::array<double, 3> mean = {0.485, 0.456, 0.406};
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  bool bgr = true;          // PaddleOCR reads images with OpenCV: its models expect BGR
  double background = 255;  // alpha is composited over this gray
};

// Scales down so the longer side is <= limit_side_len, rounds each side to a multiple of
// 32 (half to even, at least 32), resizes bilinearly (rounded to integers, as cv2.resize
// on 8-bit images), normalizes with mean/std per channel; NCHW.
Result<OcrTensor> preprocess_detector(const ImageView& image, const DetectorOptions& options = {});

struct RecognizerOptions {
  int64_t height = 48;
  int64_t min_width = 320;
  int64_t max_width = 3200;
  int64_t width_multiple = 8;
  bool bgr = true;
  double background = 255;
};

// Resizes to options.height keeping the aspect ratio (width ceil(height * w / h)),
// normalizes (x / 255 - 0.5) / 0.5 and zero-pads on the right: tensor width is
// max(min_width, resized width) rounded up to width_multiple, capped at max_width
// (wider lines are squeezed to it).
Result<OcrTensor> preprocess_recognizer(const ImageView& image, const RecognizerOptions& options = {});

// A text box in image pixels (as detect_text_boxes returns them).
struct Box {
  double x = 0, y = 0, width = 0, height = 0;
};

// preprocess_recognizer on the box (rounded half up, clamped to the image), read in place.
Result<OcrTensor> crop_and_resize(const ImageView& image, const Box& box, const RecognizerOptions& options = {});

}  // namespace kiln::vision
