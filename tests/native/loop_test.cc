// Loop in the executor, on IR models built here: a while loop (cond, no trip count), a
// for loop whose body condition is ignored, scan outputs stacked per iteration, zero
// iterations, and the errors for a loop that would never end.
#include <gtest/gtest.h>

#include "runtime/session.h"

namespace kiln {
namespace {

struct LoopModel {
  Model m;
  int add(const std::string& name, DType dt = DType::kUndefined, std::optional<Tensor> data = std::nullopt) {
    Value v;
    v.name = name;
    v.dtype = dt;
    v.data = std::move(data);
    return m.add_value(std::move(v));
  }
  Node& node(Graph& g, const std::string& op, std::vector<int> ins, std::vector<int> outs) {
    Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op_type = op;
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  }

  // x -> Loop(M, cond) { x' = x * 2; cond' = x' < limit; scan = x' + iteration } -> (x_final, scans)
  // use_m / use_cond choose which of M and cond the node passes.
  LoopModel(bool use_m, bool use_cond) {
    m.opset = 17;
    const int m_in = add("M", DType::kI64);
    const int cond_in = add("cond", DType::kBool);
    const int x = add("x", DType::kF32);
    for (int v : {m_in, cond_in, x}) m.graph.inputs.push_back(v);
    m.values[static_cast<size_t>(m_in)].shape = Shape{};
    m.values[static_cast<size_t>(cond_in)].shape = Shape{};
    m.values[static_cast<size_t>(x)].shape = shape_from_dims({2});

    auto body = std::make_shared<Graph>();
    const int iter = add("iter", DType::kI64), bcond = add("bcond", DType::kBool), bx = add("bx", DType::kF32);
    body->inputs = {iter, bcond, bx};
    const int two = add("two", DType::kF32, Tensor::from_f32({2.f}, {}));
    const int limit = add("limit", DType::kF32, Tensor::from_f32({100.f}, {}));
    const int doubled = add("doubled"), first = add("first"), more = add("more"), iter_f = add("iter_f"),
              scan = add("scan");
    node(*body, "Mul", {bx, two}, {doubled});
    const int idx = add("idx", DType::kI64, Tensor::from_i64({0}, {}));
    node(*body, "Gather", {doubled, idx}, {first});
    node(*body, "Less", {first, limit}, {more});
    Node& cast = node(*body, "Cast", {iter}, {iter_f});
    Attribute to;
    to.kind = Attribute::Kind::kInt;
    to.i = 1;  // float32
    cast.attrs["to"] = to;
    node(*body, "Add", {doubled, iter_f}, {scan});
    body->outputs = {more, doubled, scan};

    const int x_final = add("x_final"), scans = add("scans");
    Node& loop = node(m.graph, "Loop", {use_m ? m_in : kNoValue, use_cond ? cond_in : kNoValue, x}, {x_final, scans});
    Attribute b;
    b.kind = Attribute::Kind::kGraph;
    b.g = body;
    loop.attrs["body"] = b;
    m.graph.outputs = {x_final, scans};
  }
};

Tensor bool_scalar(bool b) {
  Tensor t = Tensor::make(DType::kBool, {}).value();
  t.mutable_data<uint8_t>()[0] = b;
  return t;
}

Result<TensorMap> run_loop(bool use_m, bool use_cond, int64_t m, bool cond, std::vector<float> x) {
  LoopModel lm(use_m, use_cond);
  KILN_ASSIGN_OR_RETURN(auto session, Session::create(std::move(lm.m)));
  return session->run({{"M", Tensor::from_i64({m}, {})}, {"cond", bool_scalar(cond)}, {"x", Tensor::from_f32(x, {2})}});
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.size()); }

TEST(Loop, WhileLoopStopsOnTheBodyCondition) {
  // x[0] = 3: 6, 12, 24, 48, 96, 192 -> stops after the iteration that reaches 192.
  auto r = run_loop(false, true, 0, true, {3.f, 1.f});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values(r->at("x_final")), (std::vector<float>{192.f, 64.f}));
  const Tensor& scans = r->at("scans");
  EXPECT_EQ(scans.dims(), (Dims{6, 2}));
  // Iteration i adds i to the doubled value.
  EXPECT_EQ(values(scans), (std::vector<float>{6, 2, 13, 5, 26, 10, 51, 19, 100, 36, 197, 69}));
}

TEST(Loop, TripCountAndConditionBothLimit) {
  auto r = run_loop(true, true, 2, true, {3.f, 1.f});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values(r->at("x_final")), (std::vector<float>{12.f, 4.f}));
  EXPECT_EQ(r->at("scans").dims(), (Dims{2, 2}));
}

TEST(Loop, ForLoopIgnoresTheBodyCondition) {
  // Without a cond input the loop runs M times although the body says stop.
  auto r = run_loop(true, false, 4, false, {80.f, 1.f});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values(r->at("x_final")), (std::vector<float>{1280.f, 16.f}));
  EXPECT_EQ(r->at("scans").dims(), (Dims{4, 2}));
}

TEST(Loop, ZeroIterationsPassInitialValuesThrough) {
  auto r = run_loop(true, true, 5, false, {3.f, 1.f});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(values(r->at("x_final")), (std::vector<float>{3.f, 1.f}));
  EXPECT_EQ(r->at("scans").dims()[0], 0);
  r = run_loop(true, false, 0, true, {3.f, 1.f});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->at("scans").dims()[0], 0);
}

TEST(Loop, WithoutTripCountOrConditionIsAnError) {
  auto r = run_loop(false, false, 0, true, {3.f, 1.f});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("never ends"), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("Loop"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace kiln
