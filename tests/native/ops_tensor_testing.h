// Test harness for single ops through the Op interface: builds a one-node Model,
// creates the op for an opset, infers, allocates (unless the op is a view) and runs.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/half.h"
#include "graph/graph.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace kiln::testing {

template <class T>
Tensor make_tensor(DType dt, const std::vector<T>& v, Dims dims) {
  Tensor t = Tensor::make(dt, std::move(dims)).value();
  EXPECT_EQ(static_cast<size_t>(t.size()), v.size()) << "test data size does not match its shape";
  if (static_cast<size_t>(t.size()) == v.size() && !v.empty())
    std::memcpy(t.mutable_raw(), v.data(), v.size() * sizeof(T));
  return t;
}
inline Tensor f32(const std::vector<float>& v, Dims d) { return make_tensor(DType::kF32, v, std::move(d)); }
inline Tensor f64(const std::vector<double>& v, Dims d) { return make_tensor(DType::kF64, v, std::move(d)); }
inline Tensor i64(const std::vector<int64_t>& v, Dims d) { return make_tensor(DType::kI64, v, std::move(d)); }
inline Tensor i32(const std::vector<int32_t>& v, Dims d) { return make_tensor(DType::kI32, v, std::move(d)); }
inline Tensor u8(const std::vector<uint8_t>& v, Dims d) { return make_tensor(DType::kU8, v, std::move(d)); }
inline Tensor boolean(const std::vector<uint8_t>& v, Dims d) { return make_tensor(DType::kBool, v, std::move(d)); }
inline Tensor f32s(float v) { return f32({v}, {}); }
inline Tensor i64s(int64_t v) { return i64({v}, {}); }

// Deterministic pseudo-random floats in [-2, 2).
inline std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::vector<float> r(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : r) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>((s >> 8) & 0xffff) / 16384.f - 2.f;
  }
  return r;
}

template <class T>
std::vector<T> values(const Tensor& t) {
  std::vector<T> r(static_cast<size_t>(t.size()));
  if (!r.empty()) std::memcpy(r.data(), t.raw(), r.size() * sizeof(T));
  return r;
}

class OpTester {
 public:
  explicit OpTester(std::string op_type, int64_t opset = 17) : opset_(opset) {
    node_.name = "n0";
    node_.op_type = std::move(op_type);
  }

  // A runtime input (its value is unknown to static inference).
  OpTester& input(Tensor t) { return add(std::move(t), false); }
  // A constant input (an initializer: static inference sees its value).
  OpTester& constant(Tensor t) { return add(std::move(t), true); }
  // An omitted optional input.
  OpTester& missing() {
    node_.inputs.push_back(kNoValue);
    inputs_.emplace_back();
    return *this;
  }
  OpTester& outputs(int n) {
    num_outputs_ = n;
    return *this;
  }
  OpTester& attr(const std::string& n, int64_t v) {
    return set(n, Attribute::Kind::kInt, [&](Attribute& a) { a.i = v; });
  }
  OpTester& attr(const std::string& n, int v) { return attr(n, static_cast<int64_t>(v)); }
  OpTester& attr(const std::string& n, float v) {
    return set(n, Attribute::Kind::kFloat, [&](Attribute& a) { a.f = v; });
  }
  OpTester& attr(const std::string& n, const char* v) {
    return set(n, Attribute::Kind::kString, [&](Attribute& a) { a.s = v; });
  }
  OpTester& attr(const std::string& n, std::vector<int64_t> v) {
    return set(n, Attribute::Kind::kInts, [&](Attribute& a) { a.ints = v; });
  }
  OpTester& attr(const std::string& n, std::vector<float> v) {
    return set(n, Attribute::Kind::kFloats, [&](Attribute& a) { a.floats = v; });
  }
  OpTester& attr(const std::string& n, Tensor v) {
    return set(n, Attribute::Kind::kTensor, [&](Attribute& a) { a.t = v; });
  }

  // Creates the op (status of the factory).
  Status create() {
    build();
    auto r = create_op(OpContext{node_, model_, opset_});
    if (!r.ok()) return r.status();
    op_ = std::move(r).value();
    return Status::Ok();
  }

