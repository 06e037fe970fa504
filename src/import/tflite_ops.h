// Conversion of TFLite builtin operators into kiln (ONNX-style) nodes.
#pragma once
#include "core/status.h"
#include "import/tflite_builder.h"

namespace kiln {

// Builtin operators the importer converts.
bool tflite_op_supported(tflite::BuiltinOperator code);
// Adds the nodes for one operator; inputs/outputs are TFLite tensor indices.
Status convert_tflite_op(TfliteBuilder& b, tflite::BuiltinOperator code, const tflite::Operator& op);

}  // namespace kiln
