// Inlines an If whose condition is a constant: the chosen branch's nodes take the If's
// place in the enclosing graph (values are shared, so they keep their indices), and the
// branch's outputs become the If's outputs. Applies at every nesting level. Leaves
// orphaned branch values for dead-node elimination. Run it after constant folding (which
// makes conditions constant) and fold again afterwards.
#pragma once
#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

// Returns the number of If nodes inlined.
Result<int> inline_constant_if(Model& model);

}  // namespace kiln
