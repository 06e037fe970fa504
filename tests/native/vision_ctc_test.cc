// src/vision CTC greedy decoding, key files, softmax and top-k.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "vision/classify.h"
#include "vision/ctc_decode.h"

namespace kiln::vision {
namespace {

TEST(VisionCtc, CollapsesRepeatsDropsBlanksAndScores) {
  // Classes: blank, a, b. Steps: a a blank a b b blank -> "aab" (the blank separates the a's).
  const std::vector<float> p = {
      0.1f, 0.8f, 0.1f,  0.2f, 0.7f, 0.1f,  0.9f, 0.05f, 0.05f, 0.1f, 0.6f, 0.3f,
      0.1f, 0.2f, 0.7f,  0.0f, 0.1f, 0.9f,  0.5f, 0.25f, 0.25f};
  auto r = ctc_greedy_decode(p.data(), p.size(), {1, 7, 3}, 3);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->indices, (std::vector<int32_t>{1, 1, 2}));
  EXPECT_EQ(r->char_scores, (std::vector<float>{0.8f, 0.6f, 0.7f}));
  EXPECT_NEAR(r->score, (0.8 + 0.6 + 0.7) / 3, 1e-7);
  auto text = ctc_text(*r, {"", "a", "b"});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "aab");
}

TEST(VisionCtc, EmptyAndAllBlankAndTies) {
  auto none = ctc_greedy_decode(nullptr, 0, {0, 5});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->indices.empty());
  EXPECT_EQ(none->score, 0);
  const std::vector<float> blank = {1, 0, 1, 0};
  EXPECT_TRUE(ctc_greedy_decode(blank.data(), 4, {2, 2})->indices.empty());
  // Ties go to the lower class: blank wins over 'a' on equal scores.
  const std::vector<float> tie = {0.5f, 0.5f, 0.2f, 0.5f, 0.5f};
  auto t = ctc_greedy_decode(tie.data(), 5, {1, 5});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->indices.empty());
  // One step, one class beyond blank; UTF-8 keys concatenate as bytes.
  const std::vector<float> one = {0, 1};
  auto o = ctc_greedy_decode(one.data(), 2, {1, 2});
  ASSERT_TRUE(o.ok());
  auto text = ctc_text(*o, {"", "\xe4\xb8\xad"});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text.value(), "\xe4\xb8\xad");
}

TEST(VisionCtc, BadArgumentsAreErrors) {
  const std::vector<float> p(6);
  EXPECT_FALSE(ctc_greedy_decode(p.data(), 6, {2, 2}).ok());
  EXPECT_FALSE(ctc_greedy_decode(p.data(), 6, {2, 1, 3}).ok());  // batch 2
  EXPECT_FALSE(ctc_greedy_decode(p.data(), 6, {6}).ok());
  EXPECT_FALSE(ctc_greedy_decode(p.data(), 6, {3, 0}).ok());
  EXPECT_FALSE(ctc_greedy_decode(p.data(), 6, {-2, -3}).ok());
  auto keys = ctc_greedy_decode(p.data(), 6, {2, 3}, 4);
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("3 classes but the key list has 4"), std::string::npos);
  CtcResult r;
  r.indices = {5};
  EXPECT_FALSE(ctc_text(r, {"", "a"}).ok());
}

TEST(VisionKeys, ParsesLikePaddleOcr) {
  EXPECT_EQ(parse_keys("a\nb\n"), (std::vector<std::string>{"", "a", "b", " "}));
  EXPECT_EQ(parse_keys("a\r\nb"), (std::vector<std::string>{"", "a", "b", " "}));
  EXPECT_EQ(parse_keys("a\n\nb", false), (std::vector<std::string>{"", "a", "", "b"}));
  EXPECT_EQ(parse_keys(""), (std::vector<std::string>{"", " "}));
  EXPECT_EQ(parse_keys("x\r"), (std::vector<std::string>{"", "x\r", " "}));  // a lone \r is data
}

TEST(VisionClassify, SoftmaxRows) {
  const std::vector<float> x = {0, std::log(3.0f), 1000, 1000};
  std::vector<float> y(4);
  ASSERT_TRUE(softmax_rows(x.data(), 4, 2, y.data()).ok());
  EXPECT_FLOAT_EQ(y[0], 0.25f);
  EXPECT_FLOAT_EQ(y[1], 0.75f);
  EXPECT_EQ(y[2], 0.5f);  // no overflow: max subtracted
  EXPECT_EQ(y[3], 0.5f);
  const std::vector<double> one = {-5};
  ASSERT_TRUE(softmax_rows(one.data(), 1, 1, y.data()).ok());
  EXPECT_EQ(y[0], 1);
  EXPECT_FALSE(softmax_rows(x.data(), 4, 3, y.data()).ok());
  EXPECT_FALSE(softmax_rows(x.data(), 4, 0, y.data()).ok());
}

TEST(VisionClassify, TopKOrderTiesAndNaN) {
  const std::vector<double> v = {0.1, 0.7, std::numeric_limits<double>::quiet_NaN(), 0.7, 0.3};
  auto r = top_k(v.data(), v.size(), 3);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].index, 1);
  EXPECT_EQ((*r)[1].index, 3);
  EXPECT_EQ((*r)[2].index, 4);
  EXPECT_EQ(top_k(v.data(), v.size(), 100)->size(), 4u);  // NaN skipped, k capped
  EXPECT_TRUE(top_k(v.data(), 0, 1)->empty());
  EXPECT_FALSE(top_k(v.data(), v.size(), 0).ok());
  // Large random-ish vector against a full sort.
  std::vector<float> big(1000);
  for (int i = 0; i < 1000; ++i) big[i] = static_cast<float>((i * 7919) % 1000);  // a permutation of 0..999
  auto b = top_k(big.data(), big.size(), 5);
  ASSERT_TRUE(b.ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*b)[i].value, 999 - i);
}

}  // namespace
}  // namespace kiln::vision
