// Shared by the .kiln format tests: a model using every feature of the format,
// exact comparison, and helpers to look inside written files.
#pragma once
#include <gtest/gtest.h>

#include <cstring>

#include "core/half.h"
#include "format/model_generated.h"
#include "format/model_io.h"

namespace kiln::format_test {

using Bytes = std::shared_ptr<const std::vector<uint8_t>>;
inline Bytes share(std::vector<uint8_t> v) { return std::make_shared<const std::vector<uint8_t>>(std::move(v)); }

// ---------------------------------------------------------------- test model

inline Tensor make_tensor(DType dt, Dims dims, const void* src) {
  Tensor t = Tensor::make(dt, std::move(dims)).value();
  if (t.bytes()) std::memcpy(t.mutable_raw(), src, t.bytes());
  return t;
}

inline Attribute attr_int(int64_t v) { Attribute a; a.kind = Attribute::Kind::kInt; a.i = v; return a; }

// A model exercising every feature of the format. `big` adds weights large enough
// to spread over several segments.
inline Model make_model(bool big = false) {
  Model m;
  m.opset = 17;
  m.producer = "kiln-test 0.1";
  m.source_sha256 = std::string(64, 'a');
  m.metadata = {{"task", "ocr"}, {"vocab", std::string("a\0b", 3)}, {"task", "duplicate keys keep order"}};

  int x = m.add_value({"x", DType::kF32, Shape{{-1, "batch"}, {3, ""}, {-1, ""}}, std::nullopt});
  std::vector<float> wv(big ? 3 * 2000 : 12);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(i) * 0.5f - 3.0f;
  Dims wd = {3, static_cast<int64_t>(wv.size() / 3)};
  int w = m.add_value({"w", DType::kF32, shape_from_dims(wd), make_tensor(DType::kF32, wd, wv.data())});
  std::vector<int64_t> iv = {-5, int64_t{1} << 40, 7};
  int idx = m.add_value({"idx", DType::kI64, shape_from_dims({3}), make_tensor(DType::kI64, {3}, iv.data())});
  std::vector<uint16_t> hv = {float_to_half(1.5f), float_to_half(-2.0f), float_to_half(65504.f), 0x7e00, 1};
  int h = m.add_value({"h", DType::kF16, shape_from_dims({5}), make_tensor(DType::kF16, {5}, hv.data())});
  uint8_t u8v[3] = {1, 2, 255};
  int u8 = m.add_value({"u8c", DType::kU8, std::nullopt, make_tensor(DType::kU8, {3}, u8v)});
  int empty = m.add_value({"empty", DType::kF32, shape_from_dims({0, 4}), make_tensor(DType::kF32, {0, 4}, nullptr)});
  int32_t sv = 7;
  int scal = m.add_value({"scalar", DType::kI32, Shape{}, make_tensor(DType::kI32, {}, &sv)});
  std::vector<double> dv(big ? 5000 : 2, 3.25);
  int dbl = m.add_value({"dbl", DType::kUndefined, std::nullopt,
                         make_tensor(DType::kF64, {static_cast<int64_t>(dv.size())}, dv.data())});
  int y = m.add_value({"y", DType::kF32, std::nullopt, std::nullopt});
  int cond = m.add_value({"cond", DType::kBool, Shape{}, std::nullopt});
  int then_out = m.add_value({"then_out", DType::kF32, Shape{{-1, "batch"}, {4, "four"}}, std::nullopt});
  int else_out = m.add_value({"else_out", DType::kF32, std::nullopt, std::nullopt});
  int inner_out = m.add_value({"inner_out", DType::kF32, std::nullopt, std::nullopt});
  int z = m.add_value({"z", DType::kF32, std::nullopt, std::nullopt});
  int c = m.add_value({"c", DType::kF32, std::nullopt, std::nullopt});
  m.add_value({"names", DType::kString, shape_from_dims({2}), std::nullopt});  // unused, declared only

  Node mm{"mm", "MatMul", "", {x, w}, {y}, {}};
  Attribute a;
  mm.attrs["i"] = attr_int(-(int64_t{1} << 50));
  a = {}; a.kind = Attribute::Kind::kFloat; a.f = -0.0f; mm.attrs["f"] = a;
  a = {}; a.kind = Attribute::Kind::kString; a.s = std::string("with\0nul", 8); mm.attrs["s"] = a;
  a = {}; a.kind = Attribute::Kind::kString; mm.attrs["s_empty"] = a;
  a = {}; a.kind = Attribute::Kind::kInts; a.ints = {1, -1, INT64_MAX, INT64_MIN}; mm.attrs["ints"] = a;
  a = {}; a.kind = Attribute::Kind::kInts; mm.attrs["ints_empty"] = a;
  a = {}; a.kind = Attribute::Kind::kFloats; a.floats = {1.5f, 1e-30f, -7.f}; mm.attrs["floats"] = a;
  a = {}; a.kind = Attribute::Kind::kStrings; a.strings = {"NCHW", "", "x"}; mm.attrs["strings"] = a;
  std::vector<uint16_t> th = {float_to_half(0.25f), float_to_half(4.0f)};
  a = {}; a.kind = Attribute::Kind::kTensor; a.t = make_tensor(DType::kF16, {2, 1}, th.data()); mm.attrs["t"] = a;

  Node clip{"clip", "Clip", "", {y, kNoValue, scal}, {c, kNoValue}, {}};

  // If with two branches; the else branch holds a nested If and a tensor attribute.
  auto then_g = std::make_shared<Graph>();
  then_g->name = "then";
  then_g->nodes.push_back(Node{"then_id", "Identity", "", {c}, {then_out}, {}});
  then_g->outputs = {then_out};

  auto inner = std::make_shared<Graph>();
  inner->name = "inner";
  inner->nodes.push_back(Node{"inner_relu", "Relu", "", {y}, {inner_out}, {}});
  inner->outputs = {inner_out};
  auto else_g = std::make_shared<Graph>();
  else_g->name = "else";
  Node nested{"nested_if", "If", "", {cond}, {else_out}, {}};
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = inner; nested.attrs["then_branch"] = a;
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = inner; nested.attrs["else_branch"] = a;  // shared in memory
  std::vector<int64_t> tv = {42};
  a = {}; a.kind = Attribute::Kind::kTensor; a.t = make_tensor(DType::kI64, {1}, tv.data()); nested.attrs["tag"] = a;
  else_g->nodes.push_back(nested);
  else_g->outputs = {else_out};

  Node iff{"if", "If", "", {cond}, {z}, {}};
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = then_g; iff.attrs["then_branch"] = a;
  a = {}; a.kind = Attribute::Kind::kGraph; a.g = else_g; iff.attrs["else_branch"] = a;

  Node custom{"custom", "Fancy", "com.example", {idx, h, u8, empty, dbl}, {}, {}};
  custom.attrs["mode"] = attr_int(3);

  m.graph.name = "main";
  m.graph.nodes = {mm, clip, iff, custom};
  m.graph.inputs = {x, cond};
  m.graph.outputs = {z, y};
  EXPECT_TRUE(validate_and_sort(m).ok());
  return m;
}

// ---------------------------------------------------------------- comparison

inline void expect_tensor_eq(const Tensor& a, const Tensor& b, const std::string& where) {
  ASSERT_EQ(a.dtype(), b.dtype()) << where;
  ASSERT_EQ(a.dims(), b.dims()) << where;
  ASSERT_EQ(a.bytes(), b.bytes()) << where;
  if (a.bytes()) {
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.bytes()), 0) << where;
  }
}

