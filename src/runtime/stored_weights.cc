#include "runtime/stored_weights.h"

#include "core/half.h"

namespace kiln {

Result<int> expand_stored_weights(Model& m) {
  int folded = 0;
  std::vector<Node> kept;
  kept.reserve(m.graph.nodes.size());
  for (Node& n : m.graph.nodes) {
    const bool cast_of_half = n.op_type == "Cast" && n.domain.empty() && n.inputs.size() == 1 &&
                              n.outputs.size() == 1 && n.inputs[0] != kNoValue && n.outputs[0] != kNoValue;
    if (cast_of_half) {
      const Value& in = m.values[static_cast<size_t>(n.inputs[0])];
      auto to = n.attr_int("to", 0);
      if (to.ok() && *to == static_cast<int64_t>(DType::kF32) && in.data && in.data->dtype() == DType::kF16) {
        KILN_ASSIGN_OR_RETURN(Tensor f, Tensor::make(DType::kF32, in.data->dims()));
        const uint16_t* h = in.data->data<uint16_t>();
        float* out = f.mutable_data<float>();
        for (int64_t i = 0, e = f.size(); i < e; ++i) out[i] = half_to_float(h[i]);
        Value& v = m.values[static_cast<size_t>(n.outputs[0])];
        v.dtype = DType::kF32;
        v.shape = shape_from_dims(f.dims());
        v.data = std::move(f);
        ++folded;
        continue;
      }
    }
    kept.push_back(std::move(n));
  }
  m.graph.nodes = std::move(kept);
  return folded;
}

}  // namespace kiln
