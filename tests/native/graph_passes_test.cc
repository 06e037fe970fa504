// Shape inference, constant folding and dead-node elimination on tiny graphs:
// before/after checks of the IR, plus a run through Session showing folding keeps results.
#include <gtest/gtest.h>

#include "graph/passes/eliminate_dead.h"
#include "graph/passes/fold_constants.h"
#include "graph/shape_inference.h"
#include "runtime/session.h"

namespace kiln {
namespace {

// Builds IR models directly (independent of the ONNX importer).
struct Builder {
  Model m;
  Builder() { m.opset = 17; }
  int input(const std::string& name, DType dt, Shape shape) {
    Value v;
    v.name = name;
    v.dtype = dt;
    v.shape = std::move(shape);
    int i = m.add_value(std::move(v));
    m.graph.inputs.push_back(i);
    return i;
  }
  int constant(const std::string& name, Tensor t) {
    Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.shape = shape_from_dims(t.dims());
    v.data = std::move(t);
    return m.add_value(std::move(v));
  }
  int value(const std::string& name) {
    Value v;
    v.name = name;
    return m.add_value(std::move(v));
  }
  // Adds a node producing a new value named `out`; returns that value.
  int node(const std::string& op, std::vector<int> ins, const std::string& out, Graph* g = nullptr) {
    int o = value(out);
    Node n;
    n.name = out + "_node";
    n.op_type = op;
    n.inputs = std::move(ins);
    n.outputs = {o};
    (g ? g : &m.graph)->nodes.push_back(std::move(n));
    return o;
  }
  Node& last(Graph* g = nullptr) { return (g ? g : &m.graph)->nodes.back(); }
  const Value& v(int i) const { return m.values[static_cast<size_t>(i)]; }
};

Shape fixed(Dims d) { return shape_from_dims(d); }
Attribute int_attr(int64_t i) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = i;
  return a;
}
Dim sym(const char* p) { return Dim{-1, p}; }

TEST(ShapeInference, FixedShapesPropagate) {
  Builder b;
  int x = b.input("x", DType::kF32, fixed({2, 3}));
  int w = b.constant("w", Tensor::from_f32({1, 2, 3}, {3}));
  int r = b.node("Relu", {x}, "r");
  int a = b.node("Add", {r, w}, "a");
  int shape = b.constant("shape", Tensor::from_i64({3, 2}, {2}));
  int y = b.node("Reshape", {a, shape}, "y");
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  EXPECT_FALSE(b.v(y).shape.has_value());
  ASSERT_TRUE(infer_shapes(b.m).ok());
  EXPECT_EQ(b.v(r).dtype, DType::kF32);
  EXPECT_EQ(shape_to_string(*b.v(a).shape), "[2,3]");
  ASSERT_TRUE(b.v(y).shape.has_value());
  EXPECT_EQ(shape_to_string(*b.v(y).shape), "[3,2]");
  EXPECT_EQ(b.v(y).dtype, DType::kF32);
}

TEST(ShapeInference, SymbolicDimsGiveDtypeOnly) {
  Builder b;
  int x = b.input("x", DType::kF32, {sym("batch"), Dim{3, ""}});
  int r = b.node("Relu", {x}, "r");
  int s = b.node("Shape", {x}, "s");  // x has a declared rank, r does not
  b.m.graph.outputs = {r, s};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  ASSERT_TRUE(infer_shapes(b.m).ok());
  EXPECT_EQ(b.v(r).dtype, DType::kF32);
  EXPECT_FALSE(b.v(r).shape.has_value());  // the batch size is not known
  EXPECT_EQ(b.v(s).dtype, DType::kI64);
}

TEST(ShapeInference, UnknownInputsLeaveValuesUnknown) {
  Builder b;
  int x = b.input("x", DType::kUndefined, fixed({2}));
  int r = b.node("Relu", {x}, "r");
  b.m.graph.outputs = {r};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  ASSERT_TRUE(infer_shapes(b.m).ok());
  EXPECT_EQ(b.v(r).dtype, DType::kUndefined);
  EXPECT_FALSE(b.v(r).shape.has_value());
}

TEST(ShapeInference, ImpossibleShapesAreModelErrors) {
  Builder b;
  int x = b.input("x", DType::kF32, fixed({2, 3}));
  int c = b.constant("c", Tensor::from_f32({1, 2, 3, 4}, {4}));
  int y = b.node("Add", {x, c}, "bad_add");
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  Status s = infer_shapes(b.m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad_add_node"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[2,3]"), std::string::npos) << s.message();
}

