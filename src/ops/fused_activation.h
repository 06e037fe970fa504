// The activation a graph-optimizer pass fused into its producer (kiln.activation and its
// parameters, see graph/kiln_extensions.h). Ops that accept it parse it once at create
// time and apply it in place to their float32 output after the kernel.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "graph/graph.h"

namespace kiln {

struct FusedActivation {
  enum class Kind : uint8_t { kNone, kRelu, kClip, kHardSigmoid, kHardSwish, kSigmoid, kLeakyRelu, kTanh, kSwish };
  Kind kind = Kind::kNone;
  float alpha = 0, beta = 0;
  bool active() const { return kind != Kind::kNone; }
};

// Reads the node's kiln.activation attributes (none: kNone); unknown names are model errors.
Result<FusedActivation> parse_fused_activation(const Node& node);

// Kind for an activation op type ("Relu", ...), or kNone when it cannot be fused. Swish
// (x * Sigmoid(x), matched by the optimizer from its two nodes) has no ONNX op of its own.
FusedActivation::Kind fused_activation_kind(const std::string& op_type);
const char* fused_activation_name(FusedActivation::Kind k);

// Relu and Clip become a kernel's output clamp (*min, *max set); returns the activation
// still to run after the kernel (kNone for those two, `act` itself for the others).
FusedActivation split_clamp(const FusedActivation& act, float* min, float* max);

// y[i] = act(y[i]) with the formulas of the standalone ops.
void apply_fused_activation(const FusedActivation& act, float* y, int64_t n);

class Op;
// For ops whose kernels know nothing of activations (Add): runs `inner`, then applies
// the activation to its float32 output (other dtypes are an error naming the node).
std::unique_ptr<Op> with_fused_activation(std::unique_ptr<Op> inner, FusedActivation act, std::string who);

}  // namespace kiln
