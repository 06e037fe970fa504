// The metric functions of kiln eval on hand-made inputs with known answers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "compress/eval_data.h"
#include "compress/eval_metrics.h"
#include "compress/text_render.h"

namespace kiln {
namespace {

TEST(EvalMetrics, ErrorStatsAndSnr) {
  const std::vector<float> ref = {1, -2, 3, 4}, test = {1, -2, 3, 5};
  ErrorStats s;
  s.add(ref.data(), test.data(), 4);
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.max_abs, 1.0);
  EXPECT_DOUBLE_EQ(s.mean_abs(), 0.25);
  // signal 1+4+9+16 = 30, noise 1: 10 log10(30)
  EXPECT_NEAR(s.snr_db(), 14.7712, 1e-4);

  ErrorStats same;
  same.add(ref.data(), ref.data(), 4);
  EXPECT_TRUE(std::isinf(same.snr_db()) && same.snr_db() > 0);

  // Accumulates across calls: a second equal chunk doubles signal and noise alike.
  s.add(ref.data(), test.data(), 4);
  EXPECT_NEAR(s.snr_db(), 14.7712, 1e-4);
  EXPECT_EQ(s.count, 8);

  const std::vector<float> zeros = {0, 0}, ones = {1, 1};
  ErrorStats z;
  z.add(zeros.data(), ones.data(), 2);
  EXPECT_TRUE(std::isinf(z.snr_db()) && z.snr_db() < 0);

