// Small helpers shared by the neural-network ops (conv, pooling, norms, matmul, resize).
#pragma once
#include <cstddef>
#include <span>
#include <string>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/op.h"

namespace kiln::nn {

// Error-message prefix naming the node: "node 'x' (Conv): ".
inline std::string prefix(const Node& node) { return node.describe() + ": "; }

// Whether optional input i was given (infer and run views).
inline bool input_present(std::span<const TensorInfo> in, size_t i) { return i < in.size() && in[i].present(); }
inline bool input_present(std::span<const Tensor> in, size_t i) { return i < in.size() && in[i].defined(); }

// Whether optional output i is wanted by the graph.
inline bool output_wanted(const Node& node, size_t i) {
  return i < node.outputs.size() && node.outputs[i] != kNoValue;
}

// Dims [a, b) of `d`.
inline Dims dims_slice(const Dims& d, size_t a, size_t b) {
  return Dims(d.begin() + static_cast<ptrdiff_t>(a), d.begin() + static_cast<ptrdiff_t>(b));
}

// Run-time guard: the executor allocated out with the dims infer produced; a mismatch
// means a bug elsewhere, and writing would overflow, so it is an internal error.
inline Status check_output(const Tensor& t, const Dims& want, const std::string& who) {
  if (t.dtype() != DType::kF32 || t.dims() != want)
    return internal_error(who + "output buffer is " + dtype_name(t.dtype()) + dims_to_string(t.dims()) +
                          ", expected float32" + dims_to_string(want));
  return Status::Ok();
}

// Guards infer/run against being handed fewer inputs/outputs than the op reads.
inline Status check_arity(size_t have_in, size_t need_in, size_t have_out, size_t need_out, const std::string& who) {
  if (have_in < need_in || have_out < need_out)
    return internal_error(who + "called with " + std::to_string(have_in) + " inputs / " + std::to_string(have_out) +
                          " outputs, needs " + std::to_string(need_in) + " / " + std::to_string(need_out));
  return Status::Ok();
}

// Requires input i to be float32 (the only dtype these reference ops compute in).
inline Status expect_f32(std::span<const TensorInfo> in, size_t i, const std::string& who, const char* name) {
  return expect_dtype(in[i], {DType::kF32}, who + "input " + name);
}

}  // namespace kiln::nn
