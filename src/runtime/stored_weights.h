// Weights stored narrower than they are computed: `kiln compress --fp16` writes large
// float32 weights as float16 constants behind Cast(to=FLOAT) nodes (the form ONNX
// fp16-storage exporters use too). Loading folds every such Cast of a constant once, so
// ops see, check and pack ordinary float32 weights, and the file stays half the size.
#pragma once
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

// Replaces each main-graph Cast(to=FLOAT) whose input is a float16 constant by the
// float32 constant it computes; returns how many were folded. Needs a sorted model.
Result<int> expand_stored_weights(Model& m);

}  // namespace kiln
