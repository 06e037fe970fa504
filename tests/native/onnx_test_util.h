// Builders for small ONNX models in tests (protobuf API, no files from Python).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include <onnx/onnx_pb.h>

namespace kiln::testing {

inline onnx::ModelProto onnx_model(int64_t opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("kiln-test");
  m.set_producer_version("1.0");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  m.mutable_graph()->set_name("main");
  return m;
}

// A tensor value_info; dims > 0 are fixed, names are symbolic ("" = unknown).
struct D {
  int64_t size = -1;
  std::string param;
  D(int64_t s) : size(s) {}                  // NOLINT
  D(const char* p) : param(p) {}             // NOLINT
};
inline void set_type(onnx::ValueInfoProto* vi, const std::string& name, int elem, std::initializer_list<D> dims,
                     bool has_shape = true) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  if (!has_shape) return;
  auto* shape = tt->mutable_shape();
  for (const D& d : dims) {
    auto* dim = shape->add_dim();
    if (d.size >= 0) dim->set_dim_value(d.size);
    else if (!d.param.empty()) dim->set_dim_param(d.param);
  }
}
inline void add_input(onnx::GraphProto* g, const std::string& name, int elem, std::initializer_list<D> dims) {
  set_type(g->add_input(), name, elem, dims);
}
inline void add_output(onnx::GraphProto* g, const std::string& name, int elem, std::initializer_list<D> dims) {
  set_type(g->add_output(), name, elem, dims);
}

inline onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> in,
                                 std::initializer_list<std::string> out, const std::string& name = "",
                                 const std::string& domain = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  if (!domain.empty()) n->set_domain(domain);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  return n;
}

inline onnx::AttributeProto* add_attr(onnx::NodeProto* n, const std::string& name,
                                      onnx::AttributeProto::AttributeType type) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(type);
  return a;
}
inline void attr_int(onnx::NodeProto* n, const std::string& name, int64_t v) {
  add_attr(n, name, onnx::AttributeProto::INT)->set_i(v);
}
inline void attr_ints(onnx::NodeProto* n, const std::string& name, std::initializer_list<int64_t> v) {
  auto* a = add_attr(n, name, onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

// Float tensor stored either as raw_data or in float_data.
inline void fill_f32(onnx::TensorProto* t, const std::string& name, std::initializer_list<int64_t> dims,
                     const std::vector<float>& v, bool raw = true) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  if (raw) t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  else
    for (float x : v) t->add_float_data(x);
}
inline void fill_i64(onnx::TensorProto* t, const std::string& name, std::initializer_list<int64_t> dims,
                     const std::vector<int64_t>& v, bool raw = false) {
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  if (raw) t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int64_t)));
  else
    for (int64_t x : v) t->add_int64_data(x);
}

inline std::string serialize(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// A scratch path under the system temp dir, unique per process (ctest runs tests in parallel).
inline std::string temp_path(const std::string& leaf) {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/kiln_test_" + std::to_string(getpid()) + "_" + leaf;
}

inline bool write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(f);
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace kiln::testing
