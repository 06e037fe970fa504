// ONNX TensorProto -> kiln Tensor (copies into fresh aligned storage).
#pragma once
#include <string>

#include <onnx/onnx_pb.h>

#include "core/status.h"
#include "core/tensor.h"

namespace kiln {

// Maps an ONNX element type to a kiln DType; kUnsupported for types kiln cannot store
// (string, bfloat16, complex). `what` names the tensor in the message.
Result<DType> dtype_from_onnx(int32_t onnx_type, const std::string& what);

// Converts raw_data or the typed repeated fields (float_data, int32_data, ...).
// External data is a clear kUnsupported error. `what` names the tensor in errors,
// e.g. "initializer 'conv1.weight'".
Result<Tensor> tensor_from_onnx(const onnx::TensorProto& t, const std::string& what);

}  // namespace kiln
