// kiln convert --input-shape: parsing, pinning, binding symbolic names, and errors.
#include <gtest/gtest.h>

#include "graph/input_shapes.h"
#include "graph/passes/fold_constants.h"

namespace kiln {
namespace {

InputShapeSpec spec(const std::string& text) { return parse_input_shape(text).value(); }

Model two_input_model() {
  Model m;
  m.opset = 17;
  Value x{"x", DType::kF32, Shape{Dim{-1, "batch"}, Dim{3, ""}, Dim{-1, "len"}}, std::nullopt};
  Value y{"y", DType::kF32, Shape{Dim{-1, "batch"}, Dim{-1, ""}}, std::nullopt};
  m.graph.inputs = {m.add_value(x), m.add_value(y)};
  return m;
}

TEST(InputShapes, Parses) {
  auto s = parse_input_shape("x=1,3,?,len");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->input, "x");
  EXPECT_EQ(shape_to_string(s->shape), "[1,3,?,len]");
  EXPECT_FALSE(parse_input_shape("x").ok());
  EXPECT_FALSE(parse_input_shape("x=1,,3").ok());
  EXPECT_FALSE(parse_input_shape("x=1,3a").ok());
  EXPECT_FALSE(parse_input_shape("x=99999999999999999").ok());
}

TEST(InputShapes, PinsAndBindsNames) {
  Model m = two_input_model();
  ASSERT_TRUE(pin_input_shapes(m, {spec("x=2,3,?")}).ok());
  EXPECT_EQ(shape_to_string(*m.values[0].shape), "[2,3,len]");
  EXPECT_EQ(shape_to_string(*m.values[1].shape), "[2,?]");  // 'batch' bound in y too
}

TEST(InputShapes, RejectsContradictions) {
  Model m = two_input_model();
  Status s = pin_input_shapes(m, {spec("z=1")});
  EXPECT_NE(s.message().find("no input 'z' (inputs: 'x', 'y')"), std::string::npos) << s.message();
  s = pin_input_shapes(m, {spec("x=1,3")});
  EXPECT_NE(s.message().find("rank 3"), std::string::npos) << s.message();
  s = pin_input_shapes(m, {spec("x=1,4,5")});
  EXPECT_NE(s.message().find("fixed at 3"), std::string::npos) << s.message();
  s = pin_input_shapes(m, {spec("x=1,3,5"), spec("y=2,7")});
  EXPECT_NE(s.message().find("'batch' is pinned to both 1 and 2"), std::string::npos) << s.message();
}

TEST(InputShapes, PinnedShapesLetFoldingResolveShapeArithmetic) {
  // x[batch,3] -> Shape -> (folded to a constant once batch is pinned).
  Model m;
  m.opset = 17;
  int x = m.add_value(Value{"x", DType::kF32, Shape{Dim{-1, "batch"}, Dim{3, ""}}, std::nullopt});
  int sh = m.add_value(Value{"s", DType::kI64, std::nullopt, std::nullopt});
  Node n;
  n.name = "shape";
  n.op_type = "Shape";
  n.inputs = {x};
  n.outputs = {sh};
  m.graph.nodes.push_back(n);
  m.graph.inputs = {x};
  m.graph.outputs = {sh};
  Model pinned = m;
  ASSERT_TRUE(fold_constants(m, {}, nullptr).ok());
  EXPECT_EQ(m.graph.nodes.size(), 1u);  // batch unknown: Shape stays
  ASSERT_TRUE(pin_input_shapes(pinned, {spec("x=4,3")}).ok());
  ASSERT_TRUE(fold_constants(pinned, {}, nullptr).ok());
  EXPECT_EQ(pinned.graph.nodes.size(), 0u);
  ASSERT_TRUE(pinned.values[static_cast<size_t>(pinned.graph.outputs[0])].data.has_value());
  EXPECT_EQ(pinned.values[static_cast<size_t>(pinned.graph.outputs[0])].data->get_i64(0), 4);
}

}  // namespace
}  // namespace kiln