  const std::vector<float> nan = {NAN, 0};
  ErrorStats n;
  n.add(ones.data(), nan.data(), 2);
  EXPECT_TRUE(std::isinf(n.max_abs));
}

TEST(EvalMetrics, EditDistanceAndStringScore) {
  EXPECT_EQ(edit_distance(U"kitten", U"sitting"), 3);
  EXPECT_EQ(edit_distance(U"", U"abc"), 3);
  EXPECT_EQ(edit_distance(U"abc", U"abc"), 0);
  // UTF-8: one code point each, not bytes.
  EXPECT_EQ(utf8_to_u32("a\xc3\xa9\xe4\xb8\xad").size(), 3u);
  EXPECT_EQ(edit_distance(utf8_to_u32("\xe4\xb8\xad"), utf8_to_u32("\xe6\x96\x87")), 1);
  EXPECT_EQ(utf8_to_u32("a\xff").back(), U'\uFFFD');

  StringScore s = score_string("hello world", "hello world");
  EXPECT_TRUE(s.exact);
  EXPECT_DOUBLE_EQ(s.char_accuracy, 1.0);
  s = score_string("hello world", "helloworld");
  EXPECT_FALSE(s.exact);
  EXPECT_NEAR(s.char_accuracy, 1.0 - 1.0 / 11, 1e-12);
  EXPECT_DOUBLE_EQ(score_string("ab", "xyzw").char_accuracy, 0.0);  // floored
  // Spaces: a stray trailing or doubled one is not an error; a missing one is.
  EXPECT_TRUE(score_string("thyme gibbons", " thyme  gibbons ").exact);
  EXPECT_EQ(normalize_spaces(U"\ta  b\n"), U"a b");
  EXPECT_FALSE(score_string("thyme gibbons", "thymegibbons").exact);
  EXPECT_DOUBLE_EQ(score_string("", "").char_accuracy, 1.0);
  EXPECT_DOUBLE_EQ(score_string("", "x").char_accuracy, 0.0);
}

TEST(EvalMetrics, BoxIou) {
  const Box a{0, 0, 10, 10}, b{5, 0, 15, 10}, c{20, 20, 30, 30};
  EXPECT_DOUBLE_EQ(box_iou(a, a), 1.0);
  EXPECT_NEAR(box_iou(a, b), 50.0 / 150.0, 1e-12);
  EXPECT_DOUBLE_EQ(box_iou(a, c), 0.0);
  EXPECT_DOUBLE_EQ(box_iou(Box{3, 3, 3, 8}, a), 0.0);  // empty box
}

TEST(EvalMetrics, MatchBoxesOneToOne) {
  const std::vector<Box> ref = {{0, 0, 10, 10}, {20, 0, 30, 10}, {50, 50, 60, 60}};
  // The first test box overlaps both of the first two refs; the better pair wins and the
  // other ref takes the remaining box; the third ref is missed.
  const std::vector<Box> test = {{1, 0, 11, 10}, {22, 0, 30, 10}};
  const BoxMatch m = match_boxes(ref, test);
  EXPECT_EQ(m.ref_boxes, 3);
  EXPECT_EQ(m.test_boxes, 2);
  EXPECT_EQ(m.matched, 2);
  EXPECT_NEAR(m.mean_iou(), (90.0 / 110.0 + 0.8) / 3, 1e-9);

  const BoxMatch empty = match_boxes({}, {});
  EXPECT_DOUBLE_EQ(empty.mean_iou(), 1.0);
  EXPECT_DOUBLE_EQ(match_boxes({}, test).mean_iou(), 0.0);
  EXPECT_EQ(match_boxes(ref, {}).matched, 0);
  // A low-overlap pair is paired (adds its IoU) but not matched at 0.5.
  const BoxMatch low = match_boxes({{0, 0, 10, 10}}, {{8, 0, 18, 10}});
  EXPECT_EQ(low.matched, 0);
  EXPECT_NEAR(low.mean_iou(), 20.0 / 180.0, 1e-9);
}

TEST(EvalMetrics, TextBoxesUseVisionWithEvalOptions) {
  const int H = 20, W = 40;
  std::vector<float> p(H * W, 0.1f);
  auto fill = [&](int x0, int y0, int x1, int y1, float v) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) p[size_t(y * W + x)] = v;
  };
  fill(4, 2, 24, 8, 0.9f);     // 20x6 pixels
  fill(10, 12, 30, 16, 0.5f);  // 20x4, scored 0.5: kept (no box-score threshold in eval)
  fill(34, 10, 37, 13, 0.9f);  // 3x3: the smallest kept
  fill(35, 15, 37, 17, 0.9f);  // 2x2: dropped
  fill(0, 18, 10, 20, 0.9f);   // 10x2: dropped
  fill(38, 2, 39, 3, 0.29f);   // under the threshold 0.3
  auto b = text_boxes(p.data(), H, W);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->size(), 3u);
  // Sides through the outermost pixel centres (19x5), grown by d = 19*5*1.5/(2*24) on
  // every side, rounded half up and clamped: [4-d, 23+d] x [2-d, 7+d].
  auto expect_box = [](const Box& box, float x0, float y0, float x1, float y1) {
    EXPECT_EQ(box.x0, x0);
    EXPECT_EQ(box.y0, y0);
    EXPECT_EQ(box.x1, x1);
    EXPECT_EQ(box.y1, y1);
  };
  expect_box((*b)[0], 1, 0, 26, 10);
  // PaddleOCR's reading order: boxes less than 10 px apart vertically go left to right.
  expect_box((*b)[1], 8, 10, 31, 17);
  expect_box((*b)[2], 33, 9, 37, 13);  // 3x3 pixels: 2x2 between centres, d = 0.75
  // Diagonal neighbours join one component (8-connectivity).
  std::vector<float> diag(16, 0.f);
  for (int i = 0; i < 4; ++i) diag[size_t(i * 4 + i)] = 1.f;
  auto one = text_boxes(diag.data(), 4, 4);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  // An empty map is an error, not a crash.
  EXPECT_FALSE(text_boxes(nullptr, 0, 5).ok());
}