TEST(ShapeInference, IfMergesBranchResults) {
  Builder b;
  int cond = b.input("cond", DType::kBool, {});
  int x = b.input("x", DType::kF32, fixed({4}));
  auto then_g = std::make_shared<Graph>();
  auto else_g = std::make_shared<Graph>();
  int t = b.node("Relu", {x}, "t", then_g.get());
  then_g->outputs = {t};
  int e = b.node("Neg", {x}, "e", else_g.get());
  else_g->outputs = {e};
  int y = b.node("If", {cond}, "y");
  Attribute ta, ea;
  ta.kind = ea.kind = Attribute::Kind::kGraph;
  ta.g = then_g;
  ea.g = else_g;
  b.last().attrs["then_branch"] = ta;
  b.last().attrs["else_branch"] = ea;
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  ASSERT_TRUE(infer_shapes(b.m).ok());
  EXPECT_EQ(shape_to_string(*b.v(t).shape), "[4]");
  EXPECT_EQ(b.v(y).dtype, DType::kF32);
  ASSERT_TRUE(b.v(y).shape.has_value());
  EXPECT_EQ(shape_to_string(*b.v(y).shape), "[4]");
}

TEST(FoldConstants, ChainsOfConstantsFold) {
  Builder b;
  int x = b.input("x", DType::kF32, fixed({3}));
  int c1 = b.constant("c1", Tensor::from_f32({1, -2, 3}, {3}));
  int c2 = b.constant("c2", Tensor::from_f32({0.5f, 0.5f, -10}, {3}));
  int s = b.node("Add", {c1, c2}, "s");   // [1.5, -1.5, -7]
  int r = b.node("Relu", {s}, "r");       // [1.5, 0, 0]
  int y = b.node("Mul", {x, r}, "y");
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  FoldStats stats;
  ASSERT_TRUE(fold_constants(b.m, {}, &stats).ok());
  EXPECT_EQ(stats.folded_nodes, 2);
  ASSERT_EQ(b.m.graph.nodes.size(), 1u);
  const Node& mul = b.m.graph.nodes[0];
  EXPECT_EQ(mul.op_type, "Mul");
  const Value& folded = b.m.values[mul.inputs[1]];
  ASSERT_TRUE(folded.is_constant());
  EXPECT_EQ(folded.name, "r");
  EXPECT_EQ(folded.data->data<float>()[0], 1.5f);
  EXPECT_EQ(folded.data->data<float>()[1], 0.f);
  EXPECT_EQ(folded.data->data<float>()[2], 0.f);
  // c1, c2 and s are no longer used: compacted away.
  EXPECT_EQ(stats.removed_values, 3);
  EXPECT_EQ(b.m.values.size(), 3u);
  EXPECT_EQ(b.m.find_value("c1"), -1);
  EXPECT_EQ(b.m.values[b.m.graph.outputs[0]].name, "y");
  EXPECT_EQ(shape_to_string(*b.m.values[b.m.graph.outputs[0]].shape), "[3]");
  EXPECT_TRUE(validate_and_sort(b.m).ok());
}

// x[2,3,4] -> Reshape(x, Concat(Gather(Shape(x), 0), [-1])) : the shape computation
// folds away when x's shape is fixed, and stays when the batch is symbolic.
Builder shape_chain(Shape x_shape) {
  Builder b;
  int x = b.input("x", DType::kF32, std::move(x_shape));
  b.constant("unused_weight", Tensor::from_f32({1, 2}, {2}));
  int sh = b.node("Shape", {x}, "sh");
  int zero = b.constant("zero", Tensor::from_i64({0}, {1}));
  int first = b.node("Gather", {sh, zero}, "first");
  b.last().attrs["axis"] = int_attr(0);
  int minus1 = b.constant("minus1", Tensor::from_i64({-1}, {1}));
  int target = b.node("Concat", {first, minus1}, "target");
  b.last().attrs["axis"] = int_attr(0);
  int y = b.node("Reshape", {x, target}, "y");
  b.m.graph.outputs = {y};
  EXPECT_TRUE(validate_and_sort(b.m).ok());
  return b;
}

