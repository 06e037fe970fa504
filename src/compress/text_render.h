// Text drawn with a real font (FreeType), for the eval set of `kiln eval`: the OCR models
// see lines of words rendered the way they would appear in a document, made locally and
// reproducibly (same font file, same word list, same seed: same pixels).
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln {

// Debian's fonts-dejavu-core.
inline constexpr const char* kDefaultFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// A grayscale page: ink coverage per pixel, 0 = paper, 255 = full ink.
struct InkImage {
  int width = 0, height = 0;
  std::vector<uint8_t> ink;
  InkImage(int w, int h) : width(w), height(h), ink(size_t(w) * size_t(h)) {}
  uint8_t at(int x, int y) const { return ink[size_t(y) * size_t(width) + size_t(x)]; }
  void rotate_180() { std::reverse(ink.begin(), ink.end()); }
};

class TextRenderer {
 public:
  ~TextRenderer();
  static Result<std::unique_ptr<TextRenderer>> open(const std::string& font_path = kDefaultFontPath);

  // Extent of a line at `pixel_size`: advance width, and the font's ascender / descender
  // (descender > 0, below the baseline).
  struct Metrics {
    int width = 0, ascender = 0, descender = 0;
  };
  Result<Metrics> measure(const std::string& text, int pixel_size);
  // Draws `text` (UTF-8) with its baseline at (x, baseline); ink outside the image is
  // clipped; overlapping glyphs keep the darker value. Returns the drawn ink's bounding
  // box as {x0, y0, x1, y1} (exclusive; empty when nothing landed inside).
  Result<std::vector<int>> draw(InkImage& image, const std::string& text, int pixel_size, int x, int baseline);

 private:
  TextRenderer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
