#include "vision/image_tensor.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "vision/resize_bilinear.h"

namespace kiln::vision {

Result<ImageTensor> image_to_tensor(const ImageView& image, const ImageTensorOptions& o) {
  KILN_RETURN_IF_ERROR(check_image(image, "imageToTensor", 0b11010));
  const int64_t sw = image.width, sh = image.height, ch = image.channels;
  const int64_t width = o.width == 0 ? sw : o.width, height = o.height == 0 ? sh : o.height;
  if (width <= 0 || height <= 0 || width > kMaxImageSide || height > kMaxImageSide)
    return invalid_argument("imageToTensor: bad sizes (source " + std::to_string(sw) + "x" + std::to_string(sh) +
                            ", target " + std::to_string(width) + "x" + std::to_string(height) + ")");
  if (o.channels != 1 && o.channels != 3)
    return invalid_argument("imageToTensor: channels must be 1 or 3, got " + std::to_string(o.channels));
  const int oc = o.channels;
  for (int c = 0; c < oc; ++c)
    if (!std::isfinite(o.mean[c]) || !std::isfinite(o.std[c]) || o.std[c] == 0)
      return invalid_argument("imageToTensor: mean and std must be finite and std non-zero (channel " +
                              std::to_string(c) + ")");
  if (!std::isfinite(o.scale)) return invalid_argument("imageToTensor: scale must be finite");

  // Resized values are kept as float (the JS kept them in a Float32Array), then normalized in double.
  std::vector<float> resized;
  const bool resize = width != sw || height != sh;
  if (resize) {
    resized.resize(static_cast<size_t>(width * height * ch));
    resize_bilinear(image.data, sw, sh, ch, resized.data(), width, height, /*round_to_int=*/false);
  }
  const int64_t n = width * height;
  ImageTensor t;
  if (o.uint8)
    t.u8.resize(static_cast<size_t>(n * oc));
  else
    t.f32.resize(static_cast<size_t>(n * oc));
  const bool nchw = o.layout == Layout::kNCHW;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = i * ch;
    const double r = resize ? resized[p] : image.data[p];
    const double g = ch >= 3 ? (resize ? resized[p + 1] : image.data[p + 1]) : r;
    const double b = ch >= 3 ? (resize ? resized[p + 2] : image.data[p + 2]) : r;
    double values[3];
    if (oc == 1)
      values[0] = (r + g + b) / 3;
    else
      values[0] = o.bgr ? b : r, values[1] = g, values[2] = o.bgr ? r : b;
    for (int c = 0; c < oc; ++c) {
      const int64_t at = nchw ? c * n + i : i * oc + c;
      if (o.uint8)
        t.u8[at] = static_cast<uint8_t>(std::floor(std::clamp(values[c], 0.0, 255.0) + 0.5));
      else
        t.f32[at] = static_cast<float>((values[c] * o.scale - o.mean[c]) / o.std[c]);
    }
  }
  t.dims = nchw ? std::vector<int64_t>{1, oc, height, width} : std::vector<int64_t>{1, height, width, oc};
  return t;
}

}  // namespace kiln::vision
