#include "graph/input_shapes.h"

#include <cctype>
#include <map>

namespace kiln {

Result<InputShapeSpec> parse_input_shape(const std::string& text) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return invalid_argument("input shape '" + text + "' must look like name=1,3,48,320");
  InputShapeSpec spec;
  spec.input = text.substr(0, eq);
  const std::string dims = text.substr(eq + 1);
  size_t start = 0;
  while (start <= dims.size()) {
    size_t comma = dims.find(',', start);
    if (comma == std::string::npos) comma = dims.size();
    const std::string d = dims.substr(start, comma - start);
    if (d.empty()) return invalid_argument("input shape '" + text + "': empty dimension");
    Dim dim;
    if (std::isdigit(static_cast<unsigned char>(d[0]))) {
      for (char c : d)
        if (!std::isdigit(static_cast<unsigned char>(c)))
          return invalid_argument("input shape '" + text + "': '" + d + "' is not a size");
      if (d.size() > 12) return invalid_argument("input shape '" + text + "': '" + d + "' is too large");
      dim.size = std::stoll(d);
    } else if (d != "?") {
      dim.param = d;
    }
    spec.shape.push_back(dim);
    start = comma + 1;
  }
  return spec;
}

Status pin_input_shapes(Model& model, const std::vector<InputShapeSpec>& specs) {
  std::map<std::string, int64_t> bound;  // symbolic dim name -> pinned size
  for (const InputShapeSpec& spec : specs) {
    Value* target = nullptr;
    std::string names;
    for (int v : model.graph.inputs) {
      Value& val = model.values[static_cast<size_t>(v)];
      names += (names.empty() ? "'" : ", '") + val.name + "'";
      if (val.name == spec.input) target = &val;
    }
    if (!target)
      return invalid_argument("--input-shape: the model has no input '" + spec.input + "' (inputs: " + names + ")");
    const std::string where = "--input-shape " + spec.input;
    if (target->shape && target->shape->size() != spec.shape.size())
      return invalid_argument(where + ": the model declares rank " + std::to_string(target->shape->size()) + " " +
                              shape_to_string(*target->shape) + ", got " + std::to_string(spec.shape.size()) +
                              " dims");
    Shape pinned = spec.shape;
    for (size_t i = 0; i < pinned.size(); ++i) {
      const Dim* declared = target->shape ? &(*target->shape)[i] : nullptr;
      if (declared && declared->fixed() && pinned[i].fixed() && declared->size != pinned[i].size)
        return invalid_argument(where + ": dimension " + std::to_string(i) + " is fixed at " +
                                std::to_string(declared->size) + " in the model " + shape_to_string(*target->shape));
      // `?` keeps what the model says; a fixed model dim stays fixed.
      if (!pinned[i].fixed() && declared && (declared->fixed() || pinned[i].param.empty())) pinned[i] = *declared;
      if (pinned[i].fixed() && declared && !declared->fixed() && !declared->param.empty()) {
        auto [it, fresh] = bound.emplace(declared->param, pinned[i].size);
        if (!fresh && it->second != pinned[i].size)
          return invalid_argument(where + ": dimension '" + declared->param + "' is pinned to both " +
                                  std::to_string(it->second) + " and " + std::to_string(pinned[i].size));
      }
    }
    target->shape = pinned;
  }
  // A symbolic name pinned in one input binds the same name in the others.
  for (const auto& [param, size] : bound)
    for (int v : model.graph.inputs) {
      Value& val = model.values[static_cast<size_t>(v)];
      if (val.shape)
        for (Dim& d : *val.shape)
          if (!d.fixed() && d.param == param) d = Dim{size, ""};
    }
  return Status::Ok();
}

}  // namespace kiln