  // Conversion-time inference: only constant inputs carry values.
  Result<std::vector<TensorInfo>> infer_static() {
    KILN_RETURN_IF_ERROR(create());
    std::vector<TensorInfo> in(inputs_.size()), out(static_cast<size_t>(num_outputs_));
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (!inputs_[i].defined()) continue;
      in[i] = TensorInfo{inputs_[i].dtype(), inputs_[i].dims(), nullptr};
      const Value& v = model_.values[static_cast<size_t>(node_.inputs[i])];
      if (v.data) in[i].value = &*v.data;
    }
    KILN_RETURN_IF_ERROR(op_->infer(in, out));
    return out;
  }

  // Run-time path: infer with all values, allocate, run.
  Result<std::vector<Tensor>> run() {
    KILN_RETURN_IF_ERROR(create());
    std::vector<TensorInfo> in(inputs_.size()), out(static_cast<size_t>(num_outputs_));
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (inputs_[i].defined()) in[i] = TensorInfo{inputs_[i].dtype(), inputs_[i].dims(), &inputs_[i]};
    KILN_RETURN_IF_ERROR(op_->infer(in, out));
    std::vector<Tensor> res(out.size());
    if (!op_->is_view())
      for (size_t i = 0; i < out.size(); ++i) {
        KILN_ASSIGN_OR_RETURN(res[i], Tensor::make(out[i].dtype, out[i].dims));
      }
    KILN_RETURN_IF_ERROR(op_->run(inputs_, res));
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(res[i].dtype(), out[i].dtype) << "output " << i << " dtype differs from inferred";
      EXPECT_EQ(res[i].dims(), out[i].dims) << "output " << i << " dims differ from inferred";
    }
    return res;
  }

  // Runs and returns the single output; fails the test on error.
  Tensor run1() {
    auto r = run();
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok() || r.value().empty()) return Tensor();
    return r.value()[0];
  }

  Op* op() { return op_.get(); }
  const std::vector<Tensor>& inputs() const { return inputs_; }

 private:
  OpTester& add(Tensor t, bool constant) {
    Value v;
    v.name = "in" + std::to_string(inputs_.size());
    v.dtype = t.dtype();
    v.shape = shape_from_dims(t.dims());
    if (constant) v.data = t;
    pending_.push_back(std::move(v));
    node_.inputs.push_back(static_cast<int>(pending_.size()) - 1);  // fixed up in build()
    inputs_.push_back(std::move(t));
    return *this;
  }
  template <class F>
  OpTester& set(const std::string& n, Attribute::Kind k, F f) {
    Attribute a;
    a.kind = k;
    f(a);
    node_.attrs[n] = a;
    return *this;
  }
  void build() {
    if (built_) return;
    built_ = true;
    model_.opset = opset_;
    for (Value& v : pending_) model_.add_value(v);
    for (int o = 0; o < num_outputs_; ++o) {
      Value v;
      v.name = "out" + std::to_string(o);
      node_.outputs.push_back(model_.add_value(v));
    }
  }

  int64_t opset_;
  Node node_;
  Model model_;
  std::vector<Value> pending_;
  std::vector<Tensor> inputs_;
  int num_outputs_ = 1;
  bool built_ = false;
  std::unique_ptr<Op> op_;
};

// Index helpers for independent reference computations.
inline std::vector<int64_t> unravel(int64_t i, const Dims& d) {
  std::vector<int64_t> idx(d.size());
  for (size_t k = d.size(); k-- > 0;) {
    idx[k] = d[k] ? i % d[k] : 0;
    i = d[k] ? i / d[k] : 0;
  }
  return idx;
}
// Offset in a tensor of dims `d` (right-aligned, broadcast dims of size 1 read index 0).
inline int64_t broadcast_offset(const std::vector<int64_t>& out_idx, const Dims& d) {
  int64_t off = 0;
  const size_t shift = out_idx.size() - d.size();
  for (size_t k = 0; k < d.size(); ++k) off = off * d[k] + (d[k] == 1 ? 0 : out_idx[k + shift]);
  return off;
}

inline void expect_near_all(const Tensor& t, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(t.dtype(), DType::kF32);
  ASSERT_EQ(static_cast<size_t>(t.size()), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const float got = t.data<float>()[i];
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got)) << "at " << i;
    } else {
      EXPECT_NEAR(got, want[i], tol * std::max(1.f, std::fabs(want[i]))) << "at " << i;
    }
  }
}

}  // namespace kiln::testing
