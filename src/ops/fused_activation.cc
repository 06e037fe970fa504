#include "ops/fused_activation.h"

#include "graph/kiln_extensions.h"
#include "ops/vunary_kernels.h"
#include "ops/op.h"

namespace kiln {
namespace {

using K = FusedActivation::Kind;
struct Named {
  K kind;
  const char* name;
};
constexpr Named kNames[] = {{K::kRelu, "Relu"},       {K::kClip, "Clip"},           {K::kHardSigmoid, "HardSigmoid"},
                            {K::kHardSwish, "HardSwish"}, {K::kSigmoid, "Sigmoid"}, {K::kLeakyRelu, "LeakyRelu"},
                            {K::kTanh, "Tanh"},       {K::kSwish, "Swish"}};

// Relu stays a plain loop (compilers vectorize it); the others run the f32-vunary kernels
// the standalone ops run, so fused and unfused graphs give the same values.
template <class F>
void each(float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) y[i] = f(y[i]);
}

class ActivatedOp final : public Op {
 public:
  ActivatedOp(std::unique_ptr<Op> inner, FusedActivation act, std::string who)
      : inner_(std::move(inner)), act_(act), who_(std::move(who)) {}
  Status infer(std::span<const TensorInfo> in, std::span<TensorInfo> out) override {
    KILN_RETURN_IF_ERROR(inner_->infer(in, out));
    if (out.empty() || out[0].dtype != DType::kF32)
      return invalid_argument(who_ + ": a fused activation needs a float32 output");
    return Status::Ok();
  }
  Status run(std::span<const Tensor> in, std::span<Tensor> out) override {
    if (inner_->is_view()) return internal_error(who_ + ": a fused activation cannot follow a view op");
    KILN_RETURN_IF_ERROR(inner_->run(in, out));
    if (out.empty() || out[0].dtype() != DType::kF32)
      return invalid_argument(who_ + ": a fused activation needs a float32 output");
    apply_fused_activation(act_, out[0].mutable_data<float>(), out[0].size());
    return Status::Ok();
  }
  bool is_view() const override { return false; }

 private:
  std::unique_ptr<Op> inner_;
  FusedActivation act_;
  std::string who_;
};

}  // namespace

std::unique_ptr<Op> with_fused_activation(std::unique_ptr<Op> inner, FusedActivation act, std::string who) {
  if (!act.active()) return inner;
  return std::unique_ptr<Op>(new ActivatedOp(std::move(inner), act, std::move(who)));
}

FusedActivation::Kind fused_activation_kind(const std::string& op_type) {
  for (const Named& e : kNames)
    if (op_type == e.name) return e.kind;
  return K::kNone;
}

const char* fused_activation_name(FusedActivation::Kind k) {
  for (const Named& e : kNames)
    if (k == e.kind) return e.name;
  return "none";
}

Result<FusedActivation> parse_fused_activation(const Node& node) {
  FusedActivation a;
  if (!node.has_attr(ext::kActivation)) return a;
  KILN_ASSIGN_OR_RETURN(std::string name, node.attr_string(ext::kActivation));
  a.kind = fused_activation_kind(name);
  if (a.kind == K::kNone)
    return invalid_model(node.describe() + ": unknown fused activation '" + name + "' in attribute " +
                         ext::kActivation);
  KILN_ASSIGN_OR_RETURN(a.alpha, node.attr_float(ext::kActivationAlpha, 0.f));
  KILN_ASSIGN_OR_RETURN(a.beta, node.attr_float(ext::kActivationBeta, 0.f));
  return a;
}

void apply_fused_activation(const FusedActivation& act, float* y, int64_t n) {
  const size_t count = static_cast<size_t>(n);
  switch (act.kind) {
    case K::kNone:
      return;
    case K::kRelu:
      return each(y, n, [](float x) { return x > 0 ? x : 0.f; });
    case K::kClip:  // min = alpha, max = beta, NaN stays NaN as in Clip
      return run_f32_vunary(F32VunaryOp::kClamp, y, y, count, {act.alpha, act.beta});
    case K::kHardSigmoid:
      return run_f32_vunary(F32VunaryOp::kHardSigmoid, y, y, count, {act.alpha, act.beta});
    case K::kHardSwish:
      return run_f32_vunary(F32VunaryOp::kHardSwish, y, y, count);
    case K::kSigmoid:
      return run_f32_vunary(F32VunaryOp::kSigmoid, y, y, count);
    case K::kLeakyRelu:
      return run_f32_vunary(F32VunaryOp::kLeakyRelu, y, y, count, {act.alpha, 0.f});
    case K::kTanh:
      return run_f32_vunary(F32VunaryOp::kTanh, y, y, count);
    case K::kSwish:  // x * sigmoid(x), rounded as the Sigmoid and Mul ops round
      return run_f32_vunary(F32VunaryOp::kSwish, y, y, count);
  }
}

FusedActivation split_clamp(const FusedActivation& act, float* min, float* max) {
  if (act.kind == FusedActivation::Kind::kRelu) {
    *min = 0.f;
    return {};
  }
  if (act.kind == FusedActivation::Kind::kClip) {
    *min = act.alpha;
    *max = act.beta;
    return {};
  }
  return act;
}

}  // namespace kiln