inline void expect_graph_eq(const Graph& a, const Graph& b);

inline void expect_attr_eq(const Attribute& a, const Attribute& b, const std::string& where) {
  ASSERT_EQ(a.kind, b.kind) << where;
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::kInt: EXPECT_EQ(a.i, b.i) << where; break;
    case K::kFloat: EXPECT_EQ(std::memcmp(&a.f, &b.f, 4), 0) << where; break;  // bitwise: -0.0 stays -0.0
    case K::kString: EXPECT_EQ(a.s, b.s) << where; break;
    case K::kInts: EXPECT_EQ(a.ints, b.ints) << where; break;
    case K::kFloats: EXPECT_EQ(a.floats, b.floats) << where; break;
    case K::kStrings: EXPECT_EQ(a.strings, b.strings) << where; break;
    case K::kTensor: expect_tensor_eq(a.t, b.t, where); break;
    case K::kGraph: ASSERT_TRUE(a.g && b.g) << where; expect_graph_eq(*a.g, *b.g); break;
  }
}

inline void expect_graph_eq(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.inputs, b.inputs) << a.name;
  EXPECT_EQ(a.outputs, b.outputs) << a.name;
  ASSERT_EQ(a.nodes.size(), b.nodes.size()) << a.name;
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node &x = a.nodes[i], &y = b.nodes[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type);
    EXPECT_EQ(x.domain, y.domain);
    EXPECT_EQ(x.inputs, y.inputs) << x.name;
    EXPECT_EQ(x.outputs, y.outputs) << x.name;
    ASSERT_EQ(x.attrs.size(), y.attrs.size()) << x.name;
    for (const auto& [name, at] : x.attrs) {
      ASSERT_TRUE(y.has_attr(name)) << x.name << "." << name;
      expect_attr_eq(at, y.attrs.at(name), x.name + "." + name);
    }
  }
}

// Exact equality, except that a constant declared kUndefined takes its data's dtype.
inline void expect_model_eq(const Model& a, const Model& b) {
  EXPECT_EQ(a.opset, b.opset);
  EXPECT_EQ(a.producer, b.producer);
  EXPECT_EQ(a.source_sha256, b.source_sha256);
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    const Value &x = a.values[i], &y = b.values[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dtype == DType::kUndefined && x.data ? x.data->dtype() : x.dtype, y.dtype) << x.name;
    ASSERT_EQ(x.shape.has_value(), y.shape.has_value()) << x.name;
    if (x.shape) {
      ASSERT_EQ(x.shape->size(), y.shape->size()) << x.name;
      for (size_t d = 0; d < x.shape->size(); ++d) {
        EXPECT_EQ((*x.shape)[d].size, (*y.shape)[d].size) << x.name;
        EXPECT_EQ((*x.shape)[d].param, (*y.shape)[d].param) << x.name;
      }
    }
    ASSERT_EQ(x.data.has_value(), y.data.has_value()) << x.name;
    if (x.data) expect_tensor_eq(*x.data, *y.data, x.name);
  }
  expect_graph_eq(a.graph, b.graph);
}

inline bool inside(const void* p, const std::vector<uint8_t>& bytes) {
  auto* q = static_cast<const uint8_t*>(p);
  return q >= bytes.data() && q <= bytes.data() + bytes.size();
}

// Parses the table with the generated code (the test trusts its own writer's output).
inline const fb::Model* table_of(const std::vector<uint8_t>& bytes) { return fb::GetSizePrefixedModel(bytes.data()); }
inline uint64_t data_start_of(const std::vector<uint8_t>& bytes) {
  uint64_t table = 4 + flatbuffers::ReadScalar<uint32_t>(bytes.data());
  return (table + 63) / 64 * 64;
}

}  // namespace kiln::format_test
