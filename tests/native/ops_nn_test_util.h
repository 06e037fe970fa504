// Helpers for the neural-network op tests: run one node through the Op interface
// (create_op -> infer -> allocate -> run) and compare against values the tests compute
// themselves.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/op.h"
#include "ops/packed_gemm.h"  // set_use_reference_kernels
#include "ops/registry.h"

namespace kiln::nntest {

inline Attribute attr_i(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute attr_f(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute attr_s(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = v;
  return a;
}
inline Attribute attr_ints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
inline Attribute attr_floats(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloats;
  a.floats = std::move(v);
  return a;
}

using Attrs = std::map<std::string, Attribute>;
using Inputs = std::vector<std::optional<Tensor>>;  // nullopt = omitted optional input

// (Empty tensors go through Tensor::make: from_f32/from_i64 memcpy from an empty
// vector's null data(), which UBSan flags.)
inline Tensor f32(const std::vector<float>& v, const Dims& d) {
  return v.empty() ? Tensor::make(DType::kF32, d).value() : Tensor::from_f32(v, d);
}
inline Tensor i64(const std::vector<int64_t>& v, const Dims& d) {
  return v.empty() ? Tensor::make(DType::kI64, d).value() : Tensor::from_i64(v, d);
}

// Deterministic pseudo-random values in [-1, 1).
inline std::vector<float> random_values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 2.f - 1.f;
  }
  return v;
}
inline Tensor random_tensor(Dims d, uint32_t seed) {
  return f32(random_values(static_cast<size_t>(num_elements(d)), seed), d);
}

struct OpCall {
  OpCall(std::string op, Attrs a, Inputs in, int64_t set = 13)
      : op_type(std::move(op)), attrs(std::move(a)), inputs(std::move(in)), opset(set) {}
  std::string op_type;
  Attrs attrs;
  Inputs inputs;
  int64_t opset = 13;
  size_t outputs = 1;
  std::vector<bool> omit_outputs;  // true: output i is kNoValue in the node
  bool inputs_constant = false;    // inputs become model constants (as initializers)
  bool infer_without_values = false;  // infer sees dims only (non-constant inputs at plan time)
};

// Builds a one-node model for the call.
inline Model make_model(const OpCall& c) {
  Model m;
  m.opset = c.opset;
  Node n;
  n.name = "test_" + c.op_type;
  n.op_type = c.op_type;
  n.attrs = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i]) {
      n.inputs.push_back(kNoValue);
      continue;
    }
    Value v;
    v.name = "in" + std::to_string(i);
    v.dtype = c.inputs[i]->dtype();
    v.shape = shape_from_dims(c.inputs[i]->dims());
    if (c.inputs_constant) v.data = *c.inputs[i];
    n.inputs.push_back(m.add_value(v));
  }
  for (size_t i = 0; i < c.outputs; ++i) {
    if (i < c.omit_outputs.size() && c.omit_outputs[i]) {
      n.outputs.push_back(kNoValue);
      continue;
    }
    Value v;
    v.name = "out" + std::to_string(i);
    n.outputs.push_back(m.add_value(v));
  }
  m.graph.nodes.push_back(n);
  return m;
}

// create_op -> infer -> Tensor::make -> run. Any error Status is returned as is.
inline Result<std::vector<Tensor>> run_op(const OpCall& c) {
  Model m = make_model(c);
  const Node& node = m.graph.nodes[0];
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Op> op, create_op(OpContext{node, m, c.opset}));
  std::vector<TensorInfo> in(c.inputs.size());
  std::vector<Tensor> in_t(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i]) continue;
    in[i].dtype = c.inputs[i]->dtype();
    in[i].dims = c.inputs[i]->dims();
    in[i].value = c.infer_without_values ? nullptr : &*c.inputs[i];
    in_t[i] = *c.inputs[i];
  }
  std::vector<TensorInfo> out(c.outputs);
  KILN_RETURN_IF_ERROR(op->infer(in, out));
  std::vector<Tensor> out_t(c.outputs);
  for (size_t i = 0; i < c.outputs; ++i) {
    if (node.outputs[i] == kNoValue) continue;
    KILN_ASSIGN_OR_RETURN(out_t[i], Tensor::make(out[i].dtype, out[i].dims));
  }
  KILN_RETURN_IF_ERROR(op->run(in_t, out_t));
  return out_t;
}

// Only the inferred output infos (for shape tests and needs-value checks).
inline Result<std::vector<TensorInfo>> infer_op(const OpCall& c) {
  Model m = make_model(c);
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Op> op, create_op(OpContext{m.graph.nodes[0], m, c.opset}));
  std::vector<TensorInfo> in(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.inputs[i]) continue;
    in[i].dtype = c.inputs[i]->dtype();
    in[i].dims = c.inputs[i]->dims();
    in[i].value = c.infer_without_values ? nullptr : &*c.inputs[i];
  }
  std::vector<TensorInfo> out(c.outputs);
  KILN_RETURN_IF_ERROR(op->infer(in, out));
  return out;
}

// Runs the call on the fast path and with the reference kernels (KILN_REFERENCE_KERNELS);
// outputs must agree within 1e-4 relative.
inline void expect_fast_matches_reference(const OpCall& call) {
  auto fast = run_op(call);
  ASSERT_TRUE(fast.ok()) << fast.status().to_string();
  set_use_reference_kernels(true);
  auto ref = run_op(call);
  set_use_reference_kernels(false);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  const Tensor& f = fast.value()[0];
  const Tensor& r = ref.value()[0];
  ASSERT_EQ(f.dims(), r.dims());
  for (int64_t i = 0; i < r.size(); ++i)
    ASSERT_NEAR(f.data<float>()[i], r.data<float>()[i], 1e-4f * (1.f + std::abs(r.data<float>()[i]))) << "at " << i;
}

inline std::vector<float> values(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.size());
}

// Element-wise comparison with an absolute + relative tolerance.
inline void expect_near_all(const Tensor& got, const Dims& want_dims, const std::vector<float>& want,
                            float tol = 1e-5f) {
  ASSERT_EQ(got.dtype(), DType::kF32);
  ASSERT_EQ(dims_to_string(got.dims()), dims_to_string(want_dims));
  ASSERT_EQ(static_cast<size_t>(got.size()), want.size());
  const float* g = got.data<float>();
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const float lim = tol * (1.f + std::fabs(want[i]));
    if (!(std::fabs(g[i] - want[i]) <= lim) && !(std::isnan(g[i]) && std::isnan(want[i]))) {
      ADD_FAILURE() << "element " << i << ": got " << g[i] << ", want " << want[i];
      if (++bad > 10) return;
    }
  }
}

// Runs the call and expects an error whose message mentions `needle` (and the node).
inline void expect_error(const OpCall& c, const std::string& needle) {
  auto r = run_op(c);
  ASSERT_FALSE(r.ok()) << "expected an error mentioning '" << needle << "'";
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("test_" + c.op_type), std::string::npos)
      << "error does not name the node: " << r.status().to_string();
}

}  // namespace kiln::nntest
