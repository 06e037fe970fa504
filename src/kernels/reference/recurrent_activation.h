// Activation functions of the recurrent ops (LSTM/GRU/RNN "activations" attribute),
// applied element by element to gate pre-activations.
#pragma once
#include <algorithm>
#include <cmath>

namespace kiln {

enum class RecurrentActivationKind {
  kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid, kElu, kSoftsign,
  kSoftplus
};

struct RecurrentActivation {
  RecurrentActivationKind kind = RecurrentActivationKind::kSigmoid;
  float alpha = 0.f, beta = 0.f;
};

inline float apply_activation(const RecurrentActivation& a, float x) {
  switch (a.kind) {
    case RecurrentActivationKind::kRelu: return std::max(x, 0.f);
    case RecurrentActivationKind::kTanh: return std::tanh(x);
    case RecurrentActivationKind::kSigmoid: return 1.f / (1.f + std::exp(-x));
    case RecurrentActivationKind::kAffine: return a.alpha * x + a.beta;
    case RecurrentActivationKind::kLeakyRelu: return x >= 0.f ? x : a.alpha * x;
    case RecurrentActivationKind::kThresholdedRelu: return x > a.alpha ? x : 0.f;
    case RecurrentActivationKind::kScaledTanh: return a.alpha * std::tanh(a.beta * x);
    case RecurrentActivationKind::kHardSigmoid: return std::clamp(a.alpha * x + a.beta, 0.f, 1.f);
    case RecurrentActivationKind::kElu: return x >= 0.f ? x : a.alpha * (std::exp(x) - 1.f);
    case RecurrentActivationKind::kSoftsign: return x / (1.f + std::fabs(x));
    case RecurrentActivationKind::kSoftplus: return x > 0.f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  return x;
}

}  // namespace kiln
