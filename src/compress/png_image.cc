#include "compress/png_image.h"

#include <png.h>

#include <cstdio>
#include <memory>

namespace kiln {

Result<DecodedImage> read_png(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return io_error("cannot open '" + path + "'");
  // libpng's simplified API: no setjmp, errors come back as a message.
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_stdio(&img, f.get()))
    return invalid_argument("'" + path + "' is not a readable PNG: " + img.message);
  const bool alpha = img.format & PNG_FORMAT_FLAG_ALPHA;
  const bool color = img.format & PNG_FORMAT_FLAG_COLOR;
  img.format = color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  DecodedImage out;
  out.width = img.width, out.height = img.height, out.channels = PNG_IMAGE_PIXEL_CHANNELS(img.format);
  if (out.width <= 0 || out.height <= 0 || out.width > (1 << 16) || out.height > (1 << 16)) {
    png_image_free(&img);
    return invalid_argument("'" + path + "': unsupported image size " + std::to_string(out.width) + "x" +
                            std::to_string(out.height));
  }
  out.pixels.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, out.pixels.data(), 0, nullptr))
    return invalid_argument("'" + path + "': " + img.message);
  return out;
}

}  // namespace kiln
