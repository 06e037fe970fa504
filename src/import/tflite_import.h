// TFLite (.tflite FlatBuffers, identifier "TFL3") -> kiln graph IR (native only).
// The result is validated and topologically sorted, with the TFLite model's exact
// external interface (NHWC inputs/outputs, tensor names) and NCHW inside.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

// True when the bytes carry the TFLite file identifier ("TFL3" at offset 4).
bool is_tflite(const uint8_t* data, size_t size);

// Converts .tflite bytes; `name` is used in error messages. Errors name the operator
// index and op code (custom ops, unsupported builtins, bad tensors) or the broken table.
Result<Model> import_tflite_bytes(const uint8_t* data, size_t size, const std::string& name = "<memory>");
Result<Model> import_tflite(const std::string& path);

}  // namespace kiln
