// Helpers shared by the TFLite operator converters (tflite_ops*.cc): operator inputs and
// outputs, options, attributes, axis/layout mapping and fused activations.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "import/tflite_builder.h"

namespace kiln::tfl {

using BO = tflite::BuiltinOperator;
using Act = tflite::ActivationFunctionType;

Attribute ints_attr(std::vector<int64_t> v);
Attribute int_attr(int64_t v);
Attribute float_attr(float v);
Attribute string_attr(std::string v);

// The operator's TFLite tensor indices.
struct Io {
  std::vector<int> in, out;
  bool has(size_t i) const { return i < in.size() && in[i] >= 0; }
};

// Checks the input count is in [min_in, max_in], the first min_in are present, and there
// are num_out outputs.
Result<Io> operator_io(const TfliteBuilder& b, const tflite::Operator& op, size_t min_in, size_t max_in,
                       size_t num_out);

template <class T>
Result<const T*> options(const TfliteBuilder& b, const T* o, const char* name) {
  if (!o) return invalid_model(b.where() + ": missing " + name);
  return o;
}

Perm layout_or_identity(TfliteBuilder& b, int index);
// Position of TFLite axis `axis` in layout `p`.
int64_t kiln_axis(const Perm& p, int64_t axis);
Result<int64_t> normalize(const TfliteBuilder& b, int64_t axis, int64_t rank);
// The values of a constant int32/int64 input; computed values are unsupported.
Result<std::vector<int64_t>> constant_ints(TfliteBuilder& b, int index, const char* what);
int i64_constant(TfliteBuilder& b, const std::string& hint, const std::vector<int64_t>& v);
// Writes `op_type` into the output, with the fused activation as a separate node.
Status emit_with_activation(TfliteBuilder& b, Act act, const std::string& op_type, std::vector<int> inputs,
                            int out_tensor, const Perm& layout, std::map<std::string, Attribute> attrs = {});
Result<std::string> auto_pad(const TfliteBuilder& b, tflite::Padding p);
Status check_positive(const TfliteBuilder& b, std::initializer_list<int64_t> v, const char* what);

// Spatial converters (tflite_ops_spatial.cc): NCHW inside.
Status conv(TfliteBuilder& b, const tflite::Operator& op, bool depthwise);
Status pool(TfliteBuilder& b, const tflite::Operator& op, bool max);
Status resize(TfliteBuilder& b, const tflite::Operator& op, bool bilinear);
Status depth_space(TfliteBuilder& b, const tflite::Operator& op, bool to_space);

}  // namespace kiln::tfl