TEST(FoldConstants, ShapeOfFixedValueFolds) {
  Builder b = shape_chain(fixed({2, 3, 4}));
  FoldStats stats;
  ASSERT_TRUE(fold_constants(b.m, {}, &stats).ok());
  ASSERT_EQ(b.m.graph.nodes.size(), 1u);
  const Node& reshape = b.m.graph.nodes[0];
  EXPECT_EQ(reshape.op_type, "Reshape");
  const Value& target = b.m.values[reshape.inputs[1]];
  ASSERT_TRUE(target.is_constant());
  EXPECT_EQ(target.data->dtype(), DType::kI64);
  ASSERT_EQ(target.data->size(), 2);
  EXPECT_EQ(target.data->data<int64_t>()[0], 2);
  EXPECT_EQ(target.data->data<int64_t>()[1], -1);
  EXPECT_EQ(stats.folded_nodes, 3);
  EXPECT_EQ(b.m.find_value("unused_weight"), -1);
  const Value& y = b.m.values[b.m.graph.outputs[0]];
  ASSERT_TRUE(y.shape.has_value());
  EXPECT_EQ(shape_to_string(*y.shape), "[2,12]");
}

TEST(FoldConstants, ShapeOfSymbolicValueStays) {
  Builder b = shape_chain({sym("batch"), Dim{3, ""}, Dim{4, ""}});
  FoldStats stats;
  ASSERT_TRUE(fold_constants(b.m, {}, &stats).ok());
  EXPECT_EQ(stats.folded_nodes, 0);
  EXPECT_EQ(b.m.graph.nodes.size(), 4u);
  EXPECT_EQ(b.m.find_value("unused_weight"), -1);  // dead values still go
}

TEST(FoldConstants, ShapeStartEndAttributes) {
  Builder b;
  int x = b.input("x", DType::kF32, fixed({2, 3, 4, 5}));
  int sh = b.node("Shape", {x}, "sh");
  b.last().attrs["start"] = int_attr(1);
  b.last().attrs["end"] = int_attr(-1);
  b.m.graph.outputs = {sh};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  ASSERT_TRUE(fold_constants(b.m).ok());
  EXPECT_TRUE(b.m.graph.nodes.empty());
  const Value& v = b.m.values[b.m.graph.outputs[0]];
  ASSERT_TRUE(v.is_constant());
  ASSERT_EQ(v.data->size(), 2);
  EXPECT_EQ(v.data->data<int64_t>()[0], 3);
  EXPECT_EQ(v.data->data<int64_t>()[1], 4);
}

TEST(FoldConstants, LargeOutputsStayComputed) {
  Builder b;
  int x = b.input("x", DType::kF32, fixed({1}));
  int shape = b.constant("shape", Tensor::from_i64({1024, 1024}, {2}));
  int big = b.node("ConstantOfShape", {shape}, "big");
  int y = b.node("Add", {big, x}, "y");
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  FoldStats stats;
  ASSERT_TRUE(fold_constants(b.m, {}, &stats).ok());  // 16 bytes in, 4 MiB out: would grow the file
  EXPECT_EQ(stats.folded_nodes, 0);
  EXPECT_EQ(b.m.graph.nodes.size(), 2u);
  FoldOptions o;
  o.allow_growth = true;
  o.max_output_bytes = 1 << 20;  // the zeros take 4 MiB
  ASSERT_TRUE(fold_constants(b.m, o, &stats).ok());
  EXPECT_EQ(stats.folded_nodes, 0);
  o.max_output_bytes = 8 << 20;
  ASSERT_TRUE(fold_constants(b.m, o, &stats).ok());
  EXPECT_EQ(stats.folded_nodes, 1);
  ASSERT_EQ(b.m.graph.nodes.size(), 1u);
  const Value& zeros = b.m.values[b.m.graph.nodes[0].inputs[0]];
  ASSERT_TRUE(zeros.is_constant());
  EXPECT_EQ(dims_to_string(zeros.data->dims()), "[1024,1024]");
  EXPECT_EQ(zeros.data->data<float>()[1024 * 1024 - 1], 0.f);
}

TEST(FoldConstants, WidenedWeightsStayCompact) {
  // Cast fp16 -> fp32 of a weight would double its bytes: kept for run time, while a
  // small one (under small_output_bytes) still folds.
  Builder b;
  int x = b.input("x", DType::kF32, fixed({600}));
  Tensor h = Tensor::make(DType::kF16, {600}).value();
  int big = b.constant("big", h);
  int small = b.constant("small", Tensor::make(DType::kF16, {4}).value());
  int cb = b.node("Cast", {big}, "cast_big");
  b.last().attrs["to"] = int_attr(1);
  int cs = b.node("Cast", {small}, "cast_small");
  b.last().attrs["to"] = int_attr(1);
  int y = b.node("Add", {x, cb}, "y");
  b.m.graph.outputs = {y, cs};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  FoldStats stats;
  ASSERT_TRUE(fold_constants(b.m, {}, &stats).ok());
  EXPECT_EQ(stats.folded_nodes, 1);
  EXPECT_TRUE(b.m.values[b.m.graph.outputs[1]].is_constant());
  EXPECT_EQ(b.m.values[b.m.graph.outputs[1]].data->dtype(), DType::kF32);
  EXPECT_EQ(b.m.graph.nodes.size(), 2u);  // Cast(big) and Add
}

