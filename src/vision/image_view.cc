#include "vision/image_view.h"

#include <string>

namespace kiln::vision {

Status check_image(const ImageView& image, std::string_view who, unsigned allowed) {
  const std::string w(who);
  if (image.width <= 0 || image.height <= 0 || image.width > kMaxImageSide || image.height > kMaxImageSide)
    return invalid_argument(w + ": empty or invalid image size " + std::to_string(image.width) + "x" +
                            std::to_string(image.height) + " (each side must be 1.." +
                            std::to_string(kMaxImageSide) + ")");
  if (image.channels < 1 || image.channels > 4 || !(allowed & (1u << image.channels))) {
    std::string counts;  // "1, 3 or 4"
    for (int c = 1; c <= 4; ++c)
      if (allowed & (1u << c)) counts += (counts.empty() ? "" : (allowed >> (c + 1)) ? ", " : " or ") + std::to_string(c);
    // channels 0: the caller could not infer a whole number of channels from the byte count.
    return invalid_argument(w + ": " + std::to_string(image.size) + " bytes do not fit " + std::to_string(image.width) +
                            "x" + std::to_string(image.height) + " with " + counts + " channels" +
                            (image.channels != 0 ? " (channels " + std::to_string(image.channels) + ")" : ""));
  }
  const uint64_t need = static_cast<uint64_t>(image.width) * image.height * image.channels;
  if (image.size != need || (need > 0 && image.data == nullptr))
    return invalid_argument(w + ": " + std::to_string(image.size) + " bytes do not fit " +
                            std::to_string(image.width) + "x" + std::to_string(image.height) + " with " +
                            std::to_string(image.channels) + " channels (expected " + std::to_string(need) + ")");
  return Status::Ok();
}

std::vector<float> to_rgb(const ImageView& image, int64_t x0, int64_t y0, int64_t w, int64_t h, double background) {
  const int64_t ch = image.channels;
  std::vector<float> rgb(static_cast<size_t>(w * h * 3));
  float* out = rgb.data();
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* p = image.data + ((y0 + y) * image.width + x0) * ch;
    for (int64_t x = 0; x < w; ++x, p += ch, out += 3) {
      double r, g, b, a = 255;
      if (ch <= 2) {
        r = g = b = p[0];
        if (ch == 2) a = p[1];
      } else {
        r = p[0], g = p[1], b = p[2];
        if (ch == 4) a = p[3];
      }
      if (a != 255) {  // the same double arithmetic as the JS had, so results match bit for bit
        const double t = a / 255;
        r = r * t + background * (1 - t);
        g = g * t + background * (1 - t);
        b = b * t + background * (1 - t);
      }
      out[0] = static_cast<float>(r), out[1] = static_cast<float>(g), out[2] = static_cast<float>(b);
    }
  }
  return rgb;
}

}  // namespace kiln::vision
