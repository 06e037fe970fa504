// src/vision image helpers: image_to_tensor, the OCR preprocessing and crop_and_resize,
// on hand-computed values, awkward sizes and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vision/image_tensor.h"
#include "vision/ocr_preprocess.h"
#include "vision/resize_bilinear.h"

namespace kiln::vision {
namespace {

ImageView view(const std::vector<uint8_t>& px, int64_t w, int64_t h, int64_t c) {
  return ImageView{px.data(), px.size(), w, h, c};
}

TEST(VisionImageToTensor, LayoutsOrderNormalization) {
  const std::vector<uint8_t> rgba = {255, 0, 0, 7, 10, 20, 30, 255};
  auto t = image_to_tensor(view(rgba, 2, 1, 4));
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->dims, (std::vector<int64_t>{1, 3, 1, 2}));
  const std::vector<float> nchw = {1, 10 / 255.0f, 0, 20 / 255.0f, 0, 30 / 255.0f};
  for (size_t i = 0; i < nchw.size(); ++i) EXPECT_FLOAT_EQ(t->f32[i], nchw[i]);

  ImageTensorOptions o;
  o.layout = Layout::kNHWC, o.bgr = true, o.scale = 1, o.mean = {1, 2, 3}, o.std = {2, 2, 2};
  auto u = image_to_tensor(view(rgba, 2, 1, 4), o);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->dims, (std::vector<int64_t>{1, 1, 2, 3}));
  EXPECT_EQ(u->f32, (std::vector<float>{-0.5f, -1, 126, 14.5f, 9, 3.5f}));

  ImageTensorOptions gray;
  gray.channels = 1, gray.uint8 = true;
  auto g = image_to_tensor(view(rgba, 2, 1, 4), gray);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->u8, (std::vector<uint8_t>{85, 20}));
}

TEST(VisionImageToTensor, BilinearResizeCentredPixels) {
  // 2x1 gray 0 and 100 -> 4x2: centres at -0.25, 0.25, 0.75, 1.25 -> 0, 25, 75, 100.
  const std::vector<uint8_t> px = {0, 100};
  ImageTensorOptions o;
  o.width = 4, o.height = 2, o.channels = 1, o.scale = 1;
  auto t = image_to_tensor(view(px, 2, 1, 1), o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dims, (std::vector<int64_t>{1, 1, 2, 4}));
  EXPECT_EQ(t->f32, (std::vector<float>{0, 25, 75, 100, 0, 25, 75, 100}));
}

TEST(VisionImageToTensor, OnePixelAndLargeUpscaleStayInRange) {
  const std::vector<uint8_t> px = {9, 200, 31};
  ImageTensorOptions o;
  o.width = 1031, o.height = 7, o.scale = 1;
  auto t = image_to_tensor(view(px, 1, 1, 3), o);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->f32.size(), 3u * 1031 * 7);
  for (int64_t i = 0; i < 1031 * 7; ++i) {  // a one-pixel source is constant after any resize
    ASSERT_EQ(t->f32[i], 9);
    ASSERT_EQ(t->f32[1031 * 7 + i], 200);
    ASSERT_EQ(t->f32[2 * 1031 * 7 + i], 31);
  }
}

TEST(VisionImageToTensor, BadArgumentsAreErrors) {
  const std::vector<uint8_t> px(5);
  EXPECT_FALSE(image_to_tensor(view(px, 2, 2, 4)).ok());      // 5 bytes for 2x2x4
  EXPECT_FALSE(image_to_tensor(view(px, 0, 1, 1)).ok());      // empty
  EXPECT_FALSE(image_to_tensor(view(px, 5, 1, 1), {.width = -1}).ok());
  EXPECT_FALSE(image_to_tensor(ImageView{px.data(), 4, 2, 1, 2}).ok());  // 2 channels
  ImageTensorOptions o;
  o.channels = 2;
  EXPECT_FALSE(image_to_tensor(view(px, 5, 1, 1), o).ok());
  o.channels = 3, o.std = {1, 0, 1};
  auto r = image_to_tensor(view(px, 5, 1, 1), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("std"), std::string::npos);
  EXPECT_FALSE(image_to_tensor(ImageView{nullptr, 0, 1, 1, 1}).ok());
}

TEST(VisionResize, RoundsHalfUpWhenAsked) {
  const float src[2] = {0, 1};
  float dst[4];
  resize_bilinear(src, 2, 1, 1, dst, 4, 1, true);  // 0, 0.25, 0.75, 1 -> 0, 0, 1, 1
  EXPECT_EQ(std::vector<float>(dst, dst + 4), (std::vector<float>{0, 0, 1, 1}));
  const uint8_t s8[2] = {0, 3};
  resize_bilinear(s8, 2, 1, 1, dst, 4, 1, true);  // 0, 0.75, 2.25, 3
  EXPECT_EQ(std::vector<float>(dst, dst + 4), (std::vector<float>{0, 1, 2, 3}));
}

