// Static shape inference: fills Value::dtype/shape wherever the ops' infer() can tell
// from what the model declares (fixed input dims, constants). Values whose shapes depend
// on symbolic dims keep their declared shape; their dtype is still inferred when possible.
#pragma once
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

// Runs over the main graph and every subgraph in topological order (the model must have
// passed validate_and_sort). Unknown/unsupported cases leave values as they are; an op
// that rejects fully known inputs (e.g. a channel mismatch) is reported as an error
// naming the node, because the model could never run.
Status infer_shapes(Model& model);

}  // namespace kiln