TEST(FoldConstants, FoldedModelComputesTheSame) {
  auto make = [] {
    Builder b;
    int x = b.input("x", DType::kF32, {sym("n"), Dim{3, ""}});
    int c1 = b.constant("c1", Tensor::from_f32({1, 2, 3}, {3}));
    int c2 = b.constant("c2", Tensor::from_f32({4, 5, 6}, {3}));
    int p = b.node("Mul", {c1, c2}, "p");  // [4, 10, 18]
    int n = b.node("Neg", {p}, "n");       // [-4, -10, -18]
    int y = b.node("Add", {x, n}, "y");
    b.m.graph.outputs = {y};
    EXPECT_TRUE(validate_and_sort(b.m).ok());
    return b.m;
  };
  Model original = make(), folded = make();
  ASSERT_TRUE(fold_constants(folded).ok());
  ASSERT_EQ(folded.graph.nodes.size(), 1u);
  ASSERT_EQ(original.graph.nodes.size(), 3u);
  for (Model* m : {&original, &folded}) {
    auto s = Session::create(std::move(*m));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    auto out = (*s)->run({{"x", Tensor::from_f32({1, 1, 1, 2, 2, 2}, {2, 3})}});
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    const float want[] = {-3, -9, -17, -2, -8, -16};
    const Tensor& y = out->at("y");
    ASSERT_EQ(y.size(), 6);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<float>()[i], want[i]);
  }
}

TEST(EliminateDead, UnusedNodesGoCapturedOnesStay) {
  Builder b;
  int cond = b.input("cond", DType::kBool, {});
  int x = b.input("x", DType::kF32, fixed({2}));
  int unused_in = b.input("unused_in", DType::kF32, fixed({2}));
  int dead = b.node("Neg", {x}, "dead");
  b.node("Relu", {dead}, "dead2");
  int captured = b.node("Relu", {x}, "captured");  // used only inside a branch
  auto then_g = std::make_shared<Graph>();
  auto else_g = std::make_shared<Graph>();
  int t = b.node("Neg", {captured}, "t", then_g.get());
  b.node("Abs", {captured}, "branch_dead", then_g.get());
  then_g->outputs = {t};
  else_g->outputs = {x};
  int y = b.node("If", {cond}, "y");
  Attribute ta, ea;
  ta.kind = ea.kind = Attribute::Kind::kGraph;
  ta.g = then_g;
  ea.g = else_g;
  b.last().attrs["then_branch"] = ta;
  b.last().attrs["else_branch"] = ea;
  b.m.graph.outputs = {y};
  ASSERT_TRUE(validate_and_sort(b.m).ok());
  DeadStats stats;
  ASSERT_TRUE(eliminate_dead(b.m, &stats).ok());
  EXPECT_EQ(stats.removed_nodes, 3);  // dead, dead2, branch_dead
  EXPECT_EQ(stats.removed_values, 3);
  ASSERT_EQ(b.m.graph.nodes.size(), 2u);
  EXPECT_EQ(b.m.values[b.m.graph.nodes[0].outputs[0]].name, "captured");
  EXPECT_EQ(b.m.graph.nodes[1].op_type, "If");
  const Graph& tg = *b.m.graph.nodes[1].attrs.at("then_branch").g;
  ASSERT_EQ(tg.nodes.size(), 1u);
  EXPECT_EQ(b.m.values[tg.nodes[0].inputs[0]].name, "captured");
  EXPECT_EQ(b.m.values[tg.outputs[0]].name, "t");
  ASSERT_EQ(b.m.graph.inputs.size(), 3u);  // the interface is kept
  EXPECT_EQ(b.m.values[b.m.graph.inputs[2]].name, "unused_in");
  (void)unused_in;
  EXPECT_TRUE(validate_and_sort(b.m).ok());
}

}  // namespace
}  // namespace kiln
