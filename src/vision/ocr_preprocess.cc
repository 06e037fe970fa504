#include "vision/ocr_preprocess.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "vision/resize_bilinear.h"

namespace kiln::vision {
namespace {

// Planar NCHW from interleaved RGB, channel c of the tensor = (v / 255 - mean[c]) / std[c]
// (double arithmetic, as the JS did), into columns [0, w) of rows `stride` wide.
void normalize_planes(const float* rgb, int64_t w, int64_t h, int64_t stride, bool bgr,
                      const std::array<double, 3>& mean, const std::array<double, 3>& stdev, float* out) {
  for (int c = 0; c < 3; ++c) {
    const int src_c = bgr ? 2 - c : c;
    float* plane = out + c * h * stride;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        plane[y * stride + x] = static_cast<float>((rgb[(y * w + x) * 3 + src_c] / 255.0 - mean[c]) / stdev[c]);
  }
}

Status check_background(double background, const char* who) {
  if (!(background >= 0 && background <= 255))
    return invalid_argument(std::string(who) + ": background must be 0..255, got " + std::to_string(background));
  return Status::Ok();
}

Status check_recognizer_options(const RecognizerOptions& o, const char* who) {
  if (o.height < 1 || o.height > 4096)
    return invalid_argument(std::string(who) + ": invalid height " + std::to_string(o.height) + " (1..4096)");
  if (o.min_width < 0 || o.max_width < 1 || o.max_width > kMaxImageSide || o.width_multiple < 1 ||
      o.width_multiple > o.max_width)
    return invalid_argument(std::string(who) + ": invalid widths (minWidth " + std::to_string(o.min_width) +
                            ", maxWidth " + std::to_string(o.max_width) + ", widthMultiple " +
                            std::to_string(o.width_multiple) + ")");
  return check_background(o.background, who);
}

// The recognizer tensor for the w x h rectangle at (x0, y0) of an already checked image.
OcrTensor recognizer_tensor(const ImageView& image, int64_t x0, int64_t y0, int64_t w, int64_t h,
                            const RecognizerOptions& o) {
  const int64_t H = o.height;
  // ceil(H * w / h) in integers, exact where H * (w / h) in floating point is not.
  int64_t resized_width = std::max<int64_t>(1, (H * w + h - 1) / h);
  int64_t tensor_width = std::max(o.min_width, resized_width);
  tensor_width = (tensor_width + o.width_multiple - 1) / o.width_multiple * o.width_multiple;
  tensor_width = std::min(tensor_width, o.max_width);
  resized_width = std::min(resized_width, tensor_width);

  const std::vector<float> rgb = to_rgb(image, x0, y0, w, h, o.background);
  std::vector<float> resized(static_cast<size_t>(resized_width * H * 3));
  resize_bilinear(rgb.data(), w, h, 3, resized.data(), resized_width, H, /*round_to_int=*/true);
  OcrTensor t;
  t.data.assign(static_cast<size_t>(3 * H * tensor_width), 0.0f);  // zeros = padding
  normalize_planes(resized.data(), resized_width, H, tensor_width, o.bgr, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5},
                   t.data.data());
  t.dims = {1, 3, H, tensor_width};
  t.resized_width = resized_width;
  return t;
}

}  // namespace

Result<OcrTensor> preprocess_detector(const ImageView& image, const DetectorOptions& o) {
  KILN_RETURN_IF_ERROR(check_image(image, "preprocessDetector"));
  if (o.limit_side_len < 32 || o.limit_side_len > kMaxImageSide)
    return invalid_argument("preprocessDetector: limitSideLen must be 32.." + std::to_string(kMaxImageSide) +
                            ", got " + std::to_string(o.limit_side_len));
  for (int c = 0; c < 3; ++c)
    if (!std::isfinite(o.mean[c]) || !std::isfinite(o.std[c]) || o.std[c] == 0)
      return invalid_argument("preprocessDetector: mean and std must be finite and std non-zero");
  KILN_RETURN_IF_ERROR(check_background(o.background, "preprocessDetector"));
  const int64_t w = image.width, h = image.height;
  const double longer = static_cast<double>(std::max(w, h));
  const double ratio = longer > static_cast<double>(o.limit_side_len) ? o.limit_side_len / longer : 1.0;
  // Python's round() (half to even, which nearbyint does in the default rounding mode).
  auto side = [&](int64_t v) {
    return std::max<int64_t>(static_cast<int64_t>(std::nearbyint(static_cast<double>(v) * ratio / 32)) * 32, 32);
  };
  const int64_t rh = side(h), rw = side(w);
  const std::vector<float> rgb = to_rgb(image, 0, 0, w, h, o.background);
  std::vector<float> resized(static_cast<size_t>(rw * rh * 3));
  resize_bilinear(rgb.data(), w, h, 3, resized.data(), rw, rh, /*round_to_int=*/true);
  OcrTensor t;
  t.data.resize(static_cast<size_t>(3 * rh * rw));
  normalize_planes(resized.data(), rw, rh, rw, o.bgr, o.mean, o.std, t.data.data());
  t.dims = {1, 3, rh, rw};
  t.scale_x = static_cast<double>(rw) / static_cast<double>(w);
  t.scale_y = static_cast<double>(rh) / static_cast<double>(h);
  return t;
}

Result<OcrTensor> preprocess_recognizer(const ImageView& image, const RecognizerOptions& o) {
  KILN_RETURN_IF_ERROR(check_image(image, "preprocessRecognizer"));
  KILN_RETURN_IF_ERROR(check_recognizer_options(o, "preprocessRecognizer"));
  return recognizer_tensor(image, 0, 0, image.width, image.height, o);
}

Result<OcrTensor> crop_and_resize(const ImageView& image, const Box& box, const RecognizerOptions& o) {
  KILN_RETURN_IF_ERROR(check_image(image, "cropAndResize"));
  KILN_RETURN_IF_ERROR(check_recognizer_options(o, "cropAndResize"));
  if (!std::isfinite(box.x) || !std::isfinite(box.y) || !std::isfinite(box.width) || !std::isfinite(box.height))
    return invalid_argument("cropAndResize: box must be {x, y, width, height} with finite numbers");
  // Rounded half up (JS Math.round) and clamped; computed in double so huge boxes cannot overflow.
  auto rnd = [](double v) { return std::floor(v + 0.5); };
  const double x0 = std::max(0.0, rnd(box.x)), y0 = std::max(0.0, rnd(box.y));
  const double x1 = std::min(static_cast<double>(image.width), rnd(box.x + box.width));
  const double y1 = std::min(static_cast<double>(image.height), rnd(box.y + box.height));
  if (x1 <= x0 || y1 <= y0)
    return invalid_argument("cropAndResize: box {x: " + std::to_string(box.x) + ", y: " + std::to_string(box.y) +
                            ", width: " + std::to_string(box.width) + ", height: " + std::to_string(box.height) +
                            "} is empty inside the " + std::to_string(image.width) + "x" +
                            std::to_string(image.height) + " image");
  const auto ix0 = static_cast<int64_t>(x0), iy0 = static_cast<int64_t>(y0);
  return recognizer_tensor(image, ix0, iy0, static_cast<int64_t>(x1) - ix0, static_cast<int64_t>(y1) - iy0, o);
}

}  // namespace kiln::vision
