// Pinning a model's input shapes at conversion time (`kiln convert --input-shape`): symbolic
// dims become fixed so shape inference and constant folding can do more. A pinned model
// only accepts the pinned shapes; leave a dim symbolic with `?` or its name.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct InputShapeSpec {
  std::string input;  // the graph input's name
  Shape shape;        // fixed dims, or symbolic ones (size -1) left as they are
};

// Parses "name=1,3,48,320" (a dim may be `?` or a symbolic name to keep it open).
Result<InputShapeSpec> parse_input_shape(const std::string& text);

// Applies the specs to the main graph's inputs. Fails, naming the input, on an unknown
// name, a rank mismatch, or a fixed dim that contradicts the model's own fixed dim.
Status pin_input_shapes(Model& model, const std::vector<InputShapeSpec>& specs);

}  // namespace kiln
