// Running a model with its intermediate values as extra outputs: kiln eval compares two
// models layer by layer this way, and calibration (compress/calibrate.h) records the range
// of every float value a model computes.
#pragma once
#include <map>
#include <set>
#include <string>

#include "graph/graph.h"

namespace kiln {

// Names of the float values the main graph's nodes compute (dtype f32, or not yet known),
// constants left out (also nodes whose output was folded into a constant); the graph's
// outputs only when `with_outputs`. Values inside subgraphs are not listed.
std::set<std::string> computed_float_values(const Model& model, bool with_outputs);

// `model` with the main-graph values named in `names` appended to its outputs (those that
// already are outputs stay as they are), so a Session run returns them. `op_types`, when
// given, receives the op type of each exposed value's producer.
Model expose_values(Model model, const std::set<std::string>& names,
                    std::map<std::string, std::string>* op_types = nullptr);

}  // namespace kiln
