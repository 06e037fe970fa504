// inline_constant_if: before/after checks of the IR on small If graphs, and runs showing
// the inlined model computes what the original did.
#include <gtest/gtest.h>

#include "graph/passes/inline_constant_if.h"
#include "runtime/session.h"

namespace kiln {
namespace {

struct Builder {
  Model m;
  Builder() { m.opset = 17; }
  int value(const std::string& name, DType dt = DType::kUndefined) {
    Value v;
    v.name = name;
    v.dtype = dt;
    return m.add_value(std::move(v));
  }
  int input(const std::string& name, Dims dims) {
    int i = value(name, DType::kF32);
    m.values[static_cast<size_t>(i)].shape = shape_from_dims(dims);
    m.graph.inputs.push_back(i);
    return i;
  }
  int constant(const std::string& name, Tensor t) {
    int i = value(name, t.dtype());
    m.values[static_cast<size_t>(i)].data = std::move(t);
    return i;
  }
  int bool_constant(const std::string& name, bool b) {
    Tensor t = Tensor::make(DType::kBool, {}).value();
    t.mutable_data<uint8_t>()[0] = b ? 1 : 0;
    return constant(name, t);
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
};

Attribute graph_attr(std::shared_ptr<Graph> g) {
  Attribute a;
  a.kind = Attribute::Kind::kGraph;
  a.g = std::move(g);
  return a;
}

// x -> If(cond) { then: (x + 1, x)  else: (-x, x * x) } -> (y, z), y -> Relu -> out.
// The then branch's second output is the outer x itself (an Identity is needed).
struct IfModel {
  Builder b;
  int x, y, z, out;
  explicit IfModel(bool cond) {
    x = b.input("x", {3});
    int c = b.bool_constant("cond", cond);
    int one = b.constant("one", Tensor::from_f32({1.f}, {}));
    auto then_g = std::make_shared<Graph>();
    int t = b.value("t");
    b.node(*then_g, "Add", {x, one}, {t});
    then_g->outputs = {t, x};
    auto else_g = std::make_shared<Graph>();
    int e = b.value("e"), e2 = b.value("e2");
    b.node(*else_g, "Neg", {x}, {e});
    b.node(*else_g, "Mul", {x, x}, {e2});
    else_g->outputs = {e, e2};
    y = b.value("y");
    z = b.value("z");
    Node& n = b.node(b.m.graph, "If", {c}, {y, z});
    n.attrs["then_branch"] = graph_attr(then_g);
    n.attrs["else_branch"] = graph_attr(else_g);
    out = b.value("out");
    b.node(b.m.graph, "Relu", {y}, {out});
    b.m.graph.outputs = {out, z};
  }
};

std::vector<float> run(Model m, const std::vector<float>& x, const std::string& output) {
  auto s = Session::create(std::move(m));
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return {};
  auto r = (*s)->run({{"x", Tensor::from_f32(x, {static_cast<int64_t>(x.size())})}});
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return {};
  const Tensor& t = r.value().at(output);
  return std::vector<float>(t.data<float>(), t.data<float>() + t.size());
}

std::vector<std::string> op_types(const Graph& g) {
  std::vector<std::string> r;
  for (const Node& n : g.nodes) r.push_back(n.op_type);
  return r;
}

TEST(InlineConstantIf, ThenBranchReplacesTheIf) {
  IfModel im(true);
  ASSERT_TRUE(validate_and_sort(im.b.m).ok());
  const Model before = im.b.m;
  auto n = inline_constant_if(im.b.m);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 1);
  // Add now writes y directly; z copies the outer x through an Identity.
  EXPECT_EQ(op_types(im.b.m.graph), (std::vector<std::string>{"Add", "Identity", "Relu"}));
  EXPECT_EQ(im.b.m.graph.nodes[0].outputs, std::vector<int>{im.y});
  EXPECT_EQ(im.b.m.graph.nodes[1].inputs, std::vector<int>{im.x});
  EXPECT_EQ(im.b.m.graph.nodes[1].outputs, std::vector<int>{im.z});
  ASSERT_TRUE(validate_and_sort(im.b.m).ok());
  const std::vector<float> x = {-3.f, 0.5f, 2.f};
  EXPECT_EQ(run(before, x, "out"), (std::vector<float>{0.f, 1.5f, 3.f}));
  EXPECT_EQ(run(im.b.m, x, "out"), (std::vector<float>{0.f, 1.5f, 3.f}));
  EXPECT_EQ(run(im.b.m, x, "z"), x);
}

TEST(InlineConstantIf, ElseBranchReplacesTheIf) {
  IfModel im(false);
  ASSERT_TRUE(validate_and_sort(im.b.m).ok());
  auto n = inline_constant_if(im.b.m);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(op_types(im.b.m.graph), (std::vector<std::string>{"Neg", "Mul", "Relu"}));
  ASSERT_TRUE(validate_and_sort(im.b.m).ok());
  const std::vector<float> x = {-3.f, 0.5f, 2.f};
  EXPECT_EQ(run(im.b.m, x, "out"), (std::vector<float>{3.f, 0.f, 0.f}));
  EXPECT_EQ(run(im.b.m, x, "z"), (std::vector<float>{9.f, 0.25f, 4.f}));
}

TEST(InlineConstantIf, RuntimeConditionsAndNestedIfs) {
  // An If on a run-time input stays; a constant If nested in its then branch is inlined.
  Builder b;
  int x = b.input("x", {2});
  int cond = b.value("cond", DType::kBool);
  b.m.values[static_cast<size_t>(cond)].shape = Shape{};
  b.m.graph.inputs.push_back(cond);
  int k = b.bool_constant("k", false);
  auto inner_then = std::make_shared<Graph>(), inner_else = std::make_shared<Graph>();
  int it = b.value("it"), ie = b.value("ie");
  b.node(*inner_then, "Neg", {x}, {it});
  inner_then->outputs = {it};
  b.node(*inner_else, "Relu", {x}, {ie});
  inner_else->outputs = {ie};
  auto outer_then = std::make_shared<Graph>(), outer_else = std::make_shared<Graph>();
  int inner = b.value("inner");
  Node& in = b.node(*outer_then, "If", {k}, {inner});
  in.attrs["then_branch"] = graph_attr(inner_then);
  in.attrs["else_branch"] = graph_attr(inner_else);
  outer_then->outputs = {inner};
  outer_else->outputs = {x};
  int y = b.value("y");
  Node& out = b.node(b.m.graph, "If", {cond}, {y});
  out.attrs["then_branch"] = graph_attr(outer_then);
  out.attrs["else_branch"] = graph_attr(outer_else);
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  auto n = inline_constant_if(b.m);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(op_types(b.m.graph), std::vector<std::string>{"If"});
  EXPECT_EQ(op_types(*outer_then), std::vector<std::string>{"Relu"});
  EXPECT_EQ(outer_then->nodes[0].outputs, std::vector<int>{inner});
  ASSERT_TRUE(validate_and_sort(b.m).ok());
}

}  // namespace
}  // namespace kiln
