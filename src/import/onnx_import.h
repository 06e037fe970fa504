// ONNX -> kiln graph IR (native only; uses Debian's libonnx protobuf types).
// The result is validated and topologically sorted; values carry the dtypes/shapes the
// file declares (shape inference and folding are separate steps, see src/graph).
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct ImportOptions {
  // Fail with one error listing every op type kiln cannot run. Off only for tools
  // that want to look at a model kiln cannot execute.
  bool require_supported_ops = true;
  // Largest ONNX file accepted (protobuf itself cannot parse messages over 2 GiB).
  uint64_t max_file_bytes = (uint64_t{2} << 30) - 1;
};

// Reads and converts an .onnx file. Errors name the file.
Result<Model> import_onnx(const std::string& path, const ImportOptions& options = {});
// Converts serialized ModelProto bytes; `name` is used in error messages.
Result<Model> import_onnx_bytes(const uint8_t* data, size_t size, const ImportOptions& options = {},
                                const std::string& name = "<memory>");

}  // namespace kiln
