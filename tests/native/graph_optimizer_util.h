// Helpers for the graph-optimizer tests: an IR builder for small graphs, and the numeric
// check every pass test runs (the model before and after the pass, run through Session
// on the same random inputs, must agree to ~1e-5).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "format/model_io.h"
#include "graph/passes/pipeline.h"
#include "graph/shape_inference.h"
#include "ops_nn_test_util.h"
#include "runtime/session.h"

namespace kiln::opt_test {

inline std::vector<float> random_values(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = lo + (hi - lo) * static_cast<float>(s >> 8) / static_cast<float>(1u << 24);
  }
  return v;
}
inline Tensor random_tensor(const Dims& d, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return Tensor::from_f32(random_values(static_cast<size_t>(num_elements(d)), seed, lo, hi), d);
}

// Attribute makers shared with the op tests.
using nntest::attr_f;
using nntest::attr_i;
using nntest::attr_ints;

struct Builder {
  Model m;
  explicit Builder(int64_t opset = 17) { m.opset = opset; }
  int input(const std::string& name, Shape shape, DType dt = DType::kF32) {
    Value v;
    v.name = name;
    v.dtype = dt;
    v.shape = std::move(shape);
    int i = m.add_value(std::move(v));
    m.graph.inputs.push_back(i);
    return i;
  }
  int input(const std::string& name, const Dims& d) { return input(name, shape_from_dims(d)); }
  int constant(const std::string& name, Tensor t) {
    Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.shape = shape_from_dims(t.dims());
    v.data = std::move(t);
    return m.add_value(std::move(v));
  }
  int c(const std::string& name, std::vector<float> v, Dims d) { return constant(name, Tensor::from_f32(v, d)); }
  int scalar(const std::string& name, float f) { return constant(name, Tensor::from_f32({f}, {})); }
  int random(const std::string& name, Dims d, uint32_t seed, float lo = -1.f, float hi = 1.f) {
    return constant(name, random_tensor(d, seed, lo, hi));
  }
  // A node producing a new value named `out`; returns that value.
  int node(const std::string& op, std::vector<int> ins, const std::string& out,
           std::map<std::string, Attribute> attrs = {}) {
    Value v;
    v.name = out;
    int o = m.add_value(std::move(v));
    Node n;
    n.name = out + "_node";
    n.op_type = op;
    n.inputs = std::move(ins);
    n.outputs = {o};
    n.attrs = std::move(attrs);
    m.graph.nodes.push_back(std::move(n));
    return o;
  }
  Model done(std::vector<int> outputs) {
    m.graph.outputs = std::move(outputs);
    EXPECT_TRUE(validate_and_sort(m).ok());
    EXPECT_TRUE(infer_shapes(m).ok());
    return m;
  }
};

inline int count_op(const Model& m, const std::string& op) {
  auto h = op_histogram(m);
  auto it = h.find(op);
  return it == h.end() ? 0 : it->second;
}

// The only node of type op (fails the test if there is not exactly one).
inline const Node* only_node(const Model& m, const std::string& op) {
  const Node* r = nullptr;
  for (const Node& n : m.graph.nodes)
    if (n.op_type == op) {
      EXPECT_EQ(r, nullptr) << "more than one " << op;
      r = &n;
    }
  EXPECT_NE(r, nullptr) << "no " << op;
  return r;
}

// Runs a model on inputs (a copy, through Session) and returns its outputs.
inline TensorMap run_model(const Model& m, const TensorMap& inputs) {
  auto s = Session::create(Model(m));
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  if (!s.ok()) return {};
  auto out = (*s)->run(inputs);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  return out.ok() ? *out : TensorMap{};
}

// Random inputs for every main-graph input of fixed shape (float32 in [lo, hi)).
inline TensorMap random_inputs(const Model& m, uint32_t seed, float lo = -2.f, float hi = 2.f) {
  TensorMap in;
  for (int idx : m.graph.inputs) {
    const Value& v = m.values[static_cast<size_t>(idx)];
    in[v.name] = random_tensor(shape_dims(*v.shape), seed++, lo, hi);
  }
  return in;
}

// The same outputs (names, dims, values within tol * max(1, |want|)).
inline void expect_same(const TensorMap& got, const TensorMap& want, float tol = 1e-5f) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << "missing output " << name;
    const Tensor& g = it->second;
    ASSERT_EQ(dims_to_string(g.dims()), dims_to_string(w.dims())) << name;
    ASSERT_EQ(g.dtype(), w.dtype()) << name;
    int bad = 0;
    for (int64_t i = 0; i < w.size(); ++i) {
      const double a = g.get_f64(i), b = w.get_f64(i);
      if (!(std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b))) && bad++ < 5)
        ADD_FAILURE() << name << "[" << i << "]: optimized " << a << " vs original " << b;
    }
    EXPECT_EQ(bad, 0) << name;
  }
}

// Runs pass `name` on a copy of `before`, checks it rewrote `rewrites` times, checks that
// both models give the same outputs on random inputs, and returns the optimized model.
inline Model check_pass(const Model& before, const std::string& name, int rewrites, uint32_t seed = 7,
                        float lo = -2.f, float hi = 2.f) {
  Model after = before;
  auto rep = run_pass(after, name);
  EXPECT_TRUE(rep.ok()) << rep.status().to_string();
  if (rep.ok()) EXPECT_EQ(rep->rewrites, rewrites) << describe(*rep);
  EXPECT_TRUE(validate_and_sort(after).ok());
  const TensorMap in = random_inputs(before, seed, lo, hi);
  expect_same(run_model(after, in), run_model(before, in));
  // Output names are kept.
  EXPECT_EQ(after.graph.outputs.size(), before.graph.outputs.size());
  for (size_t i = 0; i < std::min(after.graph.outputs.size(), before.graph.outputs.size()); ++i)
    EXPECT_EQ(after.values[static_cast<size_t>(after.graph.outputs[i])].name,
              before.values[static_cast<size_t>(before.graph.outputs[i])].name);
  return after;
}

}  // namespace kiln::opt_test
