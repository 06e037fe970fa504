// Session and Interpreter: input checking, execution order, If branches, freeing.
#include <gtest/gtest.h>

#include "runtime/interpreter.h"
#include "runtime/session.h"

namespace kiln {
namespace {

Value f32_value(const std::string& name, Shape shape) {
  Value v;
  v.name = name;
  v.dtype = DType::kF32;
  v.shape = std::move(shape);
  return v;
}

// x -> Relu -> y, with a symbolic batch dim.
Model relu_model() {
  Model m;
  m.opset = 17;
  int x = m.add_value(f32_value("x", {Dim{-1, "batch"}, Dim{3, ""}}));
  int y = m.add_value(f32_value("y", {Dim{-1, "batch"}, Dim{3, ""}}));
  Node n;
  n.name = "relu";
  n.op_type = "Relu";
  n.inputs = {x};
  n.outputs = {y};
  m.graph.nodes.push_back(n);
  m.graph.inputs = {x};
  m.graph.outputs = {y};
  return m;
}

TEST(Session, RunsAndDescribes) {
  auto s = Session::create(relu_model());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  ASSERT_EQ((*s)->inputs().size(), 1u);
  EXPECT_EQ((*s)->inputs()[0].name, "x");
  EXPECT_EQ(shape_to_string((*s)->inputs()[0].shape), "[batch,3]");
  auto out = (*s)->run({{"x", Tensor::from_f32({-1, 2, -3, 4, -5, 6}, {2, 3})}});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const Tensor& y = out->at("y");
  EXPECT_EQ(dims_to_string(y.dims()), "[2,3]");
  std::vector<float> want = {0, 2, 0, 4, 0, 6};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<float>()[i], want[i]);
}

TEST(Session, RejectsBadInputs) {
  auto s = Session::create(relu_model());
  ASSERT_TRUE(s.ok());
  auto r = (*s)->run({{"nope", Tensor::from_f32({1, 2, 3}, {1, 3})}});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown input 'nope'"), std::string::npos) << r.status().message();
  r = (*s)->run({});
  EXPECT_NE(r.status().message().find("missing input 'x'"), std::string::npos);
  r = (*s)->run({{"x", Tensor::from_i64({1, 2, 3}, {1, 3})}});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("expected dtype float32, got int64"), std::string::npos);
  r = (*s)->run({{"x", Tensor::from_f32({1, 2, 3, 4}, {1, 4})}});
  EXPECT_NE(r.status().message().find("expected shape [batch,3]"), std::string::npos) << r.status().message();
  r = (*s)->run({{"x", Tensor::from_f32({1, 2, 3}, {3})}});
  EXPECT_NE(r.status().message().find("rank 2"), std::string::npos) << r.status().message();
  // The session still works after errors.
  EXPECT_TRUE((*s)->run({{"x", Tensor::from_f32({1, 2, 3}, {1, 3})}}).ok());
}

TEST(Session, ReportsEveryUnsupportedOp) {
  Model m = relu_model();
  Node a = m.graph.nodes[0];
  a.name = "first_foo";
  a.op_type = "FooOp";
  a.outputs = {m.add_value(f32_value("t1", {}))};
  Node b = a;
  b.name = "second_foo";
  b.outputs = {m.add_value(f32_value("t2", {}))};
  Node c = a;
  c.name = "bar";
  c.op_type = "BarOp";
  c.outputs = {m.add_value(f32_value("t3", {}))};
  m.graph.nodes.insert(m.graph.nodes.end(), {a, b, c});
  auto s = Session::create(std::move(m));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUnsupported);
  const std::string& msg = s.status().message();
  EXPECT_NE(msg.find("FooOp (first at node 'first_foo')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("BarOp (first at node 'bar')"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("second_foo"), std::string::npos) << msg;
}

// cond ? relu(x) : x, where the then-branch reads x from the outer scope.
Model if_model() {
  Model m;
  m.opset = 17;
  int cond = m.add_value(Value{"cond", DType::kBool, Shape{}, std::nullopt});
  int x = m.add_value(f32_value("x", {Dim{4, ""}}));
  int t = m.add_value(f32_value("then_y", {Dim{4, ""}}));
  int y = m.add_value(f32_value("y", {Dim{4, ""}}));
  auto then_g = std::make_shared<Graph>();
  then_g->name = "then";
  Node relu;
  relu.name = "inner_relu";
  relu.op_type = "Relu";
  relu.inputs = {x};
  relu.outputs = {t};
  then_g->nodes.push_back(relu);
  then_g->outputs = {t};
  auto else_g = std::make_shared<Graph>();
  else_g->name = "else";
  else_g->outputs = {x};
  Node n;
  n.name = "branch";
  n.op_type = "If";
  n.inputs = {cond};
  n.outputs = {y};
  n.attrs["then_branch"] = Attribute{Attribute::Kind::kGraph, 0, 0, "", {}, {}, {}, {}, then_g};
  n.attrs["else_branch"] = Attribute{Attribute::Kind::kGraph, 0, 0, "", {}, {}, {}, {}, else_g};
  m.graph.nodes.push_back(n);
  m.graph.inputs = {cond, x};
  m.graph.outputs = {y};
  return m;
}

Tensor bool_scalar(bool b) {
  Tensor t = Tensor::make(DType::kBool, {}).value();
  t.mutable_data<uint8_t>()[0] = b;
  return t;
}

TEST(Session, IfRunsTheChosenBranch) {
  auto s = Session::create(if_model());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  Tensor x = Tensor::from_f32({-1, 2, -3, 4}, {4});
  auto on = (*s)->run({{"cond", bool_scalar(true)}, {"x", x}});
  ASSERT_TRUE(on.ok()) << on.status().to_string();
  EXPECT_EQ(on->at("y").data<float>()[0], 0.f);
  EXPECT_EQ(on->at("y").data<float>()[3], 4.f);
  auto off = (*s)->run({{"cond", bool_scalar(false)}, {"x", x}});
  ASSERT_TRUE(off.ok()) << off.status().to_string();
  EXPECT_EQ(off->at("y").data<float>()[0], -1.f);
  EXPECT_EQ(off->at("y").data<float>()[2], -3.f);
}

TEST(Interpreter, TfliteStyleCalls) {
  auto s = Session::create(relu_model());
  ASSERT_TRUE(s.ok());
  Interpreter interp(std::move(s).value());
  auto in = interp.get_input_details();
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].index, 0);
  EXPECT_EQ(in[0].dtype, DType::kF32);
  EXPECT_FALSE(interp.get_tensor(0).ok());  // before invoke
  EXPECT_FALSE(interp.invoke().ok());       // input not set
  EXPECT_EQ(interp.set_tensor(1, Tensor()).code(), Code::kOutOfRange);
  ASSERT_TRUE(interp.set_tensor(0, Tensor::from_f32({-2, 0, 2}, {1, 3})).ok());
  ASSERT_TRUE(interp.invoke().ok());
  auto y = interp.get_tensor(0);
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->data<float>()[0], 0.f);
  EXPECT_EQ(y->data<float>()[2], 2.f);
}

}  // namespace
}  // namespace kiln
