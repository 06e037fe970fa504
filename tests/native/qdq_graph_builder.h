// Building QDQ graphs in tests: activations quantized per tensor (int8 zero points) with
// QuantizeLinear / DequantizeLinear nodes, as `kiln compress --int8-static` writes them.
#pragma once
#include <string>

#include "graph_optimizer_util.h"

namespace kiln::qdq_test {

inline Tensor i8_scalar(int8_t v) {
  auto t = Tensor::make(DType::kI8, {});
  t->mutable_data<int8_t>()[0] = v;
  return std::move(t).value();
}

struct QdqGraph {
  opt_test::Builder b;
  int n = 0;
  std::string fresh(const std::string& s) { return s + std::to_string(n++); }
  int q(int x, float s, int8_t z, const std::string& name = "") {
    return b.node("QuantizeLinear", {x, b.scalar(fresh("s"), s), b.constant(fresh("z"), i8_scalar(z))},
                  name.empty() ? fresh("q") : name);
  }
  int dq(int x, float s, int8_t z) {
    return b.node("DequantizeLinear", {x, b.scalar(fresh("s"), s), b.constant(fresh("z"), i8_scalar(z))}, fresh("dq"));
  }
  // A float input quantized then dequantized: the int8 activation a fused graph reads.
  int act(const std::string& name, const Dims& d, float s, int8_t z) { return dq(q(b.input(name, d), s, z), s, z); }
};

}  // namespace kiln::qdq_test
