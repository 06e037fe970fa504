// The ops added for ONNX conformance (tests/conformance) are checked value by value by the
// backend node tests; this file covers what those tests do not: malformed inputs give an
// error naming the node (never a crash or an out-of-bounds access), and Einsum's
// broadcast ellipsis, which no node test exercises.
#include <gtest/gtest.h>

#include <limits>

#include "ops/registry.h"
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

TEST(OpsConformanceGaps, MalformedInputsAreErrors) {
  const Tensor x4 = random_tensor({1, 2, 3, 3}, 1);
  expect_error(OpCall{"NegativeLogLikelihoodLoss", {}, {random_tensor({2, 3}, 2), i64({0, 3}, {2})}}, "outside [0, 3)");
  expect_error(OpCall{"NegativeLogLikelihoodLoss", {}, {random_tensor({2, 3}, 2), i64({0}, {1})}}, "[N, d1..dk]");
  expect_error(OpCall{"SoftmaxCrossEntropyLoss", {{"reduction", attr_s("avg")}}, {random_tensor({2, 3}, 2), i64({0, 1}, {2})}},
               "reduction");
  expect_error(OpCall{"Einsum", {{"equation", attr_s("ij,jk->ik")}}, {random_tensor({2, 3}, 1), random_tensor({4, 2}, 2)}},
               "letter sizes disagree");
  expect_error(OpCall{"Einsum", {{"equation", attr_s("ij->iz")}}, {random_tensor({2, 3}, 1)}}, "output letter");
  expect_error(OpCall{"Einsum", {{"equation", attr_s("ijk->i")}}, {random_tensor({2, 3}, 1)}}, "does not match shape");
  expect_error(OpCall{"NonMaxSuppression", {}, {random_tensor({1, 4, 3}, 1), random_tensor({1, 1, 4}, 2)}}, "[B, N, 4]");
  Tensor cond = Tensor::make(DType::kBool, {5}).value();
  for (int i = 0; i < 5; ++i) cond.mutable_data<uint8_t>()[i] = 1;
  expect_error(OpCall{"Compress", {{"axis", attr_i(0)}}, {random_tensor({3, 2}, 1), cond}}, "selects index 3");
  expect_error(OpCall{"ReverseSequence", {}, {random_tensor({3, 2}, 1), i64({4, 1}, {2})}}, "outside [0, 3]");
  expect_error(OpCall{"MaxUnpool", {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}},
                      {random_tensor({1, 1, 1, 1}, 1), i64({4}, {1, 1, 1, 1})}},
               "outside the output");
  expect_error(OpCall{"GridSample", {}, {x4, random_tensor({1, 2, 2, 3}, 2)}}, "[N, Ho, Wo, 2]");
  expect_error(OpCall{"Det", {}, {random_tensor({2, 3}, 1)}}, "[*, M, M]");
  expect_error(OpCall{"DFT", {}, {random_tensor({1, 4, 3}, 1)}}, "1 or 2");
  expect_error(OpCall{"Unique", {{"axis", attr_i(2)}}, {random_tensor({2, 2}, 1)}}, "axis");
  expect_error(OpCall{"RoiAlign", {}, {x4, f32({0, 0, 1, 1}, {1, 4}), i64({1}, {1})}}, "outside [0, 1)");
  expect_error(OpCall{"Hardmax", {{"axis", attr_i(3)}}, {random_tensor({2, 2}, 1)}}, "axis");
  expect_error(OpCall{"LRN", {{"size", attr_i(0)}}, {x4}}, "size");
}

TEST(OpsConformanceGaps, NonFiniteCoordinatesAreSafe) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const Tensor x = random_tensor({1, 1, 3, 3}, 3);
  for (const char* mode : {"bilinear", "nearest", "bicubic"})
    for (const char* pad : {"zeros", "border", "reflection"}) {
      SCOPED_TRACE(std::string(mode) + " " + pad);
      auto r = run_op(OpCall{"GridSample", {{"mode", attr_s(mode)}, {"padding_mode", attr_s(pad)}},
                             {x, f32({nan, 0, inf, -inf, 1e30f, -1e30f, 0.5f, nan}, {1, 2, 2, 2})}, 16});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      EXPECT_EQ(r.value()[0].dims(), (Dims{1, 1, 2, 2}));
    }
  expect_error(OpCall{"RoiAlign", {}, {x, f32({0, 0, inf, 1}, {1, 4}), i64({0}, {1})}, 16}, "non-finite or too large");
  auto r = run_op(OpCall{"RoiAlign", {{"sampling_ratio", attr_i(2)}}, {x, f32({nan, 0, 1, 1}, {1, 4}), i64({0}, {1})}, 16});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
}

TEST(OpsConformanceGaps, EinsumBroadcastsTheEllipsis) {
  // "...ij,...jk->...ik" with batch dims [2, 1] and [3]: broadcast to [2, 3].
  const Tensor a = random_tensor({2, 1, 2, 3}, 5), b = random_tensor({3, 3, 4}, 6);
  auto r = run_op(OpCall{"Einsum", {{"equation", attr_s("...ij,...jk->...ik")}}, {a, b}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::vector<float> want;
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 3; ++q)
      for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 4; ++k) {
          float s = 0;
          for (int j = 0; j < 3; ++j) s += a.data<float>()[(p * 2 + i) * 3 + j] * b.data<float>()[(q * 3 + j) * 4 + k];
          want.push_back(s);
        }
  expect_near_all(r.value()[0], {2, 3, 2, 4}, want);
  // Implicit output: letters used once, alphabetically ("ba" -> "ab" is a transpose).
  auto t = run_op(OpCall{"Einsum", {{"equation", attr_s("ba")}}, {random_tensor({2, 3}, 7)}});
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t.value()[0].dims(), (Dims{3, 2}));
}

}  // namespace
}  // namespace kiln::nntest
