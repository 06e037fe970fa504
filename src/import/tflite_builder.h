// The state of one TFLite -> kiln conversion: the TFLite tensor -> kiln value map with
// each value's layout, and helpers to add nodes. TFLite activations are NHWC and kiln's
// ops are ONNX-style NCHW, so every TFLite tensor may live in kiln in a permuted layout:
// kiln_dims[i] = tflite_dims[perm[i]]. Spatial ops ask for NCHW, shape ops for the TFLite
// order, and Transposes appear only where the two meet (graph inputs/outputs, reshapes).
// Constants are permuted at import instead.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"
#include "import/tflite_schema_generated.h"

namespace kiln {

using Perm = std::vector<int64_t>;
Perm identity_perm(size_t rank);
extern const Perm kNhwcToNchw;  // {0, 3, 1, 2}

class TfliteBuilder {
 public:
  TfliteBuilder(Model& m, const tflite::Model& fb, const tflite::SubGraph& sg) : m_(m), fb_(fb), sg_(sg) {}

  // Context of the operator being converted, for node names and error messages.
  void begin_operator(int index, const std::string& op_name);
  std::string where() const;  // "operator 12 (CONV_2D)"

  // The TFLite tensor table.
  Result<const tflite::Tensor*> tensor(int index) const;
  Result<Dims> tensor_dims(int index) const;  // static TFLite shape (-1 for dynamic dims)
  std::string tensor_name(int index) const;

  // Constant data of a TFLite tensor (file data, or a constant produced at import by
  // DEQUANTIZE/DENSIFY), in TFLite layout; undefined Tensor if it is an activation.
  // Quantized integer constants come back dequantized to float32 when `dequantize`.
  Result<Tensor> constant(int index, bool dequantize = true);
  bool is_constant(int index);
  void set_constant(int index, Tensor t) { folded_[index] = std::move(t); }

  // The kiln value holding TFLite tensor `index` in layout `perm` (inserting a Transpose
  // or permuting a constant as needed). `perm` must have the tensor's rank.
  Result<int> get(int index, const Perm& perm);
  Result<int> get(int index);  // in TFLite layout
  // Current layout of a produced (non-constant) tensor; nullopt if none yet.
  std::optional<Perm> layout(int index) const;
  int rank(int index) const;

  // Declares the TFLite tensor `index` as a graph input (TFLite layout).
  Status add_input(int index);
  // New kiln value for TFLite output tensor `index` in layout `perm`.
  Result<int> output(int index, const Perm& perm);
  // A fresh intermediate value (not tied to a TFLite tensor).
  int temp(const std::string& hint);
  int constant_value(const std::string& hint, Tensor t);

  Node& add_node(const std::string& op_type, std::vector<int> inputs, std::vector<int> outputs);
  Model& model() { return m_; }
  const tflite::Model& fb() const { return fb_; }

 private:
  std::string unique_name(const std::string& base);

  Model& m_;
  const tflite::Model& fb_;
  const tflite::SubGraph& sg_;
  int op_index_ = -1;
  std::string op_name_;
  int node_count_ = 0;
  std::set<std::string> names_;
  std::map<int, Tensor> folded_;                        // constants made at import
  std::map<int, Perm> layout_;                          // produced tensors: their primary layout
  std::map<std::pair<int, Perm>, int> values_;          // (tensor, layout) -> kiln value
};

}  // namespace kiln
