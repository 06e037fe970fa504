#include "compress/exposed_values.h"

namespace kiln {

std::set<std::string> computed_float_values(const Model& m, bool with_outputs) {
  std::set<int> skip(m.graph.inputs.begin(), m.graph.inputs.end());
  if (!with_outputs) skip.insert(m.graph.outputs.begin(), m.graph.outputs.end());
  std::set<std::string> names;
  for (const Node& n : m.graph.nodes)
    for (int v : n.outputs) {
      if (v == kNoValue || skip.count(v)) continue;
      const Value& value = m.values[size_t(v)];
      if (!value.is_constant() && (value.dtype == DType::kF32 || value.dtype == DType::kUndefined))
        names.insert(value.name);
    }
  return names;
}

Model expose_values(Model m, const std::set<std::string>& names, std::map<std::string, std::string>* op_types) {
  const std::set<int> outputs(m.graph.outputs.begin(), m.graph.outputs.end());
  for (const Node& n : m.graph.nodes)
    for (int v : n.outputs)
      if (v != kNoValue && names.count(m.values[size_t(v)].name)) {
        if (!outputs.count(v)) m.graph.outputs.push_back(v);
        if (op_types) (*op_types)[m.values[size_t(v)].name] = n.op_type;
      }
  return m;
}

}  // namespace kiln
