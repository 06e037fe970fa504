// imageToTensor: 8-bit pixels -> (bilinear resize) -> per-channel (x * scale - mean) / std
// -> NCHW or NHWC, with a batch dimension of 1. The classifier/detector input of a model.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "vision/image_view.h"

namespace kiln::vision {

enum class Layout { kNCHW, kNHWC };

struct ImageTensorOptions {
  int64_t width = 0;   // resize target; 0 = the source width
  int64_t height = 0;  // resize target; 0 = the source height
  Layout layout = Layout::kNCHW;
  int channels = 3;     // 3: RGB (or BGR); 1: gray = (R + G + B) / 3
  bool bgr = false;     // channel order of a 3-channel output
  bool uint8 = false;   // raw 0..255 values (rounded, no normalization) instead of float
  double scale = 1.0 / 255;
  std::array<double, 3> mean = {0, 0, 0};  // per output channel (only [0] used for gray)
  std::array<double, 3> std = {1, 1, 1};
};

struct ImageTensor {
  std::vector<float> f32;    // when !options.uint8
  std::vector<uint8_t> u8;   // when options.uint8
  std::vector<int64_t> dims; // [1, C, H, W] or [1, H, W, C]
};

// Accepts 1 (gray), 3 (RGB) or 4 (RGBA, alpha ignored) channel images.
Result<ImageTensor> image_to_tensor(const ImageView& image, const ImageTensorOptions& options = {});

}  // namespace kiln::vision
