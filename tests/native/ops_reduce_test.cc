// Reductions and ArgMax/ArgMin through the Op interface, against a naive reference that
// loops over every input element.
#include <cmath>
#include <functional>
#include <limits>

#include "ops_tensor_testing.h"

namespace kiln::testing {
namespace {

// Reduces x over `axes` (all when empty) with init/combine/finish on doubles.
std::vector<float> ref_reduce(const std::vector<float>& x, const Dims& d, const std::vector<int64_t>& axes, double init,
                              const std::function<double(double, double)>& combine,
                              const std::function<double(double, int64_t)>& finish) {
  std::vector<bool> red(d.size(), axes.empty());
  for (int64_t a : axes) red[static_cast<size_t>(a < 0 ? a + static_cast<int64_t>(d.size()) : a)] = true;
  Dims od;
  int64_t count = 1;
  for (size_t i = 0; i < d.size(); ++i) {
    if (red[i]) count *= d[i];
    else od.push_back(d[i]);
  }
  std::vector<double> acc(static_cast<size_t>(num_elements(od)), init);
  for (size_t i = 0; i < x.size(); ++i) {
    auto idx = unravel(static_cast<int64_t>(i), d);
    int64_t off = 0;
    for (size_t k = 0; k < d.size(); ++k)
      if (!red[k]) off = off * d[k] + idx[k];
    acc[static_cast<size_t>(off)] = combine(acc[static_cast<size_t>(off)], x[i]);
  }
  std::vector<float> r;
  for (double a : acc) r.push_back(static_cast<float>(finish(a, count)));
  return r;
}

struct RCase {
  const char* op;
  double init;
  std::function<double(double, double)> combine;
  std::function<double(double, int64_t)> finish;
};

std::vector<RCase> reductions() {
  auto id = [](double a, int64_t) { return a; };
  return {
      {"ReduceSum", 0, [](double a, double v) { return a + v; }, id},
      {"ReduceMean", 0, [](double a, double v) { return a + v; }, [](double a, int64_t n) { return a / n; }},
      {"ReduceMax", -INFINITY, [](double a, double v) { return std::max(a, v); }, id},
      {"ReduceMin", INFINITY, [](double a, double v) { return std::min(a, v); }, id},
      {"ReduceProd", 1, [](double a, double v) { return a * v; }, id},
      {"ReduceL1", 0, [](double a, double v) { return a + std::fabs(v); }, id},
      {"ReduceL2", 0, [](double a, double v) { return a + v * v; }, [](double a, int64_t) { return std::sqrt(a); }},
      {"ReduceSumSquare", 0, [](double a, double v) { return a + v * v; }, id},
      {"ReduceLogSum", 0, [](double a, double v) { return a + std::fabs(v); },
       [](double a, int64_t) { return std::log(a); }},
      {"ReduceLogSumExp", 0, [](double a, double v) { return a + std::exp(v); },
       [](double a, int64_t) { return std::log(a); }},
  };
}

TEST(OpsReduce, AllReductionsMatchReferenceOverAxisSets) {
  const Dims d = {2, 3, 4, 5};
  auto x = random_floats(120, 3);
  const std::vector<std::vector<int64_t>> axis_sets = {{}, {-1}, {0}, {1, 2}, {0, 2}, {1, 3}, {0, 1, 2, 3}, {3, 0}};
  for (const RCase& c : reductions()) {
    // LogSum needs positive inputs.
    std::vector<float> in = x;
    if (std::string(c.op) == "ReduceLogSum")
      for (auto& v : in) v = std::fabs(v) + 0.1f;
    for (const auto& axes : axis_sets)
      for (int keep : {0, 1}) {
        SCOPED_TRACE(std::string(c.op) + " axes " + dims_to_string(axes) + " keepdims " + std::to_string(keep));
        OpTester t(c.op, 13);
        t.attr("keepdims", keep).input(f32(in, d));
        if (!axes.empty()) t.attr("axes", axes);
        if (std::string(c.op) == "ReduceSum") {  // axes is an input from opset 13
          t = OpTester(c.op, 13);
          t.attr("keepdims", keep).input(f32(in, d));
          if (!axes.empty()) t.constant(i64(axes, {static_cast<int64_t>(axes.size())}));
        }
        Tensor y = t.run1();
        Dims want_dims;
        for (size_t i = 0; i < d.size(); ++i) {
          bool r = axes.empty();
          for (int64_t a : axes) r = r || (a < 0 ? a + 4 : a) == static_cast<int64_t>(i);
          if (!r) want_dims.push_back(d[i]);
          else if (keep) want_dims.push_back(1);
        }
        EXPECT_EQ(y.dims(), want_dims);
        expect_near_all(y, ref_reduce(in, d, axes, c.init, c.combine, c.finish), 1e-4f);
      }
  }
}

TEST(OpsReduce, ReduceMeanOpset9LayerNormPattern) {
  // PP-OCR rec: ReduceMean(axes=[-1]) with default keepdims=1.
  auto x = random_floats(2 * 3 * 120, 11);
  Tensor y = OpTester("ReduceMean", 9).attr("axes", std::vector<int64_t>{-1}).input(f32(x, {2, 3, 120})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 3, 1}));
  expect_near_all(y,
                  ref_reduce(x, {2, 3, 120}, {-1}, 0, std::plus<double>(), [](double a, int64_t n) { return a / n; }));
}