TEST(VisionOcrPreprocess, DetectorSizesAndNormalization) {
  // 100x40 white RGBA: ratio 1, sides round(40/32)*32 = 32 and round(100/32)*32 = 96.
  std::vector<uint8_t> px(100 * 40 * 4, 255);
  auto t = preprocess_detector(view(px, 100, 40, 4));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dims, (std::vector<int64_t>{1, 3, 32, 96}));
  EXPECT_DOUBLE_EQ(t->scale_x, 0.96);
  EXPECT_DOUBLE_EQ(t->scale_y, 0.8);
  EXPECT_FLOAT_EQ(t->data[0], static_cast<float>((1 - 0.485) / 0.229));
  EXPECT_FLOAT_EQ(t->data[2 * 32 * 96], static_cast<float>((1 - 0.406) / 0.225));
  // Scaled to the limit: 2000x10 with limit 960 -> 960 x max(round(4.8/32)*32, 32).
  std::vector<uint8_t> wide(2000 * 10, 0);
  auto w = preprocess_detector(view(wide, 2000, 10, 1));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->dims, (std::vector<int64_t>{1, 3, 32, 960}));
  // Half to even: 48 / 32 = 1.5 -> 2, 80 / 32 = 2.5 -> 2.
  std::vector<uint8_t> odd(80 * 48, 0);
  auto h = preprocess_detector(view(odd, 80, 48, 1));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->dims, (std::vector<int64_t>{1, 3, 64, 64}));
  EXPECT_FALSE(preprocess_detector(view(odd, 80, 48, 1), {.limit_side_len = 0}).ok());
}

TEST(VisionOcrPreprocess, AlphaCompositedOverBackground) {
  // A transparent black pixel over white background reads as white; over black as black.
  const std::vector<uint8_t> px = {0, 0, 0, 0};
  auto white = preprocess_recognizer(view(px, 1, 1, 4));
  ASSERT_TRUE(white.ok());
  EXPECT_EQ(white->data[0], 1.0f);
  RecognizerOptions o;
  o.background = 0;
  auto black = preprocess_recognizer(view(px, 1, 1, 4), o);
  ASSERT_TRUE(black.ok());
  EXPECT_EQ(black->data[0], -1.0f);
}

TEST(VisionOcrPreprocess, RecognizerWidthsAndPadding) {
  // 10x2 gray: resized width ceil(48 * 10 / 2) = 240, tensor 320 (min width), padded with 0.
  std::vector<uint8_t> px(20, 255);
  auto t = preprocess_recognizer(view(px, 10, 2, 1));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dims, (std::vector<int64_t>{1, 3, 48, 320}));
  EXPECT_EQ(t->resized_width, 240);
  EXPECT_EQ(t->data[239], 1.0f);
  EXPECT_EQ(t->data[240], 0.0f);
  // 1001x3: 16016 wide -> capped at 3200 (squeezed).
  std::vector<uint8_t> wide(1001 * 3, 0);
  auto w = preprocess_recognizer(view(wide, 1001, 3, 1));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->dims.back(), 3200);
  EXPECT_EQ(w->resized_width, 3200);
  // 321 wide at height 48 rounds up to 328 (multiple of 8).
  std::vector<uint8_t> mid(321 * 48, 0);
  auto m = preprocess_recognizer(view(mid, 321, 48, 1));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->dims.back(), 328);
  EXPECT_EQ(m->resized_width, 321);
}

TEST(VisionOcrPreprocess, CropAndResizeReadsTheBoxInPlace) {
  // 4x3 gray with a distinct 2x2 corner block at (2, 1): the crop equals that block alone.
  const std::vector<uint8_t> px = {0, 0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 40};
  auto crop = crop_and_resize(view(px, 4, 3, 1), Box{2, 1, 2, 2});
  const std::vector<uint8_t> block = {10, 20, 30, 40};
  auto direct = preprocess_recognizer(view(block, 2, 2, 1));
  ASSERT_TRUE(crop.ok() && direct.ok());
  EXPECT_EQ(crop->data, direct->data);
  // Boxes past the border are clamped; rounding is half up (1.5 -> 2).
  auto clamped = crop_and_resize(view(px, 4, 3, 1), Box{1.5, 0.5, 10, 10});
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(clamped->resized_width, 48);  // the 2x2 block at (2, 1) again
  EXPECT_EQ(clamped->data, direct->data);
}

TEST(VisionOcrPreprocess, BadBoxesAndOptionsAreErrors) {
  const std::vector<uint8_t> px(12, 0);
  auto r = crop_and_resize(view(px, 4, 3, 1), Box{5, 0, 2, 2});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("empty inside the 4x3 image"), std::string::npos);
  EXPECT_FALSE(crop_and_resize(view(px, 4, 3, 1), Box{0, 0, NAN, 2}).ok());
  EXPECT_FALSE(crop_and_resize(view(px, 4, 3, 1), Box{0, 0, 0, 2}).ok());
  EXPECT_FALSE(crop_and_resize(view(px, 4, 3, 1), Box{0, 0, 1e300, 1e300}, {.height = 0}).ok());
  EXPECT_TRUE(crop_and_resize(view(px, 4, 3, 1), Box{-1e300, -1e300, 1e301, 1e301}).ok());
  EXPECT_FALSE(preprocess_recognizer(view(px, 4, 3, 1), {.width_multiple = 0}).ok());
  EXPECT_FALSE(preprocess_recognizer(view(px, 4, 3, 1), {.background = 300}).ok());
  EXPECT_FALSE(preprocess_recognizer(view(px, 4, 4, 1)).ok());  // 12 bytes for 4x4
}

}  // namespace
}  // namespace kiln::vision
