// Graph IR: a model owns one table of values; the main graph and every subgraph
// (If/Loop branches) refer to values by index, so a subgraph sees outer-scope values
// naturally. Constants (weights) are values with `data` set.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace kiln {

// One dimension of a declared shape: a fixed size, or a symbolic one ("batch"), or unknown.
struct Dim {
  int64_t size = -1;    // >= 0 when fixed
  std::string param;    // symbolic name when size < 0 (may be empty: unknown)
  bool fixed() const { return size >= 0; }
};
using Shape = std::vector<Dim>;
std::string shape_to_string(const Shape& s);  // "[batch,3,48,?]"
Shape shape_from_dims(const Dims& d);
bool shape_is_fixed(const Shape& s);
Dims shape_dims(const Shape& s);  // -1 for non-fixed dims

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  std::optional<Shape> shape;  // nullopt: rank unknown
  std::optional<Tensor> data;  // set for constants / initializers
  bool is_constant() const { return data.has_value(); }
};

struct Graph;

struct Attribute {
  enum class Kind : uint8_t { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  Tensor t;
  std::shared_ptr<Graph> g;
};
const char* attribute_kind_name(Attribute::Kind k);

constexpr int kNoValue = -1;  // an omitted optional input/output

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" = ai.onnx
  std::vector<int> inputs;   // value indices, kNoValue for omitted optionals
  std::vector<int> outputs;
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& n) const { return attrs.count(n) != 0; }
  // Typed attribute access; a present attribute of the wrong kind is an error.
  Result<int64_t> attr_int(const std::string& n, std::optional<int64_t> def = std::nullopt) const;
  Result<float> attr_float(const std::string& n, std::optional<float> def = std::nullopt) const;
  Result<std::string> attr_string(const std::string& n, std::optional<std::string> def = std::nullopt) const;
  Result<std::vector<int64_t>> attr_ints(const std::string& n,
                                         std::optional<std::vector<int64_t>> def = std::nullopt) const;
  Result<std::vector<float>> attr_floats(const std::string& n,
                                         std::optional<std::vector<float>> def = std::nullopt) const;
  const Attribute* attr(const std::string& n) const;
  // "node 'conv_1' (Conv)" — the prefix for every error about this node.
  std::string describe() const;
  int num_inputs() const;  // count, ignoring trailing omitted optionals
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;     // topologically sorted once validated
  std::vector<int> inputs;     // runtime inputs (not constants)
  std::vector<int> outputs;
};

struct Model {
  std::vector<Value> values;
  Graph graph;
  int64_t opset = 0;  // default-domain opset the graph was written against
  std::string producer;
  std::string source_sha256;  // hex of the file it was converted from
  std::vector<std::pair<std::string, std::string>> metadata;

  int add_value(Value v);
  int find_value(const std::string& name) const;  // -1 if absent (linear; use for tools)
  std::string metadata_value(const std::string& key) const;
};

// Checks index ranges, that every value is produced once, and sorts nodes topologically
// (including nodes in subgraphs). Names the first offending node.
Status validate_and_sort(Model& model);

// Counts of op types over the graph and all subgraphs.
std::map<std::string, int> op_histogram(const Model& model);

}  // namespace kiln