TEST(OpsReduce, ReduceMeanOpset18AxesInput) {
  auto x = random_floats(24, 5);
  // Silero: axes as input, keepdims=0, noop_with_empty_axes=0.
  Tensor y = OpTester("ReduceMean", 18).attr("keepdims", 0).attr("noop_with_empty_axes", 0).input(f32(x, {2, 3, 4}))
                 .constant(i64({1}, {1})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 4}));
  expect_near_all(y, ref_reduce(x, {2, 3, 4}, {1}, 0, std::plus<double>(), [](double a, int64_t n) { return a / n; }));
  // No axes: reduce all, unless noop_with_empty_axes.
  y = OpTester("ReduceMean", 18).input(f32(x, {2, 3, 4})).run1();
  EXPECT_EQ(y.dims(), (Dims{1, 1, 1}));
  y = OpTester("ReduceMean", 18).attr("noop_with_empty_axes", 1).input(f32(x, {2, 3, 4})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 3, 4}));
  expect_near_all(y, x);
  y = OpTester("ReduceMean", 18).attr("noop_with_empty_axes", 1).input(f32(x, {2, 3, 4})).constant(i64({}, {0})).run1();
  EXPECT_EQ(y.dims(), (Dims{2, 3, 4}));
  // Before opset 18 an axes input is not accepted.
  EXPECT_FALSE(OpTester("ReduceMean", 13).input(f32(x, {2, 3, 4})).constant(i64({1}, {1})).create().ok());
}

TEST(OpsReduce, IntegerReductions) {
  Tensor x = i64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = OpTester("ReduceSum", 13).attr("keepdims", 0).input(x).constant(i64({1}, {1})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{6, 15}));
  y = OpTester("ReduceProd", 13).attr("axes", std::vector<int64_t>{0}).attr("keepdims", 0).input(x).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{4, 10, 18}));
  y = OpTester("ReduceMax", 13).attr("keepdims", 0).input(i32({3, -7, 9, 2}, {4})).run1();
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{9}));
  y = OpTester("ReduceSum", 11).attr("axes", std::vector<int64_t>{0}).input(x).run1();  // attribute before 13
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{5, 7, 9}));
}

TEST(OpsReduce, EmptyAndErrorCases) {
  Tensor e = f32({}, {0, 3});
  Tensor y = OpTester("ReduceSum", 13).attr("keepdims", 0).input(e).constant(i64({0}, {1})).run1();
  expect_near_all(y, {0, 0, 0});
  y = OpTester("ReduceMax", 13).attr("axes", std::vector<int64_t>{0}).attr("keepdims", 0).input(e).run1();
  EXPECT_TRUE(std::isinf(y.data<float>()[0]) && y.data<float>()[0] < 0);
  Tensor x = f32({1, 2}, {2});
  EXPECT_FALSE(OpTester("ReduceSum", 13).input(x).constant(i64({1}, {1})).run().ok());
  EXPECT_FALSE(OpTester("ReduceMean", 13).attr("axes", std::vector<int64_t>{0, -1}).input(x).run().ok());
  EXPECT_FALSE(OpTester("ReduceMean", 13).input(boolean({1}, {1})).run().ok());
}

TEST(OpsReduce, ArgMaxArgMin) {
  Tensor x = f32({2, 9, 9, 1, 5, 1}, {2, 3});
  Tensor y = OpTester("ArgMax").attr("axis", 1).input(x).run1();
  ASSERT_EQ(y.dtype(), DType::kI64);
  EXPECT_EQ(y.dims(), (Dims{2, 1}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1, 1}));
  y = OpTester("ArgMax", 12).attr("axis", -1).attr("select_last_index", 1).attr("keepdims", 0).input(x).run1();
  EXPECT_EQ(y.dims(), (Dims{2}));
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{2, 1}));
  y = OpTester("ArgMin", 12).attr("axis", 1).attr("keepdims", 0).input(x).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 0}));
  y = OpTester("ArgMin", 12).attr("axis", 1).attr("keepdims", 0).attr("select_last_index", 1).input(x).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 2}));
  y = OpTester("ArgMax").attr("keepdims", 0).input(x).run1();  // default axis 0
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{0, 0, 0}));
  y = OpTester("ArgMax").attr("axis", 1).attr("keepdims", 0).input(i64({-5, -2, -9}, {1, 3})).run1();
  EXPECT_EQ(values<int64_t>(y), (std::vector<int64_t>{1}));
  EXPECT_FALSE(OpTester("ArgMax").attr("axis", 2).input(x).run().ok());
  EXPECT_FALSE(OpTester("ArgMax").input(f32({}, {0, 2})).run().ok());
}

}  // namespace
}  // namespace kiln::testing
