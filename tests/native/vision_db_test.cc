// src/vision DB box extraction: hand-computed boxes, empty maps, one-pixel components,
// borders, candidate limits, ordering and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vision/db_postprocess.h"

namespace kiln::vision {
namespace {

struct Rect {
  int r0, r1, c0, c1;
  float p;
};

std::vector<float> make_map(int H, int W, const std::vector<Rect>& rects) {
  std::vector<float> m(static_cast<size_t>(H * W));
  for (const Rect& r : rects)
    for (int y = r.r0; y <= r.r1; ++y)
      for (int x = r.c0; x <= r.c1; ++x) m[y * W + x] = r.p;
  return m;
}

Result<std::vector<TextBox>> detect(const std::vector<float>& m, std::vector<int64_t> dims, const DbOptions& o = {}) {
  return detect_text_boxes(m.data(), m.size(), dims, o);
}

void expect_box(const TextBox& b, int64_t x, int64_t y, int64_t w, int64_t h) {
  EXPECT_EQ(b.x, x);
  EXPECT_EQ(b.y, y);
  EXPECT_EQ(b.width, w);
  EXPECT_EQ(b.height, h);
}

TEST(VisionDbBoxes, TwoBlobsUnclippedScoredAndOrdered) {
  // A: rows 3..7, cols 4..13 -> w 9, h 4; d = 36 * 1.5 / 26 = 2.077 -> x 1.92..15.08 -> 2..15,
  // y 0.92..9.08 -> 1..9. B: rows 12..16, cols 18..25 -> w 7, h 4, d = 1.909 -> 16..27, 10..18.
  const auto map = make_map(20, 30, {{12, 16, 18, 25, 0.8f}, {3, 7, 4, 13, 0.9f}});
  auto boxes = detect(map, {1, 1, 20, 30});
  ASSERT_TRUE(boxes.ok()) << boxes.status().to_string();
  ASSERT_EQ(boxes->size(), 2u);
  expect_box((*boxes)[0], 2, 1, 13, 8);
  expect_box((*boxes)[1], 16, 10, 11, 8);
  EXPECT_NEAR((*boxes)[0].score, 0.9, 1e-6);
  EXPECT_NEAR((*boxes)[1].score, 0.8, 1e-6);
  // The same map as [H, W] and [1, H, W]; scaled to a 60x40 image.
  EXPECT_EQ(detect(map, {20, 30})->size(), 2u);
  EXPECT_EQ(detect(map, {1, 20, 30})->size(), 2u);
  DbOptions o;
  o.image_width = 60, o.image_height = 40;
  auto scaled = detect(map, {1, 1, 20, 30}, o);
  ASSERT_TRUE(scaled.ok());
  expect_box((*scaled)[0], 4, 2, 26, 16);
}

TEST(VisionDbBoxes, BorderBlobsAreClamped) {
  // rows 0..5, cols 24..29 of 20x30: d = 1.875: x 22.125..30.875 -> 22..30, y -1.875 -> 0..7.
  auto boxes = detect(make_map(20, 30, {{0, 5, 24, 29, 1}}), {1, 1, 20, 30});
  ASSERT_TRUE(boxes.ok());
  ASSERT_EQ(boxes->size(), 1u);
  expect_box((*boxes)[0], 22, 0, 8, 7);
  EXPECT_EQ((*boxes)[0].score, 1);
  // The whole map is one blob: clamped on all four sides.
  auto all = detect(make_map(9, 11, {{0, 8, 0, 10, 1}}), {9, 11});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  expect_box((*all)[0], 0, 0, 11, 9);
}

TEST(VisionDbBoxes, EmptyAndTinyMaps) {
  EXPECT_TRUE(detect(make_map(20, 30, {}), {20, 30})->empty());
  EXPECT_TRUE(detect(std::vector<float>{1}, {1, 1})->empty());  // one pixel: no area
  // One-pixel components (width 0) never make boxes, even with min_size 0.
  DbOptions o;
  o.min_size = 0, o.box_threshold = 0;
  EXPECT_TRUE(detect(make_map(5, 5, {{2, 2, 2, 2, 1}}), {5, 5}, o)->empty());
  // A 1xN map: rows of height 0 are dropped.
  EXPECT_TRUE(detect(std::vector<float>(17, 1.0f), {1, 17})->empty());
}

TEST(VisionDbBoxes, ThresholdsAndDiagonalConnectivity) {
  EXPECT_TRUE(detect(make_map(20, 30, {{3, 7, 4, 13, 0.5f}}), {20, 30})->empty());  // under boxThreshold
  // Exactly the threshold is not text (> threshold).
  DbOptions o;
  o.threshold = 0.5;
  EXPECT_TRUE(detect(make_map(20, 30, {{3, 7, 4, 13, 0.5f}}), {20, 30}, o)->empty());
  // Two squares touching only at a corner are one 8-connected component.
  auto one = detect(make_map(20, 20, {{2, 6, 2, 6, 1}, {7, 11, 7, 11, 1}}), {20, 20}, {.box_threshold = 0});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  // The score is the mean over the box, holes included: an L of 1s in a 5x5 box.
  auto ell = detect(make_map(10, 10, {{0, 4, 0, 0, 1}, {4, 4, 0, 4, 1}}), {10, 10}, {.box_threshold = 0});
  ASSERT_TRUE(ell.ok());
  ASSERT_EQ(ell->size(), 1u);
  EXPECT_NEAR((*ell)[0].score, 9.0 / 25, 1e-12);
}

TEST(VisionDbBoxes, SameLineBoxesReadLeftToRight) {
  // Right blob starts 2 rows higher than the left one: sorted by y it would come first.
  auto boxes = detect(make_map(30, 60, {{10, 16, 40, 55, 1}, {12, 18, 2, 30, 1}}), {30, 60});
  ASSERT_TRUE(boxes.ok());
  ASSERT_EQ(boxes->size(), 2u);
  EXPECT_LT((*boxes)[0].x, (*boxes)[1].x);
}

TEST(VisionDbBoxes, MaxCandidatesLimitsComponents) {
  const auto map = make_map(20, 40, {{2, 8, 2, 12, 1}, {2, 8, 20, 32, 1}, {12, 18, 2, 30, 1}});
  EXPECT_EQ(detect(map, {20, 40})->size(), 3u);
  EXPECT_EQ(detect(map, {20, 40}, {.max_candidates = 2})->size(), 2u);
  EXPECT_TRUE(detect(map, {20, 40}, {.max_candidates = 0})->empty());
}

TEST(VisionDbBoxes, BadArgumentsAreErrors) {
  const std::vector<float> m(6);
  EXPECT_FALSE(detect(m, {2, 2}).ok());        // 6 values for 4
  EXPECT_FALSE(detect(m, {6}).ok());           // rank 1
  EXPECT_FALSE(detect(m, {2, 1, 2, 3}).ok());  // batch 2
  EXPECT_FALSE(detect(m, {1, 1, 1, 2, 3}).ok());
  EXPECT_FALSE(detect(m, {0, 6}).ok());
  EXPECT_FALSE(detect(m, {-2, -3}).ok());
  EXPECT_FALSE(detect(m, {2, 3}, {.threshold = NAN}).ok());
  EXPECT_FALSE(detect(m, {2, 3}, {.unclip_ratio = -1}).ok());
  EXPECT_FALSE(detect(m, {2, 3}, {.max_candidates = -1}).ok());
  auto r = detect(m, {2, 2});
  EXPECT_NE(r.status().message().find("6 values for dims [2,2]"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace kiln::vision