TEST(EvalData, TaskFromInterface) {
  auto desc = [](std::vector<int64_t> dims, DType t = DType::kF32) {
    TensorDesc d;
    d.name = "t";
    d.dtype = t;
    for (int64_t v : dims) d.shape.push_back(Dim{v, v < 0 ? "n" : ""});
    return d;
  };
  const TensorDesc img = desc({-1, 3, 48, -1});
  EXPECT_EQ(detect_eval_task({img}, {desc({-1, 2})}), EvalTask::kClassifier);
  EXPECT_EQ(detect_eval_task({img}, {desc({-1, -1, 6625})}), EvalTask::kRecognizer);
  EXPECT_EQ(detect_eval_task({img}, {desc({-1, 1, -1, -1})}), EvalTask::kDetector);
  EXPECT_EQ(detect_eval_task({desc({1, 512})}, {desc({1, 1})}), EvalTask::kGeneric);
  EXPECT_EQ(detect_eval_task({img, img}, {desc({-1, 2})}), EvalTask::kGeneric);
  EXPECT_FALSE(parse_eval_task("segmenter").ok());
  EXPECT_EQ(parse_eval_task("detector").value(), EvalTask::kDetector);

  // Open image dims take the task's rendering size (what kiln compress compares on); the
  // user's dims win; generic models get nothing added.
  EXPECT_EQ(task_input_dims({img}, {desc({-1, 2})}, {}).at("t"), (Dims{1, 3, 48, 192}));
  EXPECT_EQ(task_input_dims({img}, {desc({-1, -1, 6625})}, {}).at("t"), (Dims{1, 3, 48, 320}));
  EXPECT_EQ(task_input_dims({desc({-1, 3, -1, -1})}, {desc({-1, 1, -1, -1})}, {}).at("t"), (Dims{1, 3, 320, 320}));
  EXPECT_EQ(task_input_dims({img}, {desc({-1, 2})}, {{"t", Dims{2, 3, 48, 100}}}).at("t"), (Dims{2, 3, 48, 100}));
  EXPECT_TRUE(task_input_dims({desc({1, 512})}, {desc({1, 1})}, {}).empty());
}

// The rendered set is real text: ink where the line is, paper elsewhere, reproducible.
TEST(EvalData, RendersReproducibleTextLines) {
  TensorDesc in;
  in.name = "x";
  in.dtype = DType::kF32;
  in.shape = {Dim{-1, "n"}, Dim{3, ""}, Dim{48, ""}, Dim{-1, "w"}};
  EvalDataOptions o;
  o.task = EvalTask::kRecognizer;
  o.count = 3;
  auto a = make_eval_set({in}, o);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_EQ(a->samples.size(), 3u);
  const Tensor& t = a->samples[0].feeds.at("x");
  EXPECT_EQ(t.dims(), (Dims{1, 3, 48, 320}));
  EXPECT_FALSE(a->samples[0].text.empty());
  int ink = 0;
  for (int64_t i = 0; i < t.size(); ++i) ink += t.data<float>()[i] < 0.f;
  EXPECT_GT(ink, 3 * 100);               // some text drawn
  EXPECT_LT(ink, int(t.size()) / 2);     // mostly paper
  EXPECT_FLOAT_EQ(t.data<float>()[0], 1.f);  // top-left corner is white: (1 - 0.5) / 0.5
  auto b = make_eval_set({in}, o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->samples[2].text, a->samples[2].text);
  EXPECT_TRUE(std::equal(t.data<float>(), t.data<float>() + t.size(), b->samples[0].feeds.at("x").data<float>()));

  in.shape = {Dim{-1, "n"}, Dim{3, ""}, Dim{-1, "h"}, Dim{-1, "w"}};
  o.task = EvalTask::kDetector;
  o.count = 2;
  auto d = make_eval_set({in}, o);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->samples[0].feeds.at("x").dims(), (Dims{1, 3, 320, 320}));
  EXPECT_GE(d->samples[0].lines.size(), 2u);
  for (const Box& b : d->samples[0].lines) EXPECT_TRUE(b.x0 >= 0 && b.x1 <= 320 && b.y0 >= 0 && b.y1 <= 320 && b.area() > 0);

  o.input_dims["x"] = {1, 3, 8, 8};
  auto tiny = make_eval_set({in}, o);
  ASSERT_FALSE(tiny.ok());  // the error says how to fix it
  EXPECT_NE(tiny.status().message().find("--input-shape"), std::string::npos) << tiny.status().message();
}

}  // namespace
}  // namespace kiln
