// An 8-bit interleaved image as the vision helpers read it (RGBA from a canvas, RGB,
// gray+alpha or gray), and its conversion to opaque RGB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace kiln::vision {

struct ImageView {
  const uint8_t* data = nullptr;
  size_t size = 0;  // bytes at data; must be width * height * channels
  int64_t width = 0;
  int64_t height = 0;
  int64_t channels = 0;  // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
};

// Largest side accepted (a 65536 x 65536 RGBA image is 16 GiB: beyond any real use, and
// it keeps every index product inside int64).
constexpr int64_t kMaxImageSide = 1 << 16;

// Checks sizes, channel count (one of `allowed`, a bit per count: 1 << c) and byte count;
// `who` names the caller in the message ("cropAndResize: 10 bytes do not fit 4x4 ...").
Status check_image(const ImageView& image, std::string_view who, unsigned allowed = 0b11110);

// Interleaved RGB floats of the rectangle [x0, x0 + w) x [y0, y0 + h) of `image`, alpha
// composited over a gray `background` (0..255); gray is replicated to R, G and B. The values
// are float as in the JS version, which kept them in a Float32Array.
std::vector<float> to_rgb(const ImageView& image, int64_t x0, int64_t y0, int64_t w, int64_t h, double background);

}  // namespace kiln::vision
