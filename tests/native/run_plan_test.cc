// Run plans: per-shape caching, arena reuse by liveness, shape arithmetic resolved while
// planning, and results identical to running without a plan.
#include <gtest/gtest.h>

#include <random>

#include "runtime/session.h"

namespace kiln {
namespace {

int add(Model& m, const std::string& name, DType dt = DType::kF32, std::optional<Shape> shape = std::nullopt) {
  Value v;
  v.name = name;
  v.dtype = dt;
  v.shape = std::move(shape);
  return m.add_value(v);
}

int constant(Model& m, const std::string& name, Tensor t) {
  Value v;
  v.name = name;
  v.dtype = t.dtype();
  v.shape = shape_from_dims(t.dims());
  v.data = std::move(t);
  return m.add_value(v);
}

void node(Model& m, const std::string& type, std::vector<int> in, std::vector<int> out) {
  Node n;
  n.name = type + std::to_string(m.graph.nodes.size());
  n.op_type = type;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  m.graph.nodes.push_back(std::move(n));
}

// x[batch, n] -> Relu -> Sigmoid -> Mul(x) -> Tanh -> Add(x) -> y, then Shape/Gather/Concat
// computes [batch*n] for a Reshape: shape arithmetic the planner must resolve.
Model chain_model() {
  Model m;
  m.opset = 17;
  int x = add(m, "x", DType::kF32, Shape{Dim{-1, "batch"}, Dim{-1, "n"}});
  int a = add(m, "a"), b = add(m, "b"), c = add(m, "c"), d = add(m, "d"), e = add(m, "e");
  node(m, "Relu", {x}, {a});
  node(m, "Sigmoid", {a}, {b});
  node(m, "Mul", {b, x}, {c});
  node(m, "Tanh", {c}, {d});
  node(m, "Add", {d, x}, {e});
  int shape = add(m, "shape", DType::kI64), size = add(m, "size", DType::kI64);
  node(m, "Shape", {e}, {shape});
  node(m, "ReduceProd", {shape}, {size});
  m.graph.nodes.back().attrs["keepdims"] = Attribute{Attribute::Kind::kInt, 1};
  int flat = add(m, "flat");
  node(m, "Reshape", {e, size}, {flat});
  int y = add(m, "y");
  node(m, "Neg", {flat}, {y});
  m.graph.inputs = {x};
  m.graph.outputs = {y};
  return m;
}

Tensor random_input(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 2);
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (float& f : v) f = u(rng);
  return Tensor::from_f32(v, {rows, cols});
}

std::unique_ptr<Session> make_session(size_t cache) {
  SessionOptions o;
  o.plan_cache_size = cache;
  auto s = Session::create(chain_model(), o);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

TEST(RunPlan, SameResultsWithAndWithoutPlan) {
  auto planned = make_session(8), plain = make_session(0);
  for (auto [r, c] : {std::pair<int64_t, int64_t>{2, 5}, {7, 33}, {1, 1}, {2, 5}}) {
    Tensor x = random_input(r, c, static_cast<uint32_t>(r * 100 + c));
    auto a = planned->run({{"x", x}});
    auto b = plain->run({{"x", x}});
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    const Tensor &ya = a->at("y"), &yb = b->at("y");
    ASSERT_EQ(ya.dims(), (Dims{r * c}));
    ASSERT_EQ(ya.dims(), yb.dims());
    for (int64_t i = 0; i < ya.size(); ++i) EXPECT_EQ(ya.data<float>()[i], yb.data<float>()[i]);
  }
  PlanCacheStats st = planned->plan_cache_stats();
  EXPECT_EQ(st.misses, 3u);  // three distinct shapes
  EXPECT_EQ(st.hits, 1u);    // the repeated [2,5]
  EXPECT_EQ(st.cached, 3u);
}

TEST(RunPlan, ResolvesShapeArithmeticAndReusesMemory) {
  auto s = make_session(8);
  auto info = s->plan_info({{64, 256}});
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->dynamic_nodes, 0);  // the Reshape's target was computed while planning
  EXPECT_EQ(info->planned_nodes, 9);
  // a..e are 64 KiB each and at most three are live at once (x is the caller's).
  const size_t one = 64 * 256 * 4;
  EXPECT_EQ(info->unshared_bytes, 5 * one + 64 * 2);  // plus the two small shape tensors
  EXPECT_LE(info->arena_bytes, 3 * one + 128);
  EXPECT_GE(info->arena_bytes, 2 * one);
}

TEST(RunPlan, OutputsOutliveLaterRuns) {
  auto s = make_session(8);
  Tensor x1 = random_input(4, 6, 1), x2 = random_input(4, 6, 2);
  auto a = s->run({{"x", x1}});
  ASSERT_TRUE(a.ok());
  Tensor y1 = a->at("y").clone();
  Tensor held = a->at("y");
  ASSERT_TRUE(s->run({{"x", x2}}).ok());  // same shape: the arena is reused
  for (int64_t i = 0; i < y1.size(); ++i) EXPECT_EQ(held.data<float>()[i], y1.data<float>()[i]);
}

TEST(RunPlan, CacheDropsLeastRecentlyUsed) {
  auto s = make_session(2);
  for (int64_t r : {1, 2, 3, 1}) ASSERT_TRUE(s->run({{"x", random_input(r, 3, 7)}}).ok());
  PlanCacheStats st = s->plan_cache_stats();
  EXPECT_EQ(st.cached, 2u);
  EXPECT_EQ(st.misses, 4u);  // [1,3] was dropped when [3,3] came
}

TEST(RunPlan, DataDependentShapesStayDynamic) {
  // NonZero's output size depends on the data: it and its consumers are dynamic.
  Model m;
  m.opset = 17;
  int x = add(m, "x", DType::kF32, Shape{Dim{-1, "n"}});
  int nz = add(m, "nz", DType::kI64), y = add(m, "y", DType::kI64);
  node(m, "NonZero", {x}, {nz});
  node(m, "Neg", {nz}, {y});
  m.graph.inputs = {x};
  m.graph.outputs = {y};
  auto s = Session::create(std::move(m));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto info = (*s)->plan_info({{5}});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dynamic_nodes, 2);
  auto r = (*s)->run({{"x", Tensor::from_f32({0, 1, 0, 2, 3}, {5})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->at("y").dims(), (Dims{1, 3}));
  EXPECT_EQ(r->at("y").data<int64_t>()[0], -1);
}

}  // namespace
}  // namespace kiln
