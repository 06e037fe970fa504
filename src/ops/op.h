// Operator lifecycle (XNNPACK style): create (validate attributes, pack constant weights)
// -> infer (output dtypes/dims for concrete input dims; the "reshape" step) -> run.
// One file per operator in src/ops; heavy math lives in src/kernels.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "graph/graph.h"

namespace kiln {

// What infer sees of one input: dtype and concrete dims, plus the data when it is known
// (always at run time; at conversion time only for constants).
struct TensorInfo {
  DType dtype = DType::kUndefined;
  Dims dims;
  const Tensor* value = nullptr;
  bool present() const { return dtype != DType::kUndefined; }  // false for an omitted optional input
};

struct OpContext {
  const Node& node;
  const Model& model;
  int64_t opset;
  // Constant data of input i, or nullptr (non-constant or omitted).
  const Tensor* constant_input(size_t i) const;
  bool has_input(size_t i) const { return i < node.inputs.size() && node.inputs[i] != kNoValue; }
};

class Op {
 public:
  virtual ~Op() = default;
  // Fills out[i] (dtype, dims) from the inputs. Data-dependent shapes (Reshape, Range, ...)
  // read in[i].value and return kUnsupported "needs the value of input i" when it is null.
  virtual Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) = 0;
  // Computes outputs. out[i] arrives allocated with the inferred dtype/dims, unless
  // is_view() is true: then the op sets out[i] itself, typically as a view of an input.
  virtual Status run(std::span<const Tensor> in, std::span<Tensor> out) = 0;
  virtual bool is_view() const { return false; }
  // True when run() writes every element of every output: the executor then hands it arena
  // memory without zero-filling it first (a memset per output per run saved).
  virtual bool writes_every_output() const { return false; }
};

using OpFactory = Result<std::unique_ptr<Op>> (*)(const OpContext& ctx);

// Status helper for infer when a data-dependent shape cannot be known yet.
Status needs_value(size_t input_index);
bool is_needs_value(const Status& s);

// --- shared helpers for op implementations ---

// Normalizes a possibly negative axis against rank; error names the op.
Result<int64_t> normalize_axis(int64_t axis, int64_t rank, const std::string& what);
// Numpy-style broadcast of two shapes.
Result<Dims> broadcast_dims(const Dims& a, const Dims& b);
// Strides (in elements) of `dims` as seen from an output of rank `out_rank`,
// with 0 for broadcast dimensions.
std::vector<int64_t> broadcast_strides(const Dims& dims, const Dims& out_dims);
// Reads a 1-D int tensor (int32/int64) into a vector.
Result<std::vector<int64_t>> read_ints(const Tensor& t, const std::string& what);
// Checks the input count is within [min, max]; message names the node.
Status check_input_count(const OpContext& ctx, int min, int max);
// Requires a dtype from a list; message names the node and input.
Status expect_dtype(const TensorInfo& t, std::initializer_list<DType> allowed, const std::string& what);

}  // namespace kiln
