// PNG files -> 8-bit pixels for `kiln ocr` and calibration sets (libpng; every PNG kind is expanded to 8-bit gray,
// gray+alpha, RGB or RGBA).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln {

struct DecodedImage {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // rows of width * channels bytes
};

Result<DecodedImage> read_png(const std::string& path);

}  // namespace kiln
