// Softmax / LogSoftmax through the Op interface: per-axis semantics from opset 13, the
// 2-D coercion before it, numerical stability, errors.
#include "ops_nn_test_util.h"

namespace kiln::nntest {
namespace {

// Softmax over the elements j of [outer, n, inner] for each (outer, inner), in double.
std::vector<float> naive_softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  std::vector<float> y(static_cast<size_t>(x.size()));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, double(x.data<float>()[at(j)]));
      for (int64_t j = 0; j < n; ++j) sum += std::exp(x.data<float>()[at(j)] - mx);
      for (int64_t j = 0; j < n; ++j) {
        const double v = x.data<float>()[at(j)] - mx;
        y[static_cast<size_t>(at(j))] = static_cast<float>(log ? v - std::log(sum) : std::exp(v) / sum);
      }
    }
  return y;
}

TEST(OpsNnSoftmax, HandWorked) {
  auto r = run_op(OpCall{"Softmax", {}, {f32({0, 0, std::log(2.f), 1000, 1000, 1000}, {2, 3})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], {2, 3}, {0.25f, 0.25f, 0.5f, 1 / 3.f, 1 / 3.f, 1 / 3.f});
  r = run_op(OpCall{"LogSoftmax", {}, {f32({1, 2, 3}, {1, 3})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const float lse = std::log(std::exp(1.f) + std::exp(2.f) + std::exp(3.f));
  expect_near_all(r.value()[0], {1, 3}, {1 - lse, 2 - lse, 3 - lse});
}

TEST(OpsNnSoftmax, PerAxisFromOpset13) {
  Tensor x = random_tensor({2, 3, 4}, 900);
  for (bool log : {false, true}) {
    const char* op = log ? "LogSoftmax" : "Softmax";
    struct {
      std::optional<int64_t> axis;
      int64_t outer, n, inner;
    } cases[] = {{std::nullopt, 6, 4, 1}, {-1, 6, 4, 1}, {0, 1, 2, 12}, {1, 2, 3, 4}, {-2, 2, 3, 4}, {2, 6, 4, 1}};
    for (const auto& k : cases) {
      SCOPED_TRACE(std::string(op) + " axis " + (k.axis ? std::to_string(*k.axis) : "default"));
      Attrs a;
      if (k.axis) a["axis"] = attr_i(*k.axis);
      auto r = run_op(OpCall{op, a, {x}, 13});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      expect_near_all(r.value()[0], x.dims(), naive_softmax(x, k.outer, k.n, k.inner, log));
    }
  }
}

TEST(OpsNnSoftmax, CoercedTo2DBeforeOpset13) {
  Tensor x = random_tensor({2, 3, 4}, 901);
  for (int64_t opset : {9, 11, 12}) {
    for (bool log : {false, true}) {
      const char* op = log ? "LogSoftmax" : "Softmax";
      SCOPED_TRACE(std::string(op) + " opset " + std::to_string(opset));
      // Default axis 1: rows of 3*4 = 12 elements, not a softmax over the 3 alone.
      auto r = run_op(OpCall{op, {}, {x}, opset});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      expect_near_all(r.value()[0], x.dims(), naive_softmax(x, 2, 12, 1, log));
      r = run_op(OpCall{op, {{"axis", attr_i(0)}}, {x}, opset});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      expect_near_all(r.value()[0], x.dims(), naive_softmax(x, 1, 24, 1, log));
      r = run_op(OpCall{op, {{"axis", attr_i(-1)}}, {x}, opset});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      expect_near_all(r.value()[0], x.dims(), naive_softmax(x, 6, 4, 1, log));
    }
  }
  // The recognizer's 4-D attention softmax (opset 9, axis 3) is the per-row one.
  Tensor att = random_tensor({1, 2, 5, 5}, 902);
  auto r = run_op(OpCall{"Softmax", {{"axis", attr_i(3)}}, {att}, 9});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  expect_near_all(r.value()[0], att.dims(), naive_softmax(att, 10, 5, 1, false));
}

TEST(OpsNnSoftmax, LargeAndNegativeInputsAreStable) {
  Tensor x = f32({1000, 1001, 1002, -1000, -1001, -1002}, {2, 3});
  auto r = run_op(OpCall{"Softmax", {}, {x}});
  ASSERT_TRUE(r.ok());
  expect_near_all(r.value()[0], {2, 3}, naive_softmax(x, 2, 3, 1, false));
  r = run_op(OpCall{"LogSoftmax", {}, {x}});
  ASSERT_TRUE(r.ok());
  expect_near_all(r.value()[0], {2, 3}, naive_softmax(x, 2, 3, 1, true));
}

TEST(OpsNnSoftmax, Errors) {
  expect_error(OpCall{"Softmax", {{"axis", attr_i(3)}}, {random_tensor({2, 3, 4}, 1)}, 13}, "axis 3 is out of range");
  expect_error(OpCall{"LogSoftmax", {{"axis", attr_i(-4)}}, {random_tensor({2, 3, 4}, 1)}, 11}, "axis -4 is out of range");
  expect_error(OpCall{"Softmax", {}, {Tensor::from_i64({1, 2}, {2})}, 13}, "float32");
  expect_error(OpCall{"Softmax", {}, {Tensor::scalar_f32(1.f)}, 13}, "out of range");
}

}  // namespace
}  // namespace kiln::nntest
