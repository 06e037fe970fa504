// Add, Sub, Mul and Div of float32 tensors on xnn_{add,subtract,multiply,divide}_nd_f32, with
// numpy broadcasting up to XNNPACK's 6 dims. Add's fused Relu/Clip becomes the operator's
// output range; other fused activations are applied after it.
#include "backends/xnnpack/xnn_op.h"

namespace kiln::xnnpack {
namespace {

enum class Kind { kAdd, kSub, kMul, kDiv };

class BinaryXnnOp final : public XnnOp {
 public:
  BinaryXnnOp(std::unique_ptr<Op> kiln_op, std::string who, Kind kind, Operator op, FusedActivation rest)
      : XnnOp(std::move(kiln_op), std::move(who)), kind_(kind), op_(std::move(op)), rest_(rest) {}

 protected:
  Result<bool> try_run(std::span<const Tensor> in, std::span<Tensor> out) override {
    const Tensor &a = in[0], &b = in[1];
    if (a.dtype() != DType::kF32 || b.dtype() != DType::kF32 || a.rank() > XNN_MAX_TENSOR_DIMS ||
        b.rank() > XNN_MAX_TENSOR_DIMS || a.size() == 0 || b.size() == 0)
      return false;
    Tensor& y = out[0];
    if (y.dtype() != DType::kF32) return false;
    std::vector<size_t> as(a.dims().begin(), a.dims().end()), bs(b.dims().begin(), b.dims().end());
    const float *pa = a.data<float>(), *pb = b.data<float>();
    float* py = y.mutable_data<float>();
    xnn_status s = xnn_status_success;
    switch (kind_) {
      case Kind::kAdd:
        s = xnn_setup_add_nd_f32(op_.get(), as.size(), as.data(), bs.size(), bs.data(), pa, pb, py, nullptr);
        break;
      case Kind::kSub:
        s = xnn_setup_subtract_nd_f32(op_.get(), as.size(), as.data(), bs.size(), bs.data(), pa, pb, py, nullptr);
        break;
      case Kind::kMul:
        s = xnn_setup_multiply_nd_f32(op_.get(), as.size(), as.data(), bs.size(), bs.data(), pa, pb, py, nullptr);
        break;
      case Kind::kDiv:
        s = xnn_setup_divide_nd_f32(op_.get(), as.size(), as.data(), bs.size(), bs.data(), pa, pb, py, nullptr);
        break;
    }
    if (s == xnn_status_invalid_parameter || s == xnn_status_unsupported_parameter) return false;
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_setup_*_nd_f32");
    s = xnn_run_operator(op_.get(), nullptr);
    if (s != xnn_status_success) return xnn_error(s, who(), "xnn_run_operator");
    apply_fused_activation(rest_, py, y.size());
    return true;
  }

 private:
  Kind kind_;
  Operator op_;
  FusedActivation rest_;
};

}  // namespace

std::unique_ptr<XnnOp> make_binary(const OpContext& ctx, std::unique_ptr<Op>& kiln_op) {
  const Node& n = ctx.node;
  if (!n.domain.empty()) return nullptr;
  Kind kind;
  if (n.op_type == "Add") kind = Kind::kAdd;
  else if (n.op_type == "Sub") kind = Kind::kSub;
  else if (n.op_type == "Mul") kind = Kind::kMul;
  else if (n.op_type == "Div") kind = Kind::kDiv;
  else return nullptr;
  auto act = parse_fused_activation(n);
  if (!act.ok()) return nullptr;
  const OutputClamp clamp = split_activation(*act);
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_status_invalid_parameter;
  switch (kind) {
    case Kind::kAdd: s = xnn_create_add_nd_f32(clamp.min, clamp.max, 0, &op); break;
    case Kind::kSub: s = xnn_create_subtract_nd_f32(clamp.min, clamp.max, 0, &op); break;
    case Kind::kMul: s = xnn_create_multiply_nd_f32(clamp.min, clamp.max, 0, &op); break;
    case Kind::kDiv: s = xnn_create_divide_nd_f32(clamp.min, clamp.max, 0, &op); break;
  }
  if (s != xnn_status_success) return nullptr;
  return std::make_unique<BinaryXnnOp>(std::move(kiln_op), n.describe(), kind, Operator(op), clamp.rest);
}

}  // namespace kiln::xnnpack
